import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createCampaign, csvOf, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, carriedCalls, getCampaign, runUntil, step, untilStatus, useSimulatedTime } from "./sim";
import { configureSink, newSink, received, sinkUrl, verifyReceived } from "./webhook-helpers";

let restore: () => void = () => undefined;
afterEach(() => restore());

const FAST = { calls_per_minute: 1_000_000, concurrent_max: 10 };

async function withEligibilityCheck(t: Tenant, url: string): Promise<string> {
  const res = await call("/api/v1/contact-policy", jsonInit("PUT", { eligibility_url: url }, t.auth));
  if (res.status !== 200) throw new Error(`policy PUT failed: ${res.status} ${await res.text()}`);
  return (await json<{ eligibility_secret: string }>(res)).eligibility_secret;
}

interface Asked {
  at: number;
  answered: number;
  phones: string[];
}

/** The checks a sink got, verified with the policy's secret. */
async function checks(sink: string, secret: string): Promise<Asked[]> {
  return (await received(sink)).map((r) => {
    const message = verifyReceived(secret, r) as { type: string; data: { contacts: { phone_number: string; campaign_id: string; attempt: number }[] } };
    expect(message.type).toBe("contact.eligibility");
    return { at: r.at, answered: r.answered, phones: message.data.contacts.map((c) => c.phone_number) };
  });
}

/** Nobody is dialled unchecked: each call follows a 2xx check that asked about its number. */
function expectEveryCallChecked(calls: { to: string; created_at: number }[], asked: Asked[]) {
  for (const dialled of calls) {
    const before = asked.filter((a) => a.at <= dialled.created_at && a.phones.includes(dialled.to));
    expect(before.at(-1)?.answered, `${dialled.to} dialled at ${dialled.created_at} without a good check`).toBe(200);
  }
}

describe("the eligibility check while dialling", () => {
  it("dials only approved contacts, cancels a refused one as ineligible, and asks again about one left out", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const sink = newSink("eligibility");
    const secret = await withEligibilityCheck(t, sinkUrl(sink));
    const [refused, omitted] = ["+15550100001", "+15550100002"];
    await configureSink(sink, { status: 200, eligibility: { refuse: [refused], omit: [omitted], reason: "Account in collections hold" } });
    const { id } = await createCampaign(t, csvOf(6), { max_concurrent_calls: "10", retries_per_contact: "0" });
    expect((await lifecycle(t, id, "start")).status).toBe(200);

    for (let i = 0; i < 5; i++) await step(t, [id]);
    let calls = await carriedCalls(t);
    expect(calls.map((c) => c.to).sort()).toEqual(["+15550100000", "+15550100003", "+15550100004", "+15550100005"]);
    const waiting = (await allContacts(t, id)).find((c) => c.phone_number === omitted);
    expect(waiting).toMatchObject({ status: "pending", attempts: 0 });

    const released = Date.now();
    await configureSink(sink, { status: 200, eligibility: { refuse: [refused] } });
    await runUntil(t, [id], untilStatus("completed"));
    calls = await carriedCalls(t);
    expect(calls.map((c) => c.to).sort()).toEqual(["+15550100000", "+15550100002", "+15550100003", "+15550100004", "+15550100005"]);
    expect(calls.find((c) => c.to === omitted)?.created_at).toBeGreaterThanOrEqual(released);

    const contacts = await allContacts(t, id);
    expect(contacts.find((c) => c.phone_number === refused)).toMatchObject({
      status: "cancelled",
      outcome: "ineligible",
      last_error: "Account in collections hold",
      attempts: 0,
    });
    const csv = await (await call(`/api/v1/campaigns/${id}/contacts.csv`, { headers: t.auth })).text();
    expect(csv.split("\n").find((line) => line.includes(refused))).toContain(`${refused},cancelled,ineligible,0,Account in collections hold,`);
    const asked = await checks(sink, secret);
    // The refused contact was asked about once; the left-out one until it was answered.
    expect(asked.filter((a) => a.phones.includes(refused))).toHaveLength(1);
    expect(asked.filter((a) => a.phones.includes(omitted)).length).toBeGreaterThanOrEqual(2);
    expectEveryCallChecked(calls, asked);
    const view = await getCampaign(t, id);
    expect(view.stats).toMatchObject({ cancelled: 1, pending: 0 });
  });

  it("dials nobody while the endpoint is down, says why, backs off, and dials once it answers", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const sink = newSink("eligibility-down");
    const secret = await withEligibilityCheck(t, sinkUrl(sink));
    const upAt = Date.now() + 90_000;
    await configureSink(sink, { status: 503, until: upAt, then_status: 200, eligibility: {} });
    const { id } = await createCampaign(t, csvOf(3), { max_concurrent_calls: "5", retries_per_contact: "0" });
    await lifecycle(t, id, "start");

    for (let i = 0; i < 3; i++) await step(t, [id]);
    expect(await carriedCalls(t)).toEqual([]);
    const view = await getCampaign(t, id);
    expect(view.status).toBe("running");
    expect(view.status_reason).toMatch(/^Waiting: the eligibility check failed \(127\.0\.0\.1:8787: HTTP 503\); 3 contacts wait and it is asked again at /);
    expect((await allContacts(t, id)).every((c) => c.status === "pending" && c.next_attempt_at !== null)).toBe(true);

    await runUntil(t, [id], untilStatus("completed"));
    const asked = await checks(sink, secret);
    const failedAt = asked.filter((a) => a.answered === 503).map((a) => a.at);
    // Backoff: 5 s, then 15 s, then 60 s between the failed checks.
    expect(failedAt.slice(1).map((at, i) => Math.round((at - (failedAt[i] as number)) / 1000))).toEqual([5, 15, 60].slice(0, failedAt.length - 1));
    const calls = await carriedCalls(t);
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.created_at >= upAt)).toBe(true);
    expectEveryCallChecked(calls, asked);
    expect((await getCampaign(t, id)).status_reason).toBeNull();
  });

  it("does not follow a redirect and dials nobody; a malformed answer dials nobody either", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const [sink, target] = [newSink("eligibility-redirect"), newSink("eligibility-target")];
    await withEligibilityCheck(t, sinkUrl(sink));
    await configureSink(sink, { status: 302, location: sinkUrl(target) });
    await configureSink(target, { status: 200, eligibility: {} });
    const { id } = await createCampaign(t, csvOf(2), { max_concurrent_calls: "5", retries_per_contact: "0" });
    await lifecycle(t, id, "start");
    for (let i = 0; i < 3; i++) await step(t, [id]);
    expect(await received(target)).toEqual([]);
    expect(await carriedCalls(t)).toEqual([]);
    expect((await getCampaign(t, id)).status_reason).toContain("HTTP 302: redirect to");

    await configureSink(sink, { status: 200, body: '{"results":[{"contact_id":"ctc_unknown","dial":true}]}' });
    vi.setSystemTime(Date.now() + 10 * 60_000);
    for (let i = 0; i < 3; i++) await step(t, [id]);
    expect(await carriedCalls(t)).toEqual([]);
    expect((await getCampaign(t, id)).status_reason).toContain("was not asked about");

    // Stop cancels the contacts waiting for the check.
    await lifecycle(t, id, "stop");
    expect((await allContacts(t, id)).map((c) => c.status)).toEqual(["cancelled", "cancelled"]);
  });
});
