import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { getAccountStub } from "../src/accounts/stub";
import { instantOfWallTime } from "../src/calling-window/zone-clock";
import { getLedgerShard, ledgerShardCount, pushContactPolicy } from "../src/contact-policy/ledger-stub";
import { type ContactPolicy, NO_CONTACT_POLICY } from "../src/contact-policy/policy";
import { createCampaign, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, campaignStub, carriedCalls, getCampaign, runUntil, step, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

const DAY = 86_400_000;
/** An answered simulator call lasts this long from its request (ring 5 s, talk 30 s). */
const ANSWERED_CALL_MS = 35_000;
// 09:00 in New York on a Monday a week ahead of the real clock, so no alarm lands in the runtime's past.
const monday = new Date(Date.now() + 7 * DAY);
while (monday.getUTCDay() !== 1) monday.setUTCDate(monday.getUTCDate() + 1);
const START = instantOfWallTime("America/New_York", monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), 9 * 60);

/** The way PUT /contact-policy stores a policy and hands it to the ledger (that route is built elsewhere). */
async function setPolicy(t: Tenant, rules: Partial<ContactPolicy>) {
  const policy: ContactPolicy = { ...NO_CONTACT_POLICY, ...rules, updatedAt: new Date().toISOString() };
  await runInDurableObject(getAccountStub(env, t.accountId), (_, state) => state.storage.put("contact-policy", policy));
  await pushContactPolicy(env, t.accountId, policy);
}

/** New York numbers (area code 212) the simulator answers (last two digits below 70). */
function newYorkCsv(count: number): string {
  const lines = ["phone_number"];
  for (let i = 0; i < count; i++) lines.push(`+1212555${String(Math.floor(i / 70) * 100 + (i % 70)).padStart(4, "0")}`);
  return lines.join("\n");
}

/** New York's date of an instant, as the per-day rule counts it. */
const newYorkDay = (ms: number) => new Date(ms).toLocaleDateString("en-CA", { timeZone: "America/New_York" });

/** Every number's dials obey the caps and never overlap: answered calls last 35 s, so dials of one number are at least that far apart. */
function expectWithinPolicy(calls: { to: string; created_at: number }[], perDay: number, rolling: { count: number; days: number }) {
  const byNumber = new Map<string, number[]>();
  for (const c of calls) byNumber.set(c.to, [...(byNumber.get(c.to) ?? []), c.created_at]);
  for (const [number, times] of byNumber) {
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!, `${number}: two calls at once`).toBeGreaterThanOrEqual(ANSWERED_CALL_MS);
    const days = new Map<string, number>();
    for (const t of times) days.set(newYorkDay(t), (days.get(newYorkDay(t)) ?? 0) + 1);
    for (const [day, n] of days) expect(n, `${number} on ${day}`).toBeLessThanOrEqual(perDay);
    for (const t of times) {
      const inWindow = times.filter((u) => u > t - rolling.days * DAY && u <= t).length;
      expect(inWindow, `${number}: dials in the ${rolling.days} days up to ${new Date(t).toISOString()}`).toBeLessThanOrEqual(rolling.count);
    }
  }
  return byNumber;
}

async function ledgerDials(t: Tenant) {
  const shards = await ledgerShardCount(env, t.accountId);
  const views = await Promise.all(Array.from({ length: shards }, (_, i) => getLedgerShard(env, t.accountId, i).inspect()));
  return views.flatMap((v) => v.dials);
}

const RULES = { maxAttempts: { count: 3, days: 2 }, maxAttemptsPerDay: 2 };

describe.each([
  ["the campaign object evicted mid-run", "evict"],
  ["a carrier request that timed out (its answer lost)", "timeout"],
] as const)("five campaigns sharing 200 numbers under one contact policy, with %s", (_name, fault) => {
  it("dials no number above its caps and never twice at once, and every contact is reached in the end", { timeout: 600_000 }, async () => {
    restore = useSimulatedTime(START);
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 100 });
    await setPolicy(t, RULES);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createCampaign(t, newYorkCsv(200), { name: `Shared ${i}`, max_concurrent_calls: "20" })).id);
    const started = await Promise.all(ids.map((id) => lifecycle(t, id, "start")));
    expect(started.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

    await runUntil(t, ids, () => true, 1);
    for (let i = 0; i < 4; i++) await step(t, ids);
    const victim = ids[2] as string;
    if (fault === "evict") {
      expect((await campaignStub(victim).inspect(victim)).in_flight).toBeGreaterThan(0);
      await evictDurableObject(campaignStub(victim));
    } else {
      // What a carrier request that timed out leaves: attempts the carrier took, with no call id and the state unknown.
      await runInDurableObject(campaignStub(victim), (_, state) => {
        state.storage.sql.exec("UPDATE attempts SET call_id = NULL, carrier_ref = NULL, state = 'unknown', rank = 0 WHERE state != 'ended'");
        state.storage.sql.exec("UPDATE contacts SET call_id = NULL WHERE status IN ('originated', 'connected')");
      });
    }

    // Contacts held back by the policy wait, and the campaigns say so while nothing else can be dialled.
    const waiting = await runUntil(t, ids, (c) => c.status_reason?.includes("contact policy") ?? false);
    for (const view of waiting) {
      expect(view.status).toBe("running");
      expect(view.status_reason).toMatch(
        /^\d+ contacts? waits? for the account's contact policy; the next becomes eligible at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.$/,
      );
    }

    const done = await runUntil(t, ids, untilStatus("completed"), 5000);
    for (const view of done) expect(view.stats).toMatchObject({ total: 200, completed: 200, pending: 0, failed: 0, cancelled: 0 });
    const calls = await carriedCalls(t);
    expect(calls).toHaveLength(1000);
    const byNumber = expectWithinPolicy(calls, 2, RULES.maxAttempts);
    expect(byNumber.size).toBe(200);
    for (const id of ids)
      for (const contact of await allContacts(t, id)) expect(contact, contact.phone_number).toMatchObject({ attempts: 1, outcome: "answered" });

    // The ledger counted every carried dial once, and holds no number any more.
    const dials = await ledgerDials(t);
    const recent = calls.filter((c) => c.created_at > Date.now() - 2 * DAY - 3_600_000).length;
    expect(dials.filter((d) => d.state !== "reserved")).toHaveLength(dials.length);
    expect(dials.length).toBeGreaterThanOrEqual(recent);
    expect(dials.every((d) => d.state === "ended")).toBe(true);
    for (const id of ids) expect((await campaignStub(id).inspect(id)).contact_ledger.open_reservations).toBe(0);
  });
});

describe("contact policy changes", () => {
  it("a change applies from the next dial, and null clears a rule", { timeout: 120_000 }, async () => {
    restore = useSimulatedTime(START);
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    // Busy numbers (70–79): each contact is dialled, then retried a minute later, twice.
    const csv = ["phone_number", "+12125550171", "+12125550172"].join("\n");
    const { id } = await createCampaign(t, csv, { retries_per_contact: "2", retry_delay_seconds: "60", max_concurrent_calls: "5" });
    await lifecycle(t, id, "start");
    for (let i = 0; (await carriedCalls(t)).length < 2; i++) {
      expect(i, "steps until both first dials").toBeLessThan(20);
      await step(t, [id]);
    }
    await runUntil(t, [id], (c) => c.stats.pending === 2);
    expect((await carriedCalls(t)).length).toBe(2);

    // A per-day cap of 1 set now holds the retries: they wait for 00:00 in New York.
    await setPolicy(t, { maxAttemptsPerDay: 1 });
    const midnight = instantOfWallTime("America/New_York", monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate() + 1, 0);
    const [held] = await runUntil(t, [id], (c) => c.status_reason !== null);
    expect(held?.status_reason).toBe(
      `2 contacts wait for the account's contact policy; the next becomes eligible at ${new Date(midnight).toISOString().replace(".000Z", "Z")}.`,
    );
    expect((await carriedCalls(t)).length).toBe(2);

    // null clears the cap: after midnight both retries of each contact come a minute apart, on one day.
    await setPolicy(t, { maxAttemptsPerDay: null });
    const [done] = await runUntil(t, [id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ failed: 2, pending: 0 });
    const later = (await carriedCalls(t)).sort((a, b) => a.created_at - b.created_at).slice(2);
    expect(later).toHaveLength(4);
    for (const c of later) expect(c.created_at).toBeGreaterThanOrEqual(midnight);
    expect(new Set(later.map((c) => newYorkDay(c.created_at))).size).toBe(1);
    expect((await getCampaign(t, id)).status_reason).toBeNull();
  });

  it("stop cancels the contacts that wait for the policy; none is dialled later", { timeout: 120_000 }, async () => {
    restore = useSimulatedTime(START);
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    await setPolicy(t, { maxAttempts: { count: 1, days: 7 } });
    const first = await createCampaign(t, newYorkCsv(3), { name: "First" });
    await lifecycle(t, first.id, "start");
    await runUntil(t, [first.id], untilStatus("completed"));
    const second = await createCampaign(t, newYorkCsv(3), { name: "Second" });
    await lifecycle(t, second.id, "start");
    const [waiting] = await runUntil(t, [second.id], (c) => c.status_reason !== null);
    expect(waiting).toMatchObject({ status: "running", stats: { pending: 3 } });
    expect(waiting?.status_reason).toMatch(/^3 contacts wait for the account's contact policy/);
    expect((await lifecycle(t, second.id, "stop")).status).toBe(200);
    await step(t, [second.id]);
    expect(await getCampaign(t, second.id)).toMatchObject({ status: "completed", stats: { cancelled: 3, pending: 0 } });
    expect(await carriedCalls(t)).toHaveLength(3);
  });
});
