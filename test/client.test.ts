import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError, type CampaignEvent, Edgedial, RateLimitError } from "../client/index";
import { BASE, csvOf, newTenant, type Tenant } from "./helpers";
import { carriedCalls, runUntil, step, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

const worker = (request: Request) => exports.default.fetch(request);
const clientFor = (t: Tenant, fetch = worker) => new Edgedial({ apiKey: t.key, baseUrl: BASE, fetch });

describe("Edgedial client", () => {
  it("covers accounts, agents and telephony", async () => {
    const t = await newTenant({ concurrent_max: 9 });
    const edgedial = clientFor(t);
    expect(await edgedial.callLimits.get()).toMatchObject({ concurrent_max: 9 });

    const agent = await edgedial.agents.create({ name: "Client agent", status: "active", stream_url: "wss://c.test/s" });
    expect((await edgedial.agents.get(agent.id)).name).toBe("Client agent");
    expect((await edgedial.agents.update(agent.id, { status: "paused" })).status).toBe("paused");
    const agents = await edgedial.agents.list({ limit: 1 });
    expect(agents).toMatchObject({ count: 1, total: 2, has_next: true, next_offset: 1 });
    expect(agents.raw.agents).toBe(agents.items);
    await edgedial.agents.delete(agent.id);
    await expect(edgedial.agents.get(agent.id)).rejects.toMatchObject({ status: 404, code: "not_found" });

    const provider = await edgedial.telephony.providers.create({ provider: "simulator", name: "Spare" });
    expect((await edgedial.telephony.providers.get(provider.id)).name).toBe("Spare");
    expect((await edgedial.telephony.providers.list()).total).toBe(2);
    const number = await edgedial.telephony.numbers.create({ e164: "+15550500001", credentials_id: provider.id, provider: "simulator" });
    expect((await edgedial.telephony.numbers.update(number.id, { inbound_enabled: false })).inbound_enabled).toBe(false);
    expect((await edgedial.telephony.numbers.get(number.id)).e164).toBe("+15550500001");
    expect((await edgedial.telephony.numbers.list()).total).toBe(2);
    await edgedial.telephony.numbers.delete(number.id);
    await edgedial.telephony.providers.delete(provider.id);
    expect((await edgedial.telephony.providers.list()).total).toBe(1);
  });

  it("creates campaigns from CSV text, a Blob and objects, and runs the lifecycle", async () => {
    const t = await newTenant();
    const edgedial = clientFor(t);
    const base = { agent_id: t.agentId, phone_number_id: t.numberId };
    const fromText = await edgedial.campaigns.create({ ...base, name: "Text", contacts: csvOf(3), max_concurrent_calls: 2 });
    expect(fromText).toMatchObject({ status: "draft", max_concurrent_calls: 2, stats: { total: 3 }, duplicates_skipped: 0 });
    const fromBlob = await edgedial.campaigns.create({ ...base, name: "Blob", contacts: new Blob([csvOf(2)]) });
    expect(fromBlob.stats.total).toBe(2);
    const at = new Date(Date.now() + 3_600_000);
    const fromObjects = await edgedial.campaigns.create({
      ...base,
      name: "Objects",
      scheduled_at: at,
      contacts: [{ phone_number: "+15550500010", tier: 1 }, { phone_number: "+15550500011" }],
    });
    expect(fromObjects).toMatchObject({ status: "scheduled", scheduled_at: at.toISOString(), stats: { total: 2 } });

    expect((await edgedial.campaigns.list({ status: "draft" })).total).toBe(2);
    expect((await edgedial.campaigns.get(fromText.id)).name).toBe("Text");
    expect((await edgedial.campaigns.start(fromText.id)).status).toBe("running");
    expect((await edgedial.campaigns.pause(fromText.id)).status).toBe("paused");
    expect((await edgedial.campaigns.resume(fromText.id)).status).toBe("running");
    const stopped = await edgedial.campaigns.stop(fromText.id);
    expect(stopped).toMatchObject({ status: "completed", stats: { cancelled: 3 } });
    const contacts = await edgedial.campaigns.listContacts(fromText.id, { status: "cancelled", limit: 2 });
    expect(contacts).toMatchObject({ count: 2, total: 3, has_next: true });
    expect(contacts.items[0]).toMatchObject({ row: 2, status: "cancelled", custom_fields: { first_name: "Person 0" } });
    expect((await edgedial.campaigns.listContacts(fromText.id, { page: 0 })).count).toBe(3);
    const { token } = await edgedial.campaigns.eventsToken(fromText.id);
    expect(token).toMatch(/^evt_/);
    await edgedial.campaigns.delete(fromBlob.id);
    await expect(edgedial.campaigns.get(fromBlob.id)).rejects.toBeInstanceOf(ApiError);
  });

  it("keeps the do-not-call list and clones campaigns", async () => {
    const t = await newTenant();
    const edgedial = clientFor(t);
    expect(await edgedial.dnc.add({ numbers: ["+15550100001", "nope"], reason: "asked" })).toEqual({
      added: 1,
      already_listed: 0,
      invalid: [{ row: 2, value: "nope" }],
    });
    expect(await edgedial.dnc.add({ csv: "phone_number\n415 555 0199\n+15550100001\n", reason: "by csv", default_country: "US" })).toEqual({
      added: 1,
      already_listed: 1,
      invalid: [],
    });
    expect(await edgedial.dnc.add({ csv: new Blob(["phone_number\n+15550100002\n"]) })).toMatchObject({ added: 1 });
    expect(await edgedial.dnc.get("+14155550199")).toMatchObject({ phone_number: "+14155550199", reason: "by csv" });
    const page = await edgedial.dnc.list({ prefix: "+1555", limit: 1 });
    expect(page).toMatchObject({ count: 1, total: 2, has_next: true });
    expect(page.raw.numbers[0]?.phone_number).toBe("+15550100001");

    const source = await edgedial.campaigns.create({ name: "Source", agent_id: t.agentId, phone_number_id: t.numberId, contacts: csvOf(4) });
    expect(source).toMatchObject({ dnc_suppressed: 2, source_campaign_id: null, stats: { total: 4, cancelled: 2 } });
    await edgedial.dnc.remove("+15550100002");
    await expect(edgedial.dnc.get("+15550100002")).rejects.toMatchObject({ status: 404, code: "not_found" });
    const at = new Date(Date.now() + 3_600_000);
    const copy = await edgedial.campaigns.clone(source.id, { statuses: ["cancelled"], outcomes: ["dnc"], name: "Retry", scheduled_at: at });
    expect(copy).toMatchObject({ name: "Retry", status: "scheduled", source_campaign_id: source.id, dnc_suppressed: 1, stats: { total: 2, pending: 1 } });
    const contacts = await edgedial.campaigns.listContacts(copy.id);
    expect(contacts.items.map((c) => [c.phone_number, c.status, c.outcome])).toEqual([
      ["+15550100001", "cancelled", "dnc"],
      ["+15550100002", "pending", null],
    ]);
    await expect(edgedial.campaigns.clone(source.id, { statuses: [] })).rejects.toMatchObject({ status: 400, code: "bad_request" });
  });

  it("maps errors to ApiError (status, code, message) and 429 to RateLimitError", async () => {
    const t = await newTenant();
    const edgedial = clientFor(t);
    const notFound = await edgedial.campaigns.get("cmp_missing").catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(ApiError);
    expect(notFound).toMatchObject({ status: 404, code: "not_found", message: "Campaign cmp_missing was not found." });
    const invalid = await edgedial.campaigns
      .create({ name: "x", agent_id: t.agentId, phone_number_id: t.numberId, contacts: "name\nAnn\n" })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400, code: "bad_request" });
    expect((invalid as Error).message).toContain("phone_number column");
    const conflict = await edgedial.campaigns
      .pause((await edgedial.campaigns.create({ name: "c", agent_id: t.agentId, phone_number_id: t.numberId, contacts: csvOf(1) })).id)
      .catch((e: unknown) => e);
    expect(conflict).toMatchObject({ status: 409, code: "conflict" });
    const anonymous = new Edgedial({ apiKey: "sk_live_nobody_AAAAAAAAAAAAAAAAAAAAAAAA", baseUrl: BASE, fetch: worker });
    await expect(anonymous.callLimits.get()).rejects.toMatchObject({ status: 401, code: "unauthorized" });

    const limited = new Edgedial({
      apiKey: "k",
      baseUrl: BASE,
      fetch: async () => new Response('{"error":{"code":"rate_limited","message":"Slow down."}}', { status: 429, headers: { "Retry-After": "7" } }),
    });
    const error = await limited.campaigns.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, retryAfter: 7, message: "Slow down." });
  });

  it("reads its defaults from EDGEDIAL_API_KEY and EDGEDIAL_BASE_URL", async () => {
    const seen: Request[] = [];
    const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
    if (!env) throw new Error("process.env is not available");
    const saved = { key: env.EDGEDIAL_API_KEY, url: env.EDGEDIAL_BASE_URL };
    env.EDGEDIAL_API_KEY = "sk_live_env_key";
    env.EDGEDIAL_BASE_URL = "https://dial.example/";
    try {
      const edgedial = new Edgedial({
        fetch: async (request) => {
          seen.push(request);
          return Response.json({ concurrent_max: 1 });
        },
      });
      await edgedial.callLimits.get();
      expect(seen[0]?.url).toBe("https://dial.example/api/v1/call-limits");
      expect(seen[0]?.headers.get("Authorization")).toBe("Bearer sk_live_env_key");
    } finally {
      env.EDGEDIAL_API_KEY = saved.key;
      env.EDGEDIAL_BASE_URL = saved.url;
    }
  });

  it("streams events to the end across a forced disconnect, resuming with Last-Event-ID", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    const eventRequests: Request[] = [];
    const lastSeenAtRequest: number[] = [];
    const received: CampaignEvent[] = [];
    let cut = false;
    // Drops the first stream right after its first contact event, and shortens the server's retry hint.
    const flaky = async (request: Request) => {
      const response = await worker(request);
      if (!new URL(request.url).pathname.endsWith("/events")) return response;
      eventRequests.push(request);
      lastSeenAtRequest.push(Math.max(0, ...received.flatMap((e) => (e.type === "contact" ? [e.id] : []))));
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const encoder = new TextEncoder();
      const dropAfterFirstContact = !cut;
      cut = true;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value, done } = await reader.read();
          if (done) return controller.close();
          const text = decoder.decode(value).replace("retry: 3000", "retry: 5");
          controller.enqueue(encoder.encode(text));
          if (dropAfterFirstContact && text.includes("event: contact")) {
            await reader.cancel();
            controller.error(new Error("connection reset"));
          }
        },
      });
      return new Response(body, { headers: response.headers });
    };
    const edgedial = clientFor(t, flaky);
    const campaign = await edgedial.campaigns.create({
      name: "Live",
      agent_id: t.agentId,
      phone_number_id: t.numberId,
      contacts: csvOf(6),
      max_concurrent_calls: 2,
    });
    const consuming = (async () => {
      for await (const event of edgedial.campaigns.streamEvents(campaign.id)) received.push(event);
    })();
    await edgedial.campaigns.start(campaign.id);
    await runUntil(t, [campaign.id], (c) => c.status === "completed");
    await consuming;

    expect(eventRequests.length).toBeGreaterThanOrEqual(2);
    expect(lastSeenAtRequest[1]).toBeGreaterThan(0);
    expect(eventRequests[1]?.headers.get("Last-Event-ID")).toBe(String(lastSeenAtRequest[1]));
    const ids = received.flatMap((e) => (e.type === "contact" ? [e.id] : []));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    const finished = received.filter((e) => e.type === "contact" && (e.data.status === "completed" || e.data.status === "failed"));
    expect(finished).toHaveLength(6);
    expect(received.at(-1)).toMatchObject({ type: "end", data: { status: "completed", stats: { total: 6 } } });
  });

  it("ends the stream with ApiError when the campaign does not exist", async () => {
    const t = await newTenant();
    const stream = clientFor(t).campaigns.streamEvents("cmp_missing");
    await expect(stream.next()).rejects.toMatchObject({ status: 404 });
  });

  it("reports call results by result_url (token, no key) and by call id (key), filters by disposition, and schedules callbacks", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    const sent: Request[] = [];
    const edgedial = clientFor(t, (request) => {
      sent.push(request.clone());
      return worker(request);
    });
    // The simulator answers numbers ending below 70.
    const phones = ["+14155550100", "+14155550101", "+14155550102"];
    const campaign = await edgedial.campaigns.create({
      name: "Results",
      agent_id: t.agentId,
      phone_number_id: t.numberId,
      contacts: phones.map((phone_number) => ({ phone_number })),
    });
    await edgedial.campaigns.start(campaign.id);
    await runUntil(t, [campaign.id], (c) => c.stats.connected === phones.length);
    const answerParameters = async (phone: string) => {
      for (let steps = 0; steps < 20; steps++) {
        const doc = (await carriedCalls(t)).find((c) => c.to === phone && c.answer_doc)?.answer_doc;
        if (doc) return Object.fromEntries([...doc.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]?.replace(/&amp;/g, "&")]));
        await step(t, [campaign.id]);
      }
      throw new Error(`no answer document for ${phone}`);
    };
    const first = await answerParameters(phones[0] as string);
    const second = await answerParameters(phones[1] as string);

    const byUrl = await edgedial.calls.reportResult(first.result_url as string, { disposition: "interested", summary: "Wants a demo", data: { seats: 12 } });
    expect(byUrl.result).toMatchObject({ disposition: "interested", call_id: first.call_id, data: { seats: 12 } });
    const urlRequest = sent.at(-1) as Request;
    expect(urlRequest.url, "a result_url is posted as given").toBe(first.result_url);
    expect(urlRequest.headers.get("Authorization"), "the token is the credential; the key stays home").toBeNull();

    const byId = await edgedial.calls.reportResult(second.call_id as string, { disposition: "not_interested" });
    expect(byId.result).toMatchObject({ disposition: "not_interested", call_id: second.call_id });
    expect(new URL((sent.at(-1) as Request).url).pathname).toBe(`/api/v1/calls/${second.call_id}/result`);
    expect((sent.at(-1) as Request).headers.get("Authorization")).toBe(`Bearer ${t.key}`);
    await expect(edgedial.calls.reportResult(second.call_id as string, { disposition: "Bad!" })).rejects.toMatchObject({ status: 400 });

    await runUntil(t, [campaign.id], (c) => c.status === "completed");
    const interested = await edgedial.campaigns.listContacts(campaign.id, { disposition: "interested" });
    expect(interested.items.map((c) => c.phone_number)).toEqual([phones[0]]);
    const csv = await new Response(await edgedial.campaigns.exportContacts(campaign.id, { disposition: "not_interested" })).text();
    expect(csv.trim().split("\r\n")).toHaveLength(2);
    expect(csv).toContain(phones[1]);

    const results = [];
    for await (const event of edgedial.campaigns.streamEvents(campaign.id, { lastEventId: 0 })) if (event.type === "result") results.push(event);
    expect(results.map((e) => e.data.disposition).sort()).toEqual(["interested", "not_interested"]);
    expect(results[0]?.data).toMatchObject({ opt_out: false, callback_at: null });

    // A finished campaign takes no callback: clone it to call again.
    const third = interested.items[0] as { id: string };
    await expect(edgedial.campaigns.scheduleCallback(campaign.id, third.id, new Date(Date.now() + 3_600_000))).rejects.toMatchObject({ status: 409 });
    const draft = await edgedial.campaigns.create({
      name: "Later",
      agent_id: t.agentId,
      phone_number_id: t.numberId,
      contacts: [{ phone_number: phones[2] as string }],
    });
    const [contact] = (await edgedial.campaigns.listContacts(draft.id)).items;
    const at = new Date(Date.now() + 3_600_000);
    const waiting = await edgedial.campaigns.scheduleCallback(draft.id, contact?.id as string, at);
    expect(waiting).toMatchObject({ status: "pending", outcome: "callback", callbacks: 1, next_attempt_at: at.toISOString() });
    await expect(edgedial.campaigns.scheduleCallback(draft.id, contact?.id as string, "not a time")).rejects.toMatchObject({ status: 400 });
  });
});
