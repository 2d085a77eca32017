import { afterEach, describe, expect, it, vi } from "vitest";
import { instantOfWallTime } from "../src/calling-window/zone-clock";
import { createCampaign, lifecycle, newTenant } from "./helpers";
import { allContacts, campaignStub, carriedCalls, getCampaign, runUntil, step, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
afterEach(() => restore());

// A Tuesday at least a week ahead of the real clock (an alarm set in the runtime's past would fire
// on its own), 11:30 in New York (inside 09:00–17:00) and so 08:30 in Los Angeles (before it).
const tuesday = new Date(Date.now() + 7 * 86_400_000);
while (tuesday.getUTCDay() !== 2) tuesday.setUTCDate(tuesday.getUTCDate() + 1);
const [year, month, day] = [tuesday.getUTCFullYear(), tuesday.getUTCMonth() + 1, tuesday.getUTCDate()];
const START = instantOfWallTime("America/New_York", year, month, day, 11 * 60 + 30);
const LA_OPENS = iso(instantOfWallTime("America/Los_Angeles", year, month, day, 9 * 60));
const NY_OPENS_NEXT_DAY = iso(instantOfWallTime("America/New_York", year, month, day + 1, 9 * 60));
const WINDOW = { calling_window_start: "09:00", calling_window_end: "17:00" };

// Los Angeles numbers first in the upload: waiting contacts must not hold up those behind them.
// The simulator answers numbers ending below 70 and reports 70–79 busy.
const CSV = ["phone_number", "+14155550201", "+14155550202", "+12125550101", "+12125550171", "+14155550203", "+12125550102"].join("\n");
const isLosAngeles = (phone: string) => phone.startsWith("+1415");

async function startCampaign(fields: Record<string, string> = {}) {
  restore = useSimulatedTime(START);
  const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
  const { id } = await createCampaign(t, CSV, { ...WINDOW, max_concurrent_calls: "5", ...fields });
  expect((await lifecycle(t, id, "start")).status).toBe(200);
  return { t, id };
}

describe("dispatch inside calling windows (simulated time)", () => {
  it("dials the open zone at once, holds the closed one with a status_reason until it opens, and a retry due after closing waits for the next day", async () => {
    const { t, id } = await startCampaign({ retries_per_contact: "1", retry_delay_seconds: "25200" });
    await step(t, [id]);

    // New York is open: its three contacts are dialled in the first tick, though they come after Los Angeles in the CSV.
    const first = await allContacts(t, id);
    for (const contact of first) {
      if (isLosAngeles(contact.phone_number)) expect(contact, contact.phone_number).toMatchObject({ status: "pending", attempts: 0 });
      else expect(contact.attempts, contact.phone_number).toBe(1);
    }
    expect((await campaignStub(id).inspect(id)).originations).toEqual([START, START, START]);

    // While nothing else can be dialled, the campaign says who waits and when the window opens, and sleeps until then.
    const [waiting] = await runUntil(t, [id], (c) => c.status_reason !== null);
    expect(waiting?.status_reason).toBe(`3 contacts wait for their calling window; the next opens at ${LA_OPENS}.`);
    expect(waiting?.status).toBe("running");
    const pendingLa = (await allContacts(t, id)).filter((c) => isLosAngeles(c.phone_number));
    for (const contact of pendingLa) expect((contact as unknown as { next_attempt_at: string }).next_attempt_at).toBe(`${LA_OPENS.slice(0, -1)}.000Z`);
    await runUntil(t, [id], (c) => c.stats.originated! + c.stats.connected! === 0);
    // Once the last New York call's housekeeping is done, the next alarm is the opening itself.
    for (let ticks = 0; (await campaignStub(id).inspect(id)).alarm !== Date.parse(LA_OPENS); ticks++) {
      expect(ticks, "ticks spent while waiting").toBeLessThan(3);
      await step(t, [id]);
    }
    expect((await campaignStub(id).inspect(id)).originations).toHaveLength(3);

    // Los Angeles is dialled when its window opens, not before.
    await runUntil(t, [id], (c) => c.stats.completed === 5);
    const originations = (await campaignStub(id).inspect(id)).originations;
    expect(originations.slice(3).map(iso)).toEqual([LA_OPENS, LA_OPENS, LA_OPENS]);

    // The busy New York contact's retry falls due at 18:30 there, after closing: it waits for 09:00 the next day.
    const [retryWaits] = await runUntil(t, [id], (c) => c.status_reason?.includes(NY_OPENS_NEXT_DAY) ?? false);
    expect(retryWaits?.status_reason).toBe(`1 contact waits for their calling window; the next opens at ${NY_OPENS_NEXT_DAY}.`);
    const [done] = await runUntil(t, [id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ total: 6, completed: 5, failed: 1, pending: 0, cancelled: 0 });
    expect(done?.status_reason).toBeNull();
    const all = (await campaignStub(id).inspect(id)).originations;
    expect(all.map(iso).at(-1)).toBe(NY_OPENS_NEXT_DAY);
    const busy = (await allContacts(t, id)).find((c) => c.phone_number === "+12125550171");
    expect(busy).toMatchObject({ status: "failed", outcome: "busy", attempts: 2 });
  });

  it("thousands of waiting contacts ahead in the upload delay the open ones by no simulated time", async () => {
    restore = useSimulatedTime(START);
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    const lines = ["phone_number"];
    for (let i = 0; i < 2_500; i++) lines.push(`+1415${String(2_000_000 + i).padStart(7, "0")}`);
    lines.push("+12125550101", "+12125550102");
    const { id } = await createCampaign(t, lines.join("\n"), { ...WINDOW, max_concurrent_calls: "5" });
    await lifecycle(t, id, "start");
    const [dialled] = await runUntil(t, [id], (c) => c.stats.originated! + c.stats.connected! + c.stats.completed! === 2, 5);
    expect(dialled?.stats.pending).toBe(2_500);
    expect((await campaignStub(id).inspect(id)).originations).toEqual([START, START]);
    const [waiting] = await runUntil(t, [id], (c) => c.status_reason !== null);
    expect(waiting?.status_reason).toBe(`2500 contacts wait for their calling window; the next opens at ${LA_OPENS}.`);
  });

  it("stop cancels the contacts that wait for their window; none is dialled later", async () => {
    const { t, id } = await startCampaign();
    await runUntil(t, [id], (c) => c.status_reason !== null);
    expect((await lifecycle(t, id, "stop")).status).toBe(200);
    await runUntil(t, [id], (c) => c.stats.originated! + c.stats.connected! === 0);
    for (let i = 0; i < 3; i++) await step(t, [id]);
    // Nothing is left to wake for; even past the opening, no one is dialled.
    vi.setSystemTime(Date.parse(LA_OPENS) + 60_000);
    await step(t, [id]);
    const view = await getCampaign(t, id);
    expect(view).toMatchObject({ status: "completed", status_reason: null, stats: { total: 6, completed: 2, failed: 1, cancelled: 3, pending: 0 } });
    const contacts = await allContacts(t, id);
    for (const contact of contacts.filter((c) => isLosAngeles(c.phone_number))) expect(contact).toMatchObject({ status: "cancelled", attempts: 0 });
    expect((await carriedCalls(t)).filter((call) => isLosAngeles(call.to))).toEqual([]);
    expect((await campaignStub(id).inspect(id)).originations).toHaveLength(3);
  });
});
