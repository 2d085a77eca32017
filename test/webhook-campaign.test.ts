import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ADMIN, call, createCampaign, csvOf, lifecycle, newTenant } from "./helpers";
import { allContacts, campaignStub, runUntil, simulatorShards, untilStatus, useSimulatedTime } from "./sim";
import {
  configureSink,
  createEndpoint,
  deliveries,
  newSink,
  received,
  runAccountOutbox,
  runCampaignOutbox,
  sinkUrl,
  verifiedMessages,
} from "./webhook-helpers";

let restore: () => void = () => undefined;
afterEach(() => restore());

const HOUR = 3_600_000;
const FAST = { calls_per_minute: 1_000_000, concurrent_max: 10 };

/** Numbers whose last two digits pick the simulator's outcome: 00 answered, 98 invalid (failed at once), 71 busy. */
const outcomesCsv = "phone_number,name\n+15550200000,Ann\n+15550200098,Bob\n+15550200071,Cy\n";

describe("campaign webhooks", () => {
  it("reports the campaign's status changes and every contact's terminal status, with the contact view", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const sink = newSink("campaign");
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    const { id } = await createCampaign(t, outcomesCsv, { max_concurrent_calls: "3" });
    await lifecycle(t, id, "start");
    await lifecycle(t, id, "pause");
    await lifecycle(t, id, "resume");
    await runUntil(t, [id], untilStatus("completed"));
    await runCampaignOutbox(id, Date.now() + HOUR);

    const messages = await verifiedMessages(sink, endpoint.secret);
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
    const campaignTypes = messages.filter((m) => m.type.startsWith("campaign.")).map((m) => [m.type, m.data.status]);
    expect(campaignTypes).toEqual([
      ["campaign.started", "running"],
      ["campaign.paused", "paused"],
      ["campaign.resumed", "running"],
      ["campaign.completed", "completed"],
    ]);
    const done = messages.find((m) => m.type === "campaign.completed");
    expect(done?.data).toMatchObject({ id, name: "Test campaign", status_reason: null, stats: { total: 3, completed: 1, failed: 2, pending: 0 } });
    expect(done?.data.completed_at).toBe(done?.timestamp);

    const contacts = await allContacts(t, id);
    const byContact = messages.filter((m) => m.type.startsWith("contact."));
    expect(byContact.map((m) => [m.type, m.data.phone_number]).sort()).toEqual([
      ["contact.completed", "+15550200000"],
      ["contact.failed", "+15550200071"],
      ["contact.failed", "+15550200098"],
    ]);
    for (const message of byContact) {
      const contact = contacts.find((c) => c.id === message.data.id);
      // The view the contacts route gives, as of the transition.
      expect(message.data).toEqual({ ...contact, updated_at: message.timestamp });
    }
    expect(byContact.find((m) => m.data.phone_number === "+15550200000")?.data).toMatchObject({
      row: 2,
      custom_fields: { name: "Ann" },
      status: "completed",
      outcome: "answered",
      attempts: 1,
    });

    const log = await deliveries(t, endpoint.id);
    expect(log.total).toBe(messages.length);
    expect(log.deliveries.every((d) => d.status === "delivered" && d.attempts === 1)).toBe(true);
    expect(log.deliveries.map((d) => d.message_id)).toEqual(
      messages
        .map((m) => m.id)
        .sort()
        .reverse(),
    );
  });

  it("sends each endpoint only the types it subscribes to, and nothing to another account's endpoints", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const other = await newTenant(FAST);
    const [campaignOnly, failedOnly, foreign] = [newSink("campaign-only"), newSink("failed-only"), newSink("foreign")];
    await createEndpoint(t, { url: sinkUrl(campaignOnly), events: ["campaign.started", "campaign.completed"] });
    await createEndpoint(t, { url: sinkUrl(failedOnly), events: ["contact.failed"] });
    await createEndpoint(other, { url: sinkUrl(foreign) });
    const { id } = await createCampaign(t, outcomesCsv, { max_concurrent_calls: "3" });
    await lifecycle(t, id, "start");
    await runUntil(t, [id], untilStatus("completed"));
    await runCampaignOutbox(id, Date.now() + HOUR);
    const types = async (sink: string) => (await received(sink)).map((r) => JSON.parse(r.body).type as string);
    expect(await types(campaignOnly)).toEqual(["campaign.started", "campaign.completed"]);
    expect(await types(failedOnly)).toEqual(["contact.failed", "contact.failed"]);
    expect(await received(foreign)).toEqual([]);
  });

  it("writes nothing to the outbox for an account without endpoints", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const { id } = await createCampaign(t, csvOf(20), { max_concurrent_calls: "5" });
    await lifecycle(t, id, "start");
    await runUntil(t, [id], untilStatus("completed"));
    await runCampaignOutbox(id, Date.now() + HOUR);
    expect(await campaignStub(id).webhookOutbox({ settle: true })).toMatchObject({ messages: 0, deliveries: 0, in_flight: 0, sent: 0 });
  });

  it("stop reports campaign.completed and one contact.cancelled per cancelled contact, also those still only in D1", async () => {
    restore = useSimulatedTime(Date.now() + HOUR);
    // calls_per_minute 0: the campaign reads 500 contacts into its working set but dials none.
    const t = await newTenant({ concurrent_max: 10 });
    const sink = newSink("stop");
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink), events: ["contact.cancelled", "campaign.completed"] });
    const { id } = await createCampaign(t, csvOf(1_234), { max_concurrent_calls: "5" });
    await lifecycle(t, id, "start");
    await runDurableObjectAlarm(campaignStub(id));
    expect((await campaignStub(id).inspect(id)).state?.cursor_seq).toBeGreaterThan(0);
    expect((await lifecycle(t, id, "stop")).status).toBe(200);
    const pending = await campaignStub(id).webhookOutbox();
    expect(pending.messages).toBeLessThan(1_234);
    expect(pending.backfill).not.toBeNull();
    await runCampaignOutbox(id, Date.now() + HOUR, 5_000);

    const messages = await verifiedMessages(sink, endpoint.secret);
    expect(messages.filter((m) => m.type === "campaign.completed")).toHaveLength(1);
    const cancelled = messages.filter((m) => m.type === "contact.cancelled");
    const contacts = await allContacts(t, id);
    expect(cancelled.map((m) => m.data.id).sort()).toEqual(contacts.map((c) => c.id).sort());
    expect(cancelled.every((m) => m.data.status === "cancelled" && m.data.campaign_id === id)).toBe(true);
    // Row 2 was in the working set; row 1,000 only in D1, read back by the backfill. Both carry named fields.
    for (const row of [2, 1_000]) {
      const sample = cancelled.find((m) => m.data.row === row);
      const listed = contacts.find((c) => c.row === row);
      expect(listed?.custom_fields).toEqual({ first_name: `Person ${row - 2}` });
      expect(sample?.data).toMatchObject({ phone_number: listed?.phone_number, custom_fields: listed?.custom_fields, attempts: 0, outcome: null });
    }
    expect(await campaignStub(id).webhookOutbox({ settle: true })).toMatchObject({ backfill: null, pending: 0 });
  });

  it("loses nothing when the object is evicted between a contact's terminal transition and its delivery", async () => {
    restore = useSimulatedTime(Date.now() + HOUR);
    const t = await newTenant(FAST);
    const sink = newSink("evicted");
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink), events: ["contact.completed"] });
    const { id } = await createCampaign(t, "phone_number\n+15550300001\n");
    await lifecycle(t, id, "start");
    const campaign = campaignStub(id);
    await runDurableObjectAlarm(campaign);
    // Only the simulator runs: its callbacks settle the contact, and no campaign alarm delivers the message.
    const shards = await simulatorShards(t);
    for (let i = 0; i < 50 && (await campaign.webhookOutbox()).messages === 0; i++) {
      await Promise.all(shards.map((s) => runDurableObjectAlarm(s)));
      await new Promise((r) => setTimeout(r, 5));
      const next = (await Promise.all(shards.map((s) => s.nextAlarm()))).filter((a): a is number => a !== null);
      if (next.length > 0) vi.setSystemTime(Math.max(Date.now(), Math.min(...next)));
    }
    expect((await campaign.webhookOutbox()).messages).toBe(1);
    expect(await received(sink)).toEqual([]);

    await evictDurableObject(campaign);
    await runCampaignOutbox(id, Date.now() + HOUR);
    const messages = await verifiedMessages(sink, endpoint.secret);
    expect(messages.map((m) => [m.type, m.data.phone_number, m.data.status])).toEqual([["contact.completed", "+15550300001", "completed"]]);
  });

  it("keeps pending deliveries when the campaign is deleted right after it ends", async () => {
    restore = useSimulatedTime(Date.now() + HOUR);
    const t = await newTenant();
    const sink = newSink("deleted");
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink), events: ["contact.cancelled", "campaign.completed"] });
    const { id } = await createCampaign(t, csvOf(30));
    await lifecycle(t, id, "stop");
    expect((await call(`/api/v1/campaigns/${id}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
    expect(await campaignStub(id).webhookOutbox()).toMatchObject({ messages: 0, alarm: null });
    await runAccountOutbox(t, Date.now() + HOUR);
    const messages = await verifiedMessages(sink, endpoint.secret);
    expect(messages.filter((m) => m.type === "contact.cancelled")).toHaveLength(30);
    expect(messages.filter((m) => m.type === "campaign.completed")).toHaveLength(1);
  });

  it("re-arms a finished campaign whose deliveries are still retrying when a restart lost its alarm", async () => {
    restore = useSimulatedTime(Date.now() + HOUR);
    const t = await newTenant();
    const sink = newSink("restart");
    await configureSink(sink, { status: 503 });
    await createEndpoint(t, { url: sinkUrl(sink), events: ["campaign.completed"] });
    const { id } = await createCampaign(t, csvOf(2));
    await lifecycle(t, id, "stop");
    await runCampaignOutbox(id, Date.now() + 60_000);
    const stub = campaignStub(id);
    expect((await stub.webhookOutbox()).pending).toBe(1);
    await runInDurableObject(stub, (_instance, state) => state.storage.deleteAlarm());
    await evictDurableObject(stub);
    expect((await stub.webhookOutbox()).alarm).toBeNull();
    expect((await call("/admin/v1/maintenance/rearm", { method: "POST", headers: ADMIN })).status).toBe(200);
    expect((await stub.webhookOutbox()).alarm).not.toBeNull();
    await configureSink(sink, { status: 200 });
    await runCampaignOutbox(id, Date.now() + 2 * HOUR);
    expect((await received(sink)).map((r) => r.answered).at(-1)).toBe(200);
  });
});
