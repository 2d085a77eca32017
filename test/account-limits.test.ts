import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LEASE_TTL_MS } from "../src/accounts/account-do";
import { getAccountStub } from "../src/accounts/stub";
import { createCampaign, lifecycle, newTenant } from "./helpers";
import { allContacts, runUntil, step, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

const account = (id: string) => getAccountStub(env, id);

describe("AccountDO limits", () => {
  it("lets a slot lease lapse when its campaign stops renewing it", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 3 });
    const first = await account(t.accountId).settle(t.accountId, { campaignId: "cmp_gone", release: [], want: 3 });
    expect(first.leases).toHaveLength(3);
    const full = await account(t.accountId).settle(t.accountId, { campaignId: "cmp_other", release: [], want: 1 });
    expect(full.leases).toHaveLength(0);
    expect(full.blocked?.reason).toContain("concurrent call slots");
    // One lease is renewed; the other two lapse.
    vi.setSystemTime(Date.now() + LEASE_TTL_MS - 1_000);
    expect(await account(t.accountId).renewLeases([first.leases[0] as string])).toEqual([]);
    vi.setSystemTime(Date.now() + 2_000);
    const after = await account(t.accountId).settle(t.accountId, { campaignId: "cmp_other", release: [], want: 3 });
    expect(after.leases).toHaveLength(2);
    expect(await account(t.accountId).renewLeases(["call_unknown"])).toEqual(["call_unknown"]);
  });

  it("stops at daily_calls_max with a status_reason and carries on after midnight UTC", async () => {
    restore = useSimulatedTime(Date.UTC(2031, 0, 1, 22, 0, 0));
    const t = await newTenant({ calls_per_minute: 1_000_000, daily_calls_max: 2 });
    const { id } = await createCampaign(t, "phone_number\n+15550300001\n+15550300002\n+15550300003\n+15550300004\n");
    await lifecycle(t, id, "start");
    const [waiting] = await runUntil(t, [id], (c) => c.stats.completed === 2 && c.status_reason !== null);
    expect(waiting?.status_reason).toContain("daily_calls_max of 2");
    expect(waiting?.stats.pending).toBe(2);
    const [done] = await runUntil(t, [id], (c) => c.status === "completed");
    expect(done?.stats.completed).toBe(4);
    expect(new Date().getUTCDate()).toBe(2);
    const usage = await account(t.accountId).usage();
    expect(usage.calls_today).toBe(2);
  });

  it("stops dialing once daily talk minutes are used up", async () => {
    restore = useSimulatedTime(Date.UTC(2031, 0, 1, 10, 0, 0));
    const t = await newTenant({ calls_per_minute: 1_000_000, daily_minutes_max: 1 });
    const { id } = await createCampaign(t, "phone_number\n+15550300011\n+15550300012\n+15550300013\n", { max_concurrent_calls: "1" });
    await lifecycle(t, id, "start");
    // Each simulated answered call talks 30 s: after two, the minute is used up.
    const [waiting] = await runUntil(t, [id], (c) => c.status_reason?.includes("daily_minutes_max") ?? false);
    expect(waiting?.stats).toMatchObject({ completed: 2, pending: 1 });
    expect((await account(t.accountId).usage()).talk_seconds_today).toBe(60);
    const midnight = Date.UTC(2031, 0, 2);
    while (Date.now() < midnight) {
      await step(t, [id]);
      if (Date.now() < midnight) expect((await allContacts(t, id)).filter((c) => c.attempts > 0)).toHaveLength(2);
    }
    // A new UTC day brings new minutes: the last contact is dialled.
    const [done] = await runUntil(t, [id], (c) => c.status === "completed");
    expect(done?.stats.completed).toBe(3);
  });

  it("a calls_per_minute of 0 blocks dialing and says so, without failing the campaign", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 0 });
    const { id } = await createCampaign(t, "phone_number\n+15550300021\n");
    await lifecycle(t, id, "start");
    const [waiting] = await runUntil(t, [id], (c) => c.status_reason !== null);
    expect(waiting).toMatchObject({ status: "running", stats: { pending: 1 } });
    expect(waiting?.status_reason).toContain("calls_per_minute is 0");
  });
});
