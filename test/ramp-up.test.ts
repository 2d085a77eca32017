import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { rampedConcurrency } from "../src/campaign-object/dial/ramp-up";
import { createCampaign, lifecycle, newTenant } from "./helpers";
import { campaignStub, step, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

describe("rampedConcurrency", () => {
  const start = 1_000_000;
  it.each([
    ["no ramp: full at once", 10, 0, 0, { limit: 10, nextRiseAt: null }],
    ["a ramp of one call is no ramp", 1, 60, 0, { limit: 1, nextRiseAt: null }],
    ["at the start: 1", 10, 90, 0, { limit: 1, nextRiseAt: start + 10_000 }],
    ["just before the first step", 10, 90, 9_999, { limit: 1, nextRiseAt: start + 10_000 }],
    ["at the first step", 10, 90, 10_000, { limit: 2, nextRiseAt: start + 20_000 }],
    ["half way", 11, 100, 50_000, { limit: 6, nextRiseAt: start + 60_000 }],
    ["the last step", 10, 90, 89_999, { limit: 9, nextRiseAt: start + 90_000 }],
    ["at the end: full", 10, 90, 90_000, { limit: 10, nextRiseAt: null }],
    ["long after", 10, 90, 3_600_000, { limit: 10, nextRiseAt: null }],
    ["uneven steps round the rise up to the next whole ms", 4, 10, 0, { limit: 1, nextRiseAt: start + 3_334 }],
    ["a clock before the start counts as the start", 10, 90, -5_000, { limit: 1, nextRiseAt: start + 10_000 }],
  ])("%s", (_name, max, rampSeconds, elapsed, expected) => {
    expect(rampedConcurrency(max, rampSeconds, start, start + elapsed)).toEqual(expected);
  });

  it("rises by exactly one call at each announced time", () => {
    let at = start;
    const limits: number[] = [];
    for (let step = rampedConcurrency(7, 60, start, at); ; step = rampedConcurrency(7, 60, start, at)) {
      limits.push(step.limit);
      if (step.nextRiseAt === null) break;
      expect(rampedConcurrency(7, 60, start, step.nextRiseAt - 1).limit).toBe(step.limit);
      at = step.nextRiseAt;
    }
    expect(limits).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

/** Numbers the simulator holds for a long call (last two digits 99), each different. */
function longCallsCsv(count: number): string {
  const lines = ["phone_number"];
  for (let i = 0; i < count; i++) lines.push(`+1555${String(i).padStart(5, "0")}99`);
  return lines.join("\n");
}

const FAST = { calls_per_minute: 1_000_000, concurrent_max: 20 };

describe("ramp-up on a running campaign", () => {
  it("rises from 1 to max_concurrent_calls over ramp_up_seconds, keeps the ramp across a restart, and ramps again after a resume", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const { id } = await createCampaign(t, longCallsCsv(40), { max_concurrent_calls: "10", ramp_up_seconds: "90" });
    const startedAt = Date.now();
    await lifecycle(t, id, "start");
    const seen: [number, number][] = [];
    let evicted = false;
    while (Date.now() - startedAt < 120_000) {
      // What the alarms due at this instant left in flight (step then moves the clock on).
      const at = Date.now() - startedAt;
      await step(t, [id]);
      seen.push([at, (await campaignStub(id).inspect(id)).in_flight]);
      if (!evicted && Date.now() - startedAt > 40_000) {
        evicted = true;
        await evictDurableObject(campaignStub(id));
      }
    }
    for (const [elapsed, inFlight] of seen) expect(inFlight, `${inFlight} calls at ${elapsed} ms`).toBeLessThanOrEqual(1 + Math.floor((9 * elapsed) / 90_000));
    expect(seen[0]?.[1]).toBe(1);
    // Each step on time: two calls from 10 s, five from 40 s (after the restart too), all ten from 90 s.
    expect(seen.find(([elapsed]) => elapsed >= 10_000 && elapsed < 20_000)?.[1]).toBe(2);
    expect(seen.find(([elapsed]) => elapsed >= 50_000 && elapsed < 60_000)?.[1]).toBe(6);
    expect(seen.find(([elapsed]) => elapsed >= 90_000)?.[1]).toBe(10);

    await lifecycle(t, id, "pause");
    for (let i = 0; i < 100 && (await campaignStub(id).inspect(id)).in_flight > 0; i++) await step(t, [id]);
    await lifecycle(t, id, "resume");
    await step(t, [id]);
    expect((await campaignStub(id).inspect(id)).in_flight, "a resume starts again from one call").toBe(1);
  });
});
