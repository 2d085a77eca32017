import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { judgeRecentDials } from "../src/campaign-object/dial/failure-breaker";
import type { DialEnding } from "../src/campaign-object/storage/dial-endings";
import { call, createCampaign, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";
import { campaignStub, getCampaign, runUntil, step, useSimulatedTime } from "./sim";
import { createEndpoint, newSink, runCampaignOutbox, sinkUrl, verifiedMessages } from "./webhook-helpers";

let restore: () => void = () => undefined;
afterEach(() => restore());

const ending = (outcome: string, lastError: string | null = null): DialEnding => ({ outcome, lastError: lastError ?? outcome });
const times = (n: number, e: DialEnding) => Array.from({ length: n }, () => e);
const failed = (error = "SIP 503") => ending("failed", error);

describe("judgeRecentDials", () => {
  const on = { pauseOnFailureRate: 0.8, failureWindow: 20 };
  it.each([
    ["no dials", [], on, false],
    ["a window not yet full, every dial failed", times(19, failed()), on, false],
    ["exactly the share: 16 of 20 failed", [...times(4, ending("answered")), ...times(16, failed())], on, true],
    ["one short of the share: 15 of 20", [...times(5, ending("answered")), ...times(15, failed())], on, false],
    ["timeouts count as carrier trouble", [...times(4, ending("answered")), ...times(16, ending("timeout"))], on, true],
    ["busy and no-answer are people, not the carrier", [...times(10, ending("busy")), ...times(10, ending("no_answer"))], on, false],
    ["invalid numbers are the list's fault, not the carrier's", times(20, ending("invalid_number")), on, false],
    ["only the latest window counts: old failures then 20 answers", [...times(50, failed()), ...times(20, ending("answered"))], on, false],
    ["failures in the latest window after old answers", [...times(50, ending("answered")), ...times(20, failed())], on, true],
    ["off (null) never trips", times(500, failed()), { pauseOnFailureRate: null, failureWindow: 20 }, false],
    ["a rate of 1 needs every dial failed", [ending("busy"), ...times(4, failed())], { pauseOnFailureRate: 1, failureWindow: 5 }, false],
    ["a rate of 1, every dial failed", times(5, failed()), { pauseOnFailureRate: 1, failureWindow: 5 }, true],
    ["the smallest rate: 1 of 20", [...times(19, ending("answered")), failed()], { pauseOnFailureRate: 0.05, failureWindow: 20 }, true],
    [
      "0.3 of 10 is 3 dials, not a float above it",
      [...times(7, ending("answered")), ...times(3, failed())],
      { pauseOnFailureRate: 0.3, failureWindow: 10 },
      true,
    ],
  ] as const)("%s", (_name, endings, settings, trips) => {
    expect(judgeRecentDials(endings, settings).trip).toBe(trips);
  });

  it("names the share and the most common error (a tie goes to the latest)", () => {
    const endings = [...times(2, ending("answered")), ...times(3, failed("SIP 500")), ...times(8, failed("SIP 503")), ...times(7, failed("SIP 404"))];
    const verdict = judgeRecentDials(endings, { pauseOnFailureRate: 0.8, failureWindow: 20 });
    expect(verdict).toMatchObject({ trip: true, failures: 18, share: 0.9, commonError: "SIP 503" });
    if (!verdict.trip) return;
    expect(verdict.reason).toContain("18 of the last 20 dials (90%)");
    expect(verdict.reason).toContain('"SIP 503"');
    const tied = judgeRecentDials([...times(3, failed("A")), ...times(3, failed("B"))], { pauseOnFailureRate: 1, failureWindow: 6 });
    expect(tied.trip && tied.commonError).toBe("B");
  });

  it("quotes a long carrier error shortened", () => {
    const verdict = judgeRecentDials(times(5, failed("x".repeat(5_000))), { pauseOnFailureRate: 1, failureWindow: 5 });
    expect(verdict.trip && verdict.reason.length).toBeLessThan(400);
  });
});

const FAST = { calls_per_minute: 1_000_000, concurrent_max: 10 };

/** Numbers the simulator fails (SIP 503: last two digits 90–94), each different. */
function failingCsv(count: number): string {
  const lines = ["phone_number"];
  for (let i = 0; i < count; i++) lines.push(`+1555${String(i).padStart(5, "0")}9${i % 5}`);
  return lines.join("\n");
}

async function dialsEnded(t: Tenant, id: string) {
  const { stats } = await getCampaign(t, id);
  return (stats.failed ?? 0) + (stats.completed ?? 0);
}

describe("the failure breaker on a running campaign", () => {
  it("pauses a campaign whose latest dials fail, says why, reports failure_rate, and a resume gets a fresh window", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const sink = newSink("breaker");
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink), events: ["campaign.paused", "campaign.resumed"] });
    const { id } = await createCampaign(t, failingCsv(30), { max_concurrent_calls: "1", failure_window: "5", pause_on_failure_rate: "0.8" });
    expect(await lifecycle(t, id, "start").then((r) => r.status)).toBe(200);

    const [paused] = await runUntil(t, [id], (c) => c.status === "paused", 200);
    // One call at a time: the fifth failure trips it before a sixth dial.
    expect(paused?.stats).toMatchObject({ failed: 5, pending: 25 });
    expect(paused?.status_reason).toContain("5 of the last 5 dials (100%) ended failed or timeout");
    expect(paused?.status_reason).toContain('"SIP 503"');

    // Resumed, it dials a fresh window of five before judging again, not one.
    expect(await lifecycle(t, id, "resume").then((r) => r.status)).toBe(200);
    expect((await getCampaign(t, id)).status_reason).toBeNull();
    const [again] = await runUntil(t, [id], (c) => c.status === "paused", 200);
    expect(again?.stats).toMatchObject({ failed: 10, pending: 20 });

    await runCampaignOutbox(id, Date.now() + 3_600_000);
    const messages = await verifiedMessages(sink, endpoint.secret);
    expect(messages.map((m) => [m.type, m.data.reason])).toEqual([
      ["campaign.paused", "failure_rate"],
      ["campaign.resumed", undefined],
      ["campaign.paused", "failure_rate"],
    ]);
    expect(messages[0]?.data.status_reason).toBe(paused?.status_reason);
  });

  it("keeps the recent dials across a restart of the object", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const { id } = await createCampaign(t, failingCsv(20), { max_concurrent_calls: "1", failure_window: "6", pause_on_failure_rate: "1" });
    await lifecycle(t, id, "start");
    for (let i = 0; i < 200 && (await dialsEnded(t, id)) < 3; i++) await step(t, [id]);
    expect(await dialsEnded(t, id)).toBe(3);
    await evictDurableObject(campaignStub(id));
    const [paused] = await runUntil(t, [id], (c) => c.status === "paused", 200);
    // Three before the restart and three after: a forgetful object would have dialled six more.
    expect(paused?.stats.failed).toBe(6);
  });

  it("does not pause for busy or unanswered people, and null turns it off", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const busy = ["phone_number", ...Array.from({ length: 8 }, (_, i) => `+1555${String(i).padStart(5, "0")}7${i}`)].join("\n");
    const people = await createCampaign(t, busy, { max_concurrent_calls: "2", failure_window: "5" });
    const off = await json<{ id: string; pause_on_failure_rate: number | null }>(
      await call(
        "/api/v1/campaigns",
        jsonInit(
          "POST",
          {
            name: "No breaker",
            agent_id: t.agentId,
            phone_number_id: t.numberId,
            max_concurrent_calls: 2,
            failure_window: 5,
            pause_on_failure_rate: null,
            contacts: failingCsv(8)
              .split("\n")
              .slice(1)
              .map((phone_number) => ({ phone_number })),
          },
          t.auth,
        ),
      ),
    );
    expect(off.pause_on_failure_rate).toBeNull();
    await lifecycle(t, people.id, "start");
    await lifecycle(t, off.id, "start");
    const done = await runUntil(t, [people.id, off.id], (c) => c.status === "completed", 400);
    expect(done.map((c) => c.stats.failed)).toEqual([8, 8]);
  });
});

describe("breaker settings at create and clone", () => {
  it("defaults to 0.8 of 20 and no ramp, shows them, and a clone copies or overrides them", async () => {
    const t = await newTenant();
    const plain = await createCampaign(t);
    expect(plain).toMatchObject({ pause_on_failure_rate: 0.8, failure_window: 20, ramp_up_seconds: 0 });
    const set = await createCampaign(t, undefined, { pause_on_failure_rate: "0.5", failure_window: "50", ramp_up_seconds: "120" });
    expect(set).toMatchObject({ pause_on_failure_rate: 0.5, failure_window: 50, ramp_up_seconds: 120 });
    const fetched = await json(await call(`/api/v1/campaigns/${set.id}`, { headers: t.auth }));
    expect(fetched).toMatchObject({ pause_on_failure_rate: 0.5, failure_window: 50, ramp_up_seconds: 120 });

    const copy = await json(await call(`/api/v1/campaigns/${set.id}/clone`, { method: "POST", headers: t.auth }));
    expect(copy).toMatchObject({ pause_on_failure_rate: 0.5, failure_window: 50, ramp_up_seconds: 120 });
    const changed = await json(
      await call(`/api/v1/campaigns/${set.id}/clone`, jsonInit("POST", { pause_on_failure_rate: null, failure_window: 5, ramp_up_seconds: 0 }, t.auth)),
    );
    expect(changed).toMatchObject({ pause_on_failure_rate: null, failure_window: 5, ramp_up_seconds: 0 });
    const offForm = await createCampaign(t, undefined, { pause_on_failure_rate: "off" });
    expect(offForm).toMatchObject({ pause_on_failure_rate: null });
  });

  it.each([
    ["pause_on_failure_rate", "0.01", /pause_on_failure_rate must be from 0\.05 to 1/],
    ["pause_on_failure_rate", "1.5", /pause_on_failure_rate must be from 0\.05 to 1/],
    ["pause_on_failure_rate", "lots", /pause_on_failure_rate must be a share from 0\.05 to 1/],
    ["failure_window", "4", /failure_window must be from 5 to 500/],
    ["failure_window", "501", /failure_window must be from 5 to 500/],
    ["ramp_up_seconds", "3601", /ramp_up_seconds must be from 0 to 3600/],
    ["ramp_up_seconds", "-1", /ramp_up_seconds must be from 0 to 3600/],
  ])("refuses %s=%s with a 400 naming it, at create and clone, creating nothing", async (field, value, sentence) => {
    const t = await newTenant();
    const form = new FormData();
    form.set("name", "Bad");
    form.set("agent_id", t.agentId);
    form.set("phone_number_id", t.numberId);
    form.set(field, value);
    form.set("contacts", new File([failingCsv(2)], "c.csv"));
    const res = await call("/api/v1/campaigns", { method: "POST", headers: t.auth, body: form });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(sentence);
    const source = await createCampaign(t);
    const cloned = await call(`/api/v1/campaigns/${source.id}/clone`, jsonInit("POST", { [field]: value }, t.auth));
    expect(cloned.status).toBe(400);
    expect(await cloned.text()).toMatch(sentence);
    const list = await json<{ total: number }>(await call("/api/v1/campaigns", { headers: t.auth }));
    expect(list.total).toBe(1);
  });
});
