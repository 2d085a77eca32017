import { afterEach, describe, expect, it } from "vitest";
import { cancelDecision } from "../src/campaign-object/contact-cancels";
import { call, createCampaign, csvOf, json, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, type ContactView, carriedCalls, getCampaign, runUntil, step, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

const cancel = (t: Tenant, id: string, contactId: string) => call(`/api/v1/campaigns/${id}/contacts/${contactId}/cancel`, { method: "POST", headers: t.auth });

describe("cancelDecision", () => {
  it.each([
    ["pending", "cancel"],
    ["originated", "in_flight"],
    ["connected", "in_flight"],
    ["completed", "ended"],
    ["failed", "ended"],
    ["cancelled", "ended"],
  ] as const)("%s → %s", (status, decision) => expect(cancelDecision(status)).toBe(decision));
});

describe("POST /campaigns/{id}/contacts/{contact_id}/cancel", () => {
  it("cancels a pending contact of a draft campaign, and answers a second cancel unchanged", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(2));
    const [first] = await allContacts(t, id);
    const res = await cancel(t, id, first?.id ?? "");
    expect(res.status).toBe(200);
    expect(await json<ContactView>(res)).toMatchObject({ id: first?.id, status: "cancelled", outcome: "canceled", attempts: 0 });
    expect((await getCampaign(t, id)).stats).toMatchObject({ total: 2, pending: 1, cancelled: 1 });
    const again = await cancel(t, id, first?.id ?? "");
    expect(again.status).toBe(200);
    expect(await json<ContactView>(again)).toMatchObject({ status: "cancelled", outcome: "canceled" });
    expect((await getCampaign(t, id)).stats).toMatchObject({ pending: 1, cancelled: 1 });
  });

  it("404s an unknown contact or campaign", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(1));
    expect((await cancel(t, id, "ctc_nothing")).status).toBe(404);
    expect((await cancel(t, id, "ctc_0000000000000000000000ffff")).status).toBe(404);
    const [contact] = await allContacts(t, id);
    expect((await cancel(t, "cmp_nothing", contact?.id ?? "")).status).toBe(404);
    const other = await newTenant();
    expect((await cancel(other, id, contact?.id ?? "")).status).toBe(404);
  });

  it("refuses a contact in a call, leaves an ended one as it is, and stops a retry from being dialled (simulated time)", async () => {
    restore = useSimulatedTime(Date.now() + 7 * 86_400_000);
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    // 99: a long call; 70: busy, retried 600 s later; 00: answered at once.
    const { id } = await createCampaign(t, "phone_number\n+15550100099\n+15550100070\n+15550100000\n", {
      retries_per_contact: "1",
      retry_delay_seconds: "600",
    });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    const byPhone = async () => new Map((await allContacts(t, id)).map((c) => [c.phone_number, c]));
    await runUntil(t, [id], (c) => c.stats.completed === 1);
    let contacts = await byPhone();
    const long = contacts.get("+15550100099") as ContactView;
    const busy = contacts.get("+15550100070") as ContactView;
    const answered = contacts.get("+15550100000") as ContactView;
    expect(long.status).toMatch(/originated|connected/);
    const inCall = await cancel(t, id, long.id);
    expect(inCall.status).toBe(409);
    expect(await inCall.text()).toMatch(/in a call now/);

    expect(answered.status).toBe("completed");
    const ended = await cancel(t, id, answered.id);
    expect(ended.status).toBe(200);
    expect(await json<ContactView>(ended)).toMatchObject({ status: "completed", outcome: "answered" });

    await runUntil(t, [id], () => true);
    contacts = await byPhone();
    expect(contacts.get(busy.phone_number)).toMatchObject({ status: "pending", outcome: "busy", attempts: 1 });
    const retried = await cancel(t, id, busy.id);
    expect(retried.status).toBe(200);
    expect(await json<ContactView>(retried)).toMatchObject({ status: "cancelled", outcome: "canceled", attempts: 1, next_attempt_at: null });

    await runUntil(t, [id], untilStatus("completed"));
    await step(t, [id]);
    expect((await carriedCalls(t)).filter((c) => c.to === busy.phone_number)).toHaveLength(1);
    expect((await getCampaign(t, id)).stats).toMatchObject({ completed: 2, cancelled: 1, pending: 0 });
  });
});
