import { afterEach, describe, expect, it } from "vitest";
import { splitExpired } from "../src/campaign-object/dial/expiry-rules";
import { readExpiresAt } from "../src/uploads/expires-at";
import { call, createCampaign, jsonInit, lifecycle, newTenant, postCampaign } from "./helpers";
import { allContacts, carriedCalls, getCampaign, runUntil, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

// A week ahead of the real clock (an alarm set in the runtime's past would fire on its own), at 20:00 UTC.
const START = (() => {
  const day = new Date(Date.now() + 7 * 86_400_000);
  day.setUTCHours(20, 0, 0, 0);
  return day.getTime();
})();
const iso = (ms: number) => new Date(ms).toISOString();
const secondsToFinish = async (t: Parameters<typeof getCampaign>[0], id: string) => {
  const view = (await getCampaign(t, id)) as unknown as { started_at: string; completed_at: string };
  return (Date.parse(view.completed_at) - Date.parse(view.started_at)) / 1000;
};

describe("expiry rules", () => {
  it.each([
    ["", null],
    ["2030-01-31T18:00:00Z", Date.UTC(2030, 0, 31, 18)],
    ["2030-01-31 20:00:00+02:00", Date.UTC(2030, 0, 31, 18)],
    ["2030-01-31", "problem"],
    ["tomorrow", "problem"],
    ["2030-02-31T18:00:00Z", "problem"],
    ["9999-12-31T23:59:59Z", "problem"],
  ])("%j → %s", (cell, expected) => {
    const read = readExpiresAt(cell);
    expect(read !== null && typeof read === "object" ? "problem" : read).toBe(expected);
  });

  it("splits due contacts at the instant of expiry, keeping their order", () => {
    const contacts = [{ expires_at: null }, { expires_at: 100 }, { expires_at: 101 }, { expires_at: 50 }];
    expect(splitExpired(contacts, 100)).toEqual({ live: [{ expires_at: null }, { expires_at: 101 }], expired: [{ expires_at: 100 }, { expires_at: 50 }] });
  });
});

describe("expires_at in an upload", () => {
  it("refuses a value that is not an RFC 3339 time, naming the row, and creates nothing", async () => {
    const t = await newTenant();
    const res = await postCampaign(t, "phone_number,expires_at\n+15550100000,2030-01-31T18:00:00Z\n+15550100001,next week\n");
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/row 3 \("next week"\)/);
  });

  it("is stored per contact and is no custom field", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, "phone_number,name,expires_at\n+15550100000,A,2030-01-31T18:00:00Z\n+15550100001,B,\n");
    const contacts = (await allContacts(t, id)) as unknown as { custom_fields: object; expires_at: string | null }[];
    expect(contacts.map((c) => [c.custom_fields, c.expires_at])).toEqual([
      [{ name: "A" }, "2030-01-31T18:00:00.000Z"],
      [{ name: "B" }, null],
    ]);
  });
});

describe("expiry while dialling (simulated time)", () => {
  const start = async (csv: string, fields: Record<string, string> = {}) => {
    restore = useSimulatedTime(START);
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    const { id } = await createCampaign(t, csv, fields);
    return { t, id };
  };

  it("a pending contact past its expiry is never dialled: cancelled with outcome expired", async () => {
    const { t, id } = await start(`phone_number,expires_at\n+15550100000,${iso(START - 60_000)}\n+15550100001,${iso(START + 3_600_000)}\n`);
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    await runUntil(t, [id], untilStatus("completed"));
    const contacts = await allContacts(t, id);
    expect(contacts.map((c) => [c.phone_number, c.status, c.outcome, c.attempts])).toEqual([
      ["+15550100000", "cancelled", "expired", 0],
      ["+15550100001", "completed", "answered", 1],
    ]);
    expect((await carriedCalls(t)).map((c) => c.to)).toEqual(["+15550100001"]);
  });

  it("a contact waiting for a retry ends at its expiry, and the campaign does not wait for the retry", async () => {
    const { t, id } = await start(`phone_number,expires_at\n+15550100070,${iso(START + 120_000)}\n`, { retries_per_contact: "2", retry_delay_seconds: "600" });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    await runUntil(t, [id], untilStatus("completed"));
    const [contact] = await allContacts(t, id);
    expect([contact?.status, contact?.outcome, contact?.attempts]).toEqual(["cancelled", "expired", 1]);
    const seconds = await secondsToFinish(t, id);
    expect(seconds).toBeGreaterThanOrEqual(119);
    expect(seconds).toBeLessThan(200);
  });

  it("a contact waiting for a callback ends at its expiry", async () => {
    const { t, id } = await start(`phone_number,expires_at\n+15550100000,${iso(START + 600_000)}\n`);
    const [contact] = await allContacts(t, id);
    const scheduled = await call(`/api/v1/campaigns/${id}/contacts/${contact?.id}/callback`, jsonInit("POST", { callback_at: iso(START + 3_600_000) }, t.auth));
    expect(scheduled.status).toBe(200);
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    await runUntil(t, [id], untilStatus("completed"));
    const [after] = await allContacts(t, id);
    expect([after?.status, after?.outcome, after?.attempts]).toEqual(["cancelled", "expired", 0]);
    expect(await secondsToFinish(t, id)).toBeLessThan(700);
    expect(await carriedCalls(t)).toEqual([]);
  });

  it("a contact waiting for its calling window ends at its expiry, before the window opens", async () => {
    const { t, id } = await start(`phone_number,expires_at\n+15550100000,${iso(START + 3_600_000)}\n`, {
      calling_window_start: "09:00",
      calling_window_end: "17:00",
      calling_timezone: "UTC",
    });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    const [waiting] = await runUntil(t, [id], (c) => c.status_reason?.includes("window") ?? false);
    expect(waiting?.status).toBe("running");
    await runUntil(t, [id], untilStatus("completed"));
    const [after] = await allContacts(t, id);
    expect([after?.status, after?.outcome, after?.attempts]).toEqual(["cancelled", "expired", 0]);
    const seconds = await secondsToFinish(t, id);
    expect(seconds).toBeGreaterThanOrEqual(3_599);
    expect(seconds).toBeLessThan(3_700);
  });
});
