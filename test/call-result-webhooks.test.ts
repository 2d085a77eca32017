import { afterEach, describe, expect, it } from "vitest";
import { call, createCampaign, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";
import { campaignStub, carriedCalls, runUntil, step, useSimulatedTime } from "./sim";
import { createEndpoint, newSink, type ReceivedMessage, runCampaignOutbox, sinkUrl, verifiedMessages } from "./webhook-helpers";

let restore: () => void = () => undefined;
afterEach(() => restore());

const HOUR = 3_600_000;
const FAST = { calls_per_minute: 1_000_000, concurrent_max: 10 };
// The simulator answers numbers whose last two digits are below 70.
const ANSWERED = ["+14155550300", "+14155550301"];

interface AnswerListing {
  answers: Record<string, string>[];
  cursor: string;
}

const listAnswers = async (t: Tenant, after?: string) =>
  call(`/simulator/providers/${t.providerId}/answers${after === undefined ? "" : `?after=${after}`}`, { headers: t.auth });

/** A started campaign stepped until every call is connected and has fetched its answer document. */
async function connectedCampaign(t: Tenant, phones: string[]) {
  const { id } = await createCampaign(t, `phone_number,first_name\n${phones.map((p, i) => `${p},P${i}`).join("\n")}\n`);
  expect((await lifecycle(t, id, "start")).status).toBe(200);
  await runUntil(t, [id], (c) => c.stats.connected === phones.length);
  for (let steps = 0; (await carriedCalls(t)).some((c) => !c.answer_doc); steps++) {
    expect(steps, "steps until every answer document was fetched").toBeLessThan(20);
    await step(t, [id]);
  }
  return id;
}

/** Each call's result_url, as the answer documents handed them to the agents, by phone number. */
async function resultUrls(t: Tenant): Promise<Map<string, string>> {
  const listing = await json<AnswerListing>(await listAnswers(t));
  return new Map(listing.answers.map((a) => [a.phone_number ?? "", a.result_url ?? ""]));
}

async function postResult(resultUrl: string, body: Record<string, unknown>) {
  const url = new URL(resultUrl);
  const res = await call(`${url.pathname}${url.search}`, jsonInit("POST", body));
  const contact = await json(res);
  expect(res.status, JSON.stringify(contact)).toBe(200);
  return contact;
}

const resultMessages = (messages: ReceivedMessage[]) => messages.filter((m) => m.type === "contact.result");

describe("contact.result webhooks", () => {
  it("a stored result sends one contact.result with the contact view; a later result for the call sends another with the new result", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const sink = newSink("results");
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    const id = await connectedCampaign(t, ANSWERED);
    const url = (await resultUrls(t)).get(ANSWERED[0] as string) as string;

    const first = await postResult(url, { disposition: "interested", summary: "Wants a demo.", data: { seats: 5 } });
    await runCampaignOutbox(id, Date.now() + HOUR);
    const afterFirst = resultMessages(await verifiedMessages(sink, endpoint.secret));
    expect(afterFirst).toHaveLength(1);
    // The contact view the result route answered, as of the result.
    expect(afterFirst[0]?.data).toEqual({ ...first, updated_at: afterFirst[0]?.timestamp });
    expect(afterFirst[0]?.data).toMatchObject({ campaign_id: id, phone_number: ANSWERED[0], result: { disposition: "interested", summary: "Wants a demo." } });

    const second = await postResult(url, { disposition: "not_interested" });
    await runCampaignOutbox(id, Date.now() + HOUR);
    const afterSecond = resultMessages(await verifiedMessages(sink, endpoint.secret));
    expect(afterSecond).toHaveLength(2);
    expect(afterSecond[0]?.id).toBe(afterFirst[0]?.id);
    expect(afterSecond[1]?.id).not.toBe(afterFirst[0]?.id);
    expect(afterSecond[1]?.data).toEqual({ ...second, updated_at: afterSecond[1]?.timestamp });
    expect(afterSecond[1]?.data).toMatchObject({ phone_number: ANSWERED[0], result: { disposition: "not_interested", summary: null } });
    // The other contact reported nothing, so nothing was sent about it.
    expect(afterSecond.every((m) => m.data.phone_number === ANSWERED[0])).toBe(true);
  });

  it("writes nothing to the outbox for results of an account without endpoints", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const id = await connectedCampaign(t, ANSWERED);
    for (const url of (await resultUrls(t)).values()) await postResult(url, { disposition: "interested" });
    await runCampaignOutbox(id, Date.now() + HOUR);
    expect(await campaignStub(id).webhookOutbox({ settle: true })).toMatchObject({ messages: 0, deliveries: 0, in_flight: 0, sent: 0 });
  });
});

describe("GET /simulator/providers/{id}/answers", () => {
  it("lists each answer document once across reads from its cursor, and only to the provider's account", async () => {
    restore = useSimulatedTime();
    const t = await newTenant(FAST);
    const first = await json<AnswerListing>(await listAnswers(t));
    expect(first.answers).toEqual([]);
    const id = await connectedCampaign(t, ANSWERED);
    const second = await json<AnswerListing>(await listAnswers(t, first.cursor));
    expect(second.answers.map((a) => a.phone_number).sort()).toEqual(ANSWERED);
    expect(second.answers.every((a) => a.campaign_id === id && a.call_id?.startsWith("call_") && a.result_url?.includes("token="))).toBe(true);
    expect((await json<AnswerListing>(await listAnswers(t, second.cursor))).answers).toEqual([]);

    expect((await listAnswers(t, "1.2")).status).toBe(400);
    const stranger = await newTenant();
    expect((await listAnswers({ ...stranger, providerId: t.providerId })).status).toBe(404);
    expect((await listAnswers({ ...t, auth: {} })).status).toBe(401);
  });
});
