import { afterEach, describe, expect, it } from "vitest";
import { call, createCampaign, json, lifecycle, newTenant } from "./helpers";
import { allContacts, runUntil, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

describe("a retry that falls due while every line is busy", () => {
  it("waits for the line without re-arming the alarm in the past, then dials", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    // One line: a busy number ends after 3 s (its retry falls due 60 s later), then a 305 s call holds the line past that.
    const { id } = await createCampaign(t, "phone_number\n+15550300070\n+15550300099\n", {
      max_concurrent_calls: "1",
      retries_per_contact: "1",
      retry_delay_seconds: "60",
    });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    // An alarm re-armed at its own due time would keep the simulated clock at 63 s and never finish.
    await runUntil(t, [id], untilStatus("completed"), 200);
    const view = await json<{ started_at: string; completed_at: string }>(await call(`/api/v1/campaigns/${id}`, { headers: t.auth }));
    const contacts = await allContacts(t, id);
    expect(contacts.map((c) => [c.phone_number, c.outcome, c.attempts])).toEqual([
      ["+15550300070", "busy", 2],
      ["+15550300099", "answered", 1],
    ]);
    // The retry went out when the long call freed the line (~308 s) and ended 3 s later.
    const seconds = (Date.parse(view.completed_at) - Date.parse(view.started_at)) / 1000;
    expect(seconds).toBeGreaterThan(305);
    expect(seconds).toBeLessThan(330);
  });
});
