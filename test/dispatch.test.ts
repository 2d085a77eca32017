import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { getAccountStub } from "../src/accounts/stub";
import { ADMIN, call, createCampaign, csvOf, jsonInit, lifecycle, newTenant } from "./helpers";
import { allContacts, campaignStub, carriedCalls, getCampaign, runUntil, step, untilStatus, useSimulatedTime } from "./sim";

const FAST = { calls_per_minute: 1_000_000 };
let restore: () => void = () => undefined;
afterEach(() => restore());

/** 300 numbers that the simulator answers (last two digits below 70). */
function answeredCsv(count: number, prefix: string): string {
  const lines = ["phone_number"];
  for (let i = 0; i < count; i++) lines.push(`+1555${prefix}${String(Math.floor(i / 70) * 100 + (i % 70)).padStart(4, "0")}`);
  return lines.join("\n");
}

/** Every simulator dialect; what differs is only where each carrier's wire differs. */
const DIALECTS = ["twilio", "plivo", "vobiz"] as const;
const WIRE = {
  // Twilio refuses 98 at REST (21211): 149 calls carried. Plivo and Vobiz accept it, then hang up with cause 2000.
  twilio: { carried: 149, failedError: "SIP 503", invalidError: /21211/, requests: { callback: 74 * 2 + 75, answer: 74 } },
  // Plivo: ring_url, machine_detection_url and hangup_url are callbacks; answer_url is the answer.
  plivo: {
    carried: 150,
    failedError: "Destination Out Of Service (2010)",
    invalidError: /^Invalid Destination Address \(2000\)$/,
    requests: { callback: 71 * 2 + 3 * 3 + 60 * 2 + 15 + 1, answer: 74 },
  },
  // Vobiz: ringing and the answer both come to answer_url; machine detection and hangup are callbacks.
  vobiz: {
    carried: 150,
    failedError: "Destination Out Of Service (2010)",
    invalidError: /^Invalid Destination Address \(2000\)$/,
    requests: { callback: 71 + 3 * 2 + 60 + 15 + 1, answer: 71 * 2 + 3 * 2 + 60 },
  },
} as const;

describe.each(DIALECTS)("dispatch through the simulator (%s)", (dialect) => {
  it("runs every outcome digit with retries 2 to the exact status, outcome and attempts", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ ...FAST, concurrent_max: 20 }, dialect);
    const { id } = await createCampaign(t, csvOf(100), { retries_per_contact: "2", retry_delay_seconds: "60", max_concurrent_calls: "20" });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    const [done] = await runUntil(t, [id], untilStatus("completed"));
    expect(done?.stats).toEqual({ total: 100, pending: 0, originated: 0, connected: 0, completed: 74, failed: 26, cancelled: 0, dispositions: {} });

    const contacts = await allContacts(t, id);
    const expected = (n: number): [string, string, number] => {
      if (n === 99) return ["completed", "answered", 1];
      if (n === 98) return ["failed", "invalid_number", 1];
      if (n >= 95) return ["completed", "voicemail", 1];
      if (n >= 90) return ["failed", "failed", 3];
      if (n >= 80) return ["failed", "no_answer", 3];
      if (n >= 70) return ["failed", "busy", 3];
      return ["completed", "answered", 1];
    };
    for (const contact of contacts) {
      const digits = Number(contact.phone_number.slice(-2));
      expect([contact.status, contact.outcome, contact.attempts], contact.phone_number).toEqual(expected(digits));
    }
    const wire = WIRE[dialect];
    expect(contacts.find((c) => c.phone_number.endsWith("91"))?.last_error).toBe(wire.failedError);
    expect(contacts.find((c) => c.phone_number.endsWith("98"))?.last_error).toMatch(wire.invalidError);
    const calls = await carriedCalls(t);
    expect(calls.length).toBe(wire.carried);
    expect(new Set(calls.map((c) => c.sid)).size).toBe(wire.carried);
    const { originations, carrier_requests } = await campaignStub(id).inspect(id);
    expect(originations.length).toBe(150);
    // Twilio is asked only for answered and completed: two callbacks per answered call (74), one per
    // busy, no-answer or failed dial (75), and it requests the answer URL once per answered call.
    // Plivo and Vobiz send what their wire sends (see WIRE).
    expect(carrier_requests).toEqual(wire.requests);
  });

  it("never exceeds the per-campaign or per-account cap: two campaigns of 300 at 5 on an account cap of 10", { timeout: 120_000 }, async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ ...FAST, concurrent_max: 10 }, dialect);
    const a = await createCampaign(t, answeredCsv(300, "02"), { max_concurrent_calls: "5" });
    const b = await createCampaign(t, answeredCsv(300, "03"), { max_concurrent_calls: "5" });
    await lifecycle(t, a.id, "start");
    await lifecycle(t, b.id, "start");
    const done = await runUntil(t, [a.id, b.id], untilStatus("completed"), 20_000);
    for (const view of done) expect(view.stats).toMatchObject({ total: 300, completed: 300 });

    const [ia, ib] = await Promise.all([campaignStub(a.id).inspect(a.id), campaignStub(b.id).inspect(b.id)]);
    expect(ia.state?.high_water).toBe(5);
    expect(ib.state?.high_water).toBe(5);
    const usage = await getAccountStub(env, t.accountId).usage();
    expect(usage.high_water).toBe(10);
    expect(usage.in_flight).toBe(0);
  });

  it("pause drains in-flight calls and dials nothing new until resume", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST, dialect);
    const { id } = await createCampaign(t, answeredCsv(20, "04"), { max_concurrent_calls: "5" });
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.stats.originated! + c.stats.connected! === 5);
    expect((await lifecycle(t, id, "pause")).status).toBe(200);
    const before = (await campaignStub(id).inspect(id)).originations.length;
    const drained = await runUntil(t, [id], (c) => c.stats.originated! + c.stats.connected! === 0);
    expect(drained[0]).toMatchObject({ status: "paused", stats: { completed: 5, pending: 15 } });
    for (let i = 0; i < 20; i++) await step(t, [id]);
    expect((await campaignStub(id).inspect(id)).originations.length).toBe(before);
    expect((await lifecycle(t, id, "resume")).status).toBe(200);
    const [done] = await runUntil(t, [id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ completed: 20, pending: 0 });
  });

  it("stop cancels pending contacts and still records in-flight outcomes", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST, dialect);
    const { id } = await createCampaign(t, answeredCsv(12, "05"), { max_concurrent_calls: "3", retries_per_contact: "1", retry_delay_seconds: "60" });
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.stats.connected === 3);
    const stopped = await lifecycle(t, id, "stop");
    expect(stopped.status).toBe(200);
    await runUntil(t, [id], (c) => c.stats.connected! + c.stats.originated! === 0);
    const final = await getCampaign(t, id);
    expect(final).toMatchObject({ status: "completed", stats: { total: 12, pending: 0, completed: 3, cancelled: 9 } });
    const contacts = await allContacts(t, id);
    expect(contacts.filter((c) => c.status === "completed").every((c) => c.outcome === "answered" && c.attempts === 1)).toBe(true);
    expect(contacts.filter((c) => c.status === "cancelled").every((c) => c.attempts === 0)).toBe(true);
  });

  it("holds the account cap while a paused campaign drains and another starts", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ ...FAST, concurrent_max: 5 }, dialect);
    const a = await createCampaign(t, answeredCsv(10, "06"), { max_concurrent_calls: "5" });
    const b = await createCampaign(t, answeredCsv(10, "07"), { max_concurrent_calls: "5" });
    await lifecycle(t, a.id, "start");
    await runUntil(t, [a.id], (c) => c.stats.connected === 5);
    await lifecycle(t, a.id, "pause");
    // The budget is free again, but a's five calls still hold the account's five slots.
    expect((await lifecycle(t, b.id, "start")).status).toBe(200);
    await step(t, [a.id, b.id]);
    const waiting = await getCampaign(t, b.id);
    expect(waiting.stats.originated! + waiting.stats.connected!).toBe(0);
    expect(waiting.status_reason).toContain("concurrent call slots");
    await runUntil(t, [a.id, b.id], (c) => (c.id === b.id ? c.status === "completed" : c.stats.connected === 0));
    const usage = await getAccountStub(env, t.accountId).usage();
    expect(usage.high_water).toBe(5);
  });
});

/** Pacing is the account's, not the carrier's: one dialect shows it. */
describe("pacing", () => {
  it("paces originations to calls_per_minute: never more in any 60 s, and close to it", { timeout: 60_000 }, async () => {
    restore = useSimulatedTime();
    const perMinute = 30;
    // Calls last 35 s, so 30 a minute needs about 18 at once: enough slots that pacing is what binds.
    const t = await newTenant({ concurrent_max: 40, calls_per_minute: perMinute });
    const a = await createCampaign(t, answeredCsv(45, "13"), { max_concurrent_calls: "20" });
    const b = await createCampaign(t, answeredCsv(45, "14"), { max_concurrent_calls: "20" });
    await lifecycle(t, a.id, "start");
    await lifecycle(t, b.id, "start");
    const waiting = await runUntil(t, [a.id], (c) => c.status_reason !== null);
    expect(waiting[0]?.status_reason).toContain(`calls_per_minute of ${perMinute}`);
    await runUntil(t, [a.id, b.id], untilStatus("completed"), 20_000);
    const [ia, ib] = await Promise.all([campaignStub(a.id).inspect(a.id), campaignStub(b.id).inspect(b.id)]);
    const times = [...ia.originations, ...ib.originations].sort((x, y) => x - y);
    expect(times).toHaveLength(90);
    // The (perMinute+1)th origination after any one is at least a minute later.
    for (let i = 0; i + perMinute < times.length; i++) expect(times[i + perMinute]! - times[i]!).toBeGreaterThanOrEqual(60_000);
    const rate = (times.length - 1) / ((times.at(-1)! - times[0]!) / 60_000);
    expect(rate).toBeGreaterThan(perMinute * 0.95);
    expect(rate).toBeLessThanOrEqual(perMinute);
  });
});

describe.each(DIALECTS)("crash recovery (%s)", (dialect) => {
  it("does not redial a call the carrier accepted before an eviction lost its record, and records its outcome", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST, dialect);
    const { id } = await createCampaign(t, answeredCsv(1, "11"));
    await lifecycle(t, id, "start");
    const stub = campaignStub(id);
    await runUntil(t, [id], (c) => c.stats.originated === 1);
    const { runInDurableObject, evictDurableObject } = await import("cloudflare:test");
    // The state storage would hold had the object died between the carrier's 201 and our write.
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("UPDATE attempts SET call_id = NULL, carrier_ref = NULL, state = 'dialing', rank = 0");
      state.storage.sql.exec("UPDATE contacts SET call_id = NULL");
    });
    await evictDurableObject(stub);
    const [done] = await runUntil(t, [id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ completed: 1, failed: 0 });
    const [contact] = await allContacts(t, id);
    expect(contact).toMatchObject({ status: "completed", outcome: "answered", attempts: 1 });
    const calls = (await carriedCalls(t)).filter((c) => c.to === contact?.phone_number);
    expect(calls).toHaveLength(1);
    expect(contact?.call_id).toBe(calls[0]?.sid);
  });
});

describe("scheduling and recovery", () => {
  it("starts a scheduled campaign at scheduled_at", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const at = Date.now() + 3_600_000;
    const { id } = await createCampaign(t, answeredCsv(2, "08"), { scheduled_at: new Date(at).toISOString() });
    await step(t, [id]);
    expect((await getCampaign(t, id)).status).toBe("scheduled");
    const [running] = await runUntil(t, [id], (c) => c.status !== "scheduled");
    expect(running?.status).toBe("running");
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    await runUntil(t, [id], untilStatus("completed"));
  });

  it("waits with a status_reason when a scheduled start has no budget, and starts when budget frees", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ ...FAST, concurrent_max: 5 });
    const blocker = await createCampaign(t, answeredCsv(1, "09"), { name: "Blocker", max_concurrent_calls: "5" });
    await lifecycle(t, blocker.id, "start");
    await lifecycle(t, blocker.id, "pause");
    await lifecycle(t, blocker.id, "resume");
    const { id } = await createCampaign(t, answeredCsv(2, "10"), { max_concurrent_calls: "5", scheduled_at: new Date(Date.now() + 60_000).toISOString() });
    const [waiting] = await runUntil(t, [id], (c) => c.status_reason !== null);
    expect(waiting).toMatchObject({ status: "scheduled" });
    expect(waiting?.status_reason).toContain('"Blocker"');
    await lifecycle(t, blocker.id, "pause");
    const [started] = await runUntil(t, [id], (c) => c.status !== "scheduled");
    expect(started).toMatchObject({ status: "running", status_reason: null });
  });

  it("releases every slot after a campaign completes and after a delete", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const { id } = await createCampaign(t, answeredCsv(4, "12"), { max_concurrent_calls: "2" });
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.stats.connected === 2);
    await lifecycle(t, id, "pause");
    expect((await call(`/api/v1/campaigns/${id}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
    const usage = await getAccountStub(env, t.accountId).usage();
    expect(usage.in_flight).toBe(0);
    await call(`/admin/v1/accounts/${t.accountId}`, jsonInit("PATCH", { concurrent_max: 10 }, ADMIN));
  });
});

describe("restart", () => {
  it("re-arms the timers of live campaigns that a restart lost", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const running = await createCampaign(t, answeredCsv(3, "15"));
    const scheduledAt = Date.now() + 600_000;
    const scheduled = await createCampaign(t, answeredCsv(1, "16"), { scheduled_at: new Date(scheduledAt).toISOString() });
    await lifecycle(t, running.id, "start");
    const { runInDurableObject, evictDurableObject } = await import("cloudflare:test");
    // What a `wrangler dev` restart can do: the objects come back without their alarms.
    for (const id of [running.id, scheduled.id]) {
      await runInDurableObject(campaignStub(id), (_, state) => state.storage.deleteAlarm());
      await evictDurableObject(campaignStub(id));
    }
    expect((await campaignStub(running.id).inspect(running.id)).alarm).toBeNull();
    const res = await call("/admin/v1/maintenance/rearm", { method: "POST", headers: ADMIN });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rearmed: number }).rearmed).toBeGreaterThanOrEqual(2);
    const armed = (await campaignStub(running.id).inspect(running.id)).alarm;
    expect(armed).not.toBeNull();
    expect(armed).toBeLessThanOrEqual(Date.now() + 1_000);
    expect((await campaignStub(scheduled.id).inspect(scheduled.id)).alarm).toBe(scheduledAt);
    await runUntil(t, [running.id], untilStatus("completed"));
  });
});
