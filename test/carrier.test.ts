import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getAccountStub } from "../src/accounts/stub";
import type { CarrierLink } from "../src/campaign-object/carrier-link";
import { twilioSignature } from "../src/carriers/twilio";
import type { SignedCallback } from "../src/carriers/types";
import { jsonResponse as twilioJson } from "./carrier-fakes";
import { call, createCampaign, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, campaignStub, getCampaign, runUntil, step, useSimulatedTime } from "./sim";

const TOKEN = "twilio-test-token";
const ACCOUNT_SID = `AC${"1".repeat(32)}`;
const PUBLIC = "http://127.0.0.1:8787";

type Handler = (request: Request) => Response | Promise<Response> | null;

let restore: () => void = () => undefined;
afterEach(() => {
  restore();
  vi.restoreAllMocks();
});

interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

/** Plays a carrier's REST API: requests to `host` go to `handler`; everything else is untouched. */
function mockCarrier(host: string, handler: Handler) {
  const original = globalThis.fetch;
  const requests: SeenRequest[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (new URL(request.url).hostname !== host) return original(input, init);
    // Read the body here: streams made inside a Durable Object cannot be read from the test later.
    requests.push({ method: request.method, url: request.url, headers: request.headers, body: await request.clone().text() });
    return (await handler(request)) ?? new Response("not mocked", { status: 500 });
  });
  return requests;
}

const mockTwilio = (handler: Handler) => mockCarrier("api.twilio.com", handler);

let sidCounter = 0;
const accepted = () => twilioJson(201, { sid: `CA${(++sidCounter).toString(16).padStart(32, "0")}`, status: "queued" });

/** A tenant whose number dials through a real carrier's provider (mocked at the HTTP level). */
async function carrierTenant(provider: string, credentials: Record<string, string>): Promise<Tenant> {
  const t = await newTenant({ calls_per_minute: 1_000_000 });
  const created = await json<{ id: string }>(await call("/api/v1/telephony/providers", jsonInit("POST", { provider, credentials }, t.auth)));
  const number = await json<{ id: string }>(
    await call("/api/v1/telephony/numbers", jsonInit("POST", { e164: "+15550009999", credentials_id: created.id, provider }, t.auth)),
  );
  return { ...t, providerId: created.id, numberId: number.id };
}

const twilioTenant = () => carrierTenant("twilio", { account_sid: ACCOUNT_SID, auth_token: TOKEN });

let uuidCounter = 0;
/** Each carrier's REST answers, for the error cases every carrier must map the same way through the whole path. */
const CARRIERS = [
  {
    name: "Twilio",
    provider: "twilio",
    host: "api.twilio.com",
    credentials: { account_sid: ACCOUNT_SID, auth_token: TOKEN },
    accepted,
    authRefused: () => twilioJson(401, { code: 20003, message: "Authenticate", status: 401 }),
    authReason: /20003/,
    throttled: () => twilioJson(429, { code: 20429, message: "Too Many Requests", status: 429 }),
    invalidNumber: () => twilioJson(400, { code: 21211, message: "Invalid 'To' Phone Number", status: 400 }),
  },
  {
    name: "Plivo",
    provider: "plivo",
    host: "api.plivo.com",
    credentials: { auth_id: "MAXXXXXXXXXXXXXXXXXX", auth_token: TOKEN },
    accepted: () => twilioJson(201, { api_id: "a", message: "call fired", request_uuid: `req-${++uuidCounter}` }),
    authRefused: () => twilioJson(401, { api_id: "a", error: "Authentication failed" }),
    authReason: /Plivo 401.*auth_id and auth_token/,
    throttled: () => twilioJson(429, { api_id: "a", error: "too many requests" }),
    invalidNumber: () => twilioJson(400, { api_id: "a", error: "invalid 'to' number" }),
  },
  {
    name: "Vobiz",
    provider: "vobiz",
    host: "api.vobiz.ai",
    credentials: { auth_id: "MA_TESTACCT", auth_token: TOKEN },
    accepted: () => twilioJson(201, { api_id: "a", message: "call fired", request_uuid: `uuid-${++uuidCounter}` }),
    authRefused: () => twilioJson(401, { status: "error", error: { code: "INVALID_CREDENTIALS", message: "Invalid X-Auth-ID or X-Auth-Token" } }),
    authReason: /Vobiz 401.*auth_id and auth_token/,
    throttled: () => twilioJson(429, { status: "error", error: { code: "RATE_LIMITED", message: "CPS limit exceeded" } }),
    invalidNumber: () => twilioJson(400, { status: "error", error: { code: "INVALID_NUMBER", message: "invalid destination number" } }),
  },
] as const;

async function openAttempt(campaignId: string) {
  const { open_attempts } = await campaignStub(campaignId).inspect(campaignId);
  const attempt = open_attempts[0];
  if (!attempt) throw new Error("no open attempt");
  return attempt;
}

/** Sends a callback signed as Twilio would, or with the signature given. */
async function sendCallback(campaignId: string, attemptId: string, params: Record<string, string>, signature?: string, headers: Record<string, string> = {}) {
  const path = `/webhooks/twilio/${campaignId}/${attemptId}`;
  const pairs = Object.entries(params);
  const sig = signature ?? (await twilioSignature(TOKEN, `${PUBLIC}${path}`, pairs));
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig, ...headers },
    body: new URLSearchParams(pairs),
  });
}

/**
 * Twilio signs no nonce; to drive the replay cache through the real route and object, the
 * campaign's adapter is wrapped so that it reads one from an X-Test-Nonce header (the signature
 * is still Twilio's, checked first).
 */
async function readNonceHeader(campaignId: string) {
  await runInDurableObject(campaignStub(campaignId), async (instance) => {
    const carrier = await (instance as unknown as { carrier: CarrierLink }).carrier.get();
    const twilio = carrier.adapter;
    carrier.adapter = Object.assign(Object.create(twilio), { nonceOf: (callback: SignedCallback) => callback.headers["x-test-nonce"] ?? null });
  });
}

const event = (callSid: string, status: string, sequence: number, extra: Record<string, string> = {}) => ({
  CallSid: callSid,
  AccountSid: ACCOUNT_SID,
  CallStatus: status,
  SequenceNumber: String(sequence),
  ...extra,
});

async function dialOne(t: Tenant, csv = "phone_number\n+15550107701\n", fields: Record<string, string> = {}) {
  const { id } = await createCampaign(t, csv, { ...fields });
  await lifecycle(t, id, "start");
  await runUntil(t, [id], (c) => c.stats.originated === 1);
  const attempt = await openAttempt(id);
  return { id, attempt };
}

describe("Twilio REST", () => {
  it("sends Twilio's create-call form with Basic auth, status callbacks for answered and completed only, and Timeout >= 15", async () => {
    restore = useSimulatedTime();
    const requests = mockTwilio(() => accepted());
    const t = await twilioTenant();
    const { id, attempt } = await dialOne(t);
    expect(requests).toHaveLength(1);
    const request = requests[0] as SeenRequest;
    expect(request.url).toBe(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`);
    expect(request.headers.get("Authorization")).toBe(`Basic ${btoa(`${ACCOUNT_SID}:${TOKEN}`)}`);
    const form = new URLSearchParams(request.body);
    expect(form.get("To")).toBe("+15550107701");
    expect(form.get("From")).toBe("+15550009999");
    expect(form.getAll("StatusCallbackEvent")).toEqual(["answered", "completed"]);
    expect(form.get("StatusCallback")).toBe(`${PUBLIC}/webhooks/twilio/${id}/${attempt.attempt_id}`);
    expect(form.get("Url")).toBe(`${PUBLIC}/webhooks/twilio/${id}/${attempt.attempt_id}/answer`);
    expect(Number(form.get("Timeout"))).toBeGreaterThanOrEqual(15);
    expect(form.get("StatusCallbackMethod")).toBe("POST");
  });
});

describe.each(CARRIERS)("$name REST errors through the whole path", (carrier) => {
  it("fails the campaign on an auth refusal with a status_reason naming the carrier; the contact stays pending and no attempt counts", async () => {
    restore = useSimulatedTime();
    mockCarrier(carrier.host, () => carrier.authRefused());
    const t = await carrierTenant(carrier.provider, carrier.credentials);
    const { id } = await createCampaign(t, "phone_number\n+15550107702\n+15550107703\n");
    await lifecycle(t, id, "start");
    const [failed] = await runUntil(t, [id], (c) => c.status === "failed");
    expect(failed?.status_reason).toMatch(carrier.authReason);
    expect(failed?.stats).toMatchObject({ pending: 2, originated: 0, failed: 0 });
    for (const contact of await allContacts(t, id)) expect(contact).toMatchObject({ status: "pending", attempts: 0 });
    // Failing released the campaign's budget, and the next tick hands back the slots.
    await step(t, [id]);
    const usage = await getAccountStub(env, t.accountId).usage();
    expect(usage.reservations).toEqual([]);
    expect(usage.in_flight).toBe(0);
  });

  it("backs off on REST 429 without counting an attempt, then dials", async () => {
    restore = useSimulatedTime();
    let refusals = 2;
    const requests = mockCarrier(carrier.host, () => (refusals-- > 0 ? carrier.throttled() : carrier.accepted()));
    const t = await carrierTenant(carrier.provider, carrier.credentials);
    const { id } = await createCampaign(t, "phone_number\n+15550107704\n");
    await lifecycle(t, id, "start");
    await step(t, [id]);
    const waiting = await getCampaign(t, id);
    expect(waiting.status_reason).toContain("slow down");
    const [contact] = await allContacts(t, id);
    expect(contact).toMatchObject({ status: "pending", attempts: 0 });
    const started = Date.now();
    await runUntil(t, [id], (c) => c.stats.originated === 1);
    expect(requests).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    const [dialled] = await allContacts(t, id);
    expect(dialled).toMatchObject({ status: "originated", attempts: 1 });
    expect((await getCampaign(t, id)).status_reason).toBeNull();
  });

  it("records a number the carrier calls invalid as one attempt, never retried", async () => {
    restore = useSimulatedTime();
    const requests = mockCarrier(carrier.host, () => carrier.invalidNumber());
    const t = await carrierTenant(carrier.provider, carrier.credentials);
    const { id } = await createCampaign(t, "phone_number\n+15550107705\n", { retries_per_contact: "3", retry_delay_seconds: "60" });
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.status === "completed");
    const [contact] = await allContacts(t, id);
    expect(contact).toMatchObject({ status: "failed", outcome: "invalid_number", attempts: 1 });
    expect(requests).toHaveLength(1);
  });
});

describe("status callbacks", () => {
  it("refuses a bad or missing signature with 403 and changes nothing", async () => {
    restore = useSimulatedTime();
    mockTwilio(() => accepted());
    const t = await twilioTenant();
    const { id, attempt } = await dialOne(t);
    const params = event(attempt.call_id as string, "completed", 3, { CallDuration: "20" });
    const forged = await sendCallback(id, attempt.attempt_id, params, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    expect(forged.status).toBe(403);
    const unsigned = await call(`/webhooks/twilio/${id}/${attempt.attempt_id}`, { method: "POST", body: new URLSearchParams(params) });
    expect(unsigned.status).toBe(403);
    // Signed for another URL (another attempt) does not verify here either.
    const otherSig = await twilioSignature(TOKEN, `${PUBLIC}/webhooks/twilio/${id}/att_other`, Object.entries(params));
    expect((await sendCallback(id, attempt.attempt_id, params, otherSig)).status).toBe(403);
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ originated: 1, completed: 0 });
    expect((await openAttempt(id)).state).not.toBe("ended");
  });

  it("applies duplicates once and never moves a contact backwards", async () => {
    restore = useSimulatedTime();
    mockTwilio(() => accepted());
    const t = await twilioTenant();
    const { id, attempt } = await dialOne(t);
    const sid = attempt.call_id as string;
    expect((await sendCallback(id, attempt.attempt_id, event(sid, "in-progress", 2, { AnsweredBy: "human" }))).status).toBe(200);
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ connected: 1 });
    // Late and duplicate progress events arrive after the answer: nothing moves back.
    await sendCallback(id, attempt.attempt_id, event(sid, "ringing", 1));
    await sendCallback(id, attempt.attempt_id, event(sid, "initiated", 0));
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ connected: 1, originated: 0 });
    const completed = event(sid, "completed", 3, { CallDuration: "42", AnsweredBy: "human" });
    await sendCallback(id, attempt.attempt_id, completed);
    await sendCallback(id, attempt.attempt_id, completed);
    await sendCallback(id, attempt.attempt_id, event(sid, "busy", 4));
    const [done] = await runUntil(t, [id], (c) => c.status === "completed");
    expect(done?.stats).toMatchObject({ total: 1, completed: 1, failed: 0, connected: 0 });
    const [contact] = await allContacts(t, id);
    expect(contact).toMatchObject({ status: "completed", outcome: "answered", attempts: 1, call_id: sid });
    const usage = await getAccountStub(env, t.accountId).usage();
    expect(usage.talk_seconds_today).toBe(42);
  });

  it("takes a final status that overtook the progress events, and retries a busy contact after retry_delay_seconds", async () => {
    restore = useSimulatedTime();
    const requests = mockTwilio(() => accepted());
    const t = await twilioTenant();
    const { id, attempt } = await dialOne(t, "phone_number\n+15550107706\n", { retries_per_contact: "1", retry_delay_seconds: "120" });
    const endedAt = Date.now();
    await sendCallback(id, attempt.attempt_id, event(attempt.call_id as string, "busy", 2));
    await sendCallback(id, attempt.attempt_id, event(attempt.call_id as string, "ringing", 1));
    await step(t, [id]);
    const [waiting] = await allContacts(t, id);
    expect(waiting).toMatchObject({ status: "pending", outcome: "busy", attempts: 1 });
    await runUntil(t, [id], (c) => c.stats.originated === 1);
    expect(Date.now() - endedAt).toBeGreaterThanOrEqual(120_000);
    // Only this campaign's dials: under load an earlier test's object may still call the carrier (a status check) through the same spy.
    const dials = requests.filter((r) => r.method === "POST" && r.url.endsWith("/Calls.json") && r.body.includes(id));
    expect(dials, requests.map((r) => `${r.method} ${r.url}`).join("\n")).toHaveLength(2);
    const second = await openAttempt(id);
    expect(second.attempt_id).not.toBe(attempt.attempt_id);
    // Callbacks for the first attempt are stale now and change nothing.
    expect((await sendCallback(id, attempt.attempt_id, event(attempt.call_id as string, "completed", 3, { CallDuration: "9" }))).status).toBe(200);
    await sendCallback(id, second.attempt_id, event(second.call_id as string, "no-answer", 2));
    const [done] = await runUntil(t, [id], (c) => c.status === "completed");
    expect(done?.stats).toMatchObject({ failed: 1, completed: 0 });
    const [contact] = await allContacts(t, id);
    expect(contact).toMatchObject({ status: "failed", outcome: "no_answer", attempts: 2 });
  });

  it("refuses a replayed nonce with 403 and changes nothing, callback or answer", async () => {
    restore = useSimulatedTime();
    mockTwilio(() => accepted());
    const t = await twilioTenant();
    const { id, attempt } = await dialOne(t);
    await readNonceHeader(id);
    const sid = attempt.call_id as string;
    const answered = event(sid, "in-progress", 2, { AnsweredBy: "human" });
    expect((await sendCallback(id, attempt.attempt_id, answered, undefined, { "X-Test-Nonce": "n-1" })).status).toBe(200);
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ connected: 1 });

    // The same request again, and a genuinely signed final event that reuses the nonce: both refused.
    const replay = await sendCallback(id, attempt.attempt_id, answered, undefined, { "X-Test-Nonce": "n-1" });
    expect(replay.status).toBe(403);
    expect(await replay.text()).toContain("nonce");
    const completed = event(sid, "completed", 3, { CallDuration: "30", AnsweredBy: "human" });
    expect((await sendCallback(id, attempt.attempt_id, completed, undefined, { "X-Test-Nonce": "n-1" })).status).toBe(403);
    const answerPath = `/webhooks/twilio/${id}/${attempt.attempt_id}/answer`;
    const answerSig = await twilioSignature(TOKEN, `${PUBLIC}${answerPath}`, Object.entries(answered));
    const answerReplay = await call(answerPath, {
      method: "POST",
      headers: { "X-Twilio-Signature": answerSig, "X-Test-Nonce": "n-1" },
      body: new URLSearchParams(answered),
    });
    expect(answerReplay.status).toBe(403);
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ connected: 1, completed: 0 });
    expect((await openAttempt(id)).state).toBe("live");
    const { carrier_requests } = await campaignStub(id).inspect(id);
    expect(carrier_requests).toEqual({ callback: 1, answer: 0 });

    // A fresh nonce goes through.
    expect((await sendCallback(id, attempt.attempt_id, completed, undefined, { "X-Test-Nonce": "n-2" })).status).toBe(200);
    const [done] = await runUntil(t, [id], (c) => c.status === "completed");
    expect(done?.stats).toMatchObject({ completed: 1 });
  });

  it("accepts a GET callback signed over its query, and refuses a callback sent to another carrier's path", async () => {
    restore = useSimulatedTime();
    mockTwilio(() => accepted());
    const t = await twilioTenant();
    const { id, attempt } = await dialOne(t);
    const params = event(attempt.call_id as string, "in-progress", 2, { AnsweredBy: "human" });
    const plivoPath = `/webhooks/plivo/${id}/${attempt.attempt_id}`;
    const misrouted = await call(plivoPath, {
      method: "POST",
      headers: { "X-Twilio-Signature": await twilioSignature(TOKEN, `${PUBLIC}${plivoPath}`, Object.entries(params)) },
      body: new URLSearchParams(params),
    });
    expect(misrouted.status).toBe(403);
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ originated: 1, connected: 0 });

    const path = `/webhooks/twilio/${id}/${attempt.attempt_id}?${new URLSearchParams(params)}`;
    const res = await call(path, { headers: { "X-Twilio-Signature": await twilioSignature(TOKEN, `${PUBLIC}${path}`, []) } });
    expect(res.status).toBe(200);
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ originated: 0, connected: 1 });
  });

  it("acknowledges and ignores callbacks for a deleted campaign", async () => {
    restore = useSimulatedTime();
    mockTwilio(() => accepted());
    const t = await twilioTenant();
    const { id, attempt } = await dialOne(t);
    await lifecycle(t, id, "pause");
    expect((await call(`/api/v1/campaigns/${id}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
    const late = await sendCallback(id, attempt.attempt_id, event(attempt.call_id as string, "completed", 3, { CallDuration: "5" }));
    expect(late.status).toBe(200);
    expect((await call(`/api/v1/campaigns/${id}`, { headers: t.auth })).status).toBe(404);
    const unknown = await sendCallback("cmp_neverexisted", "att_nothing", event("CA1", "completed", 0));
    expect(unknown.status).toBe(200);
  });

  // Contacts store their field values in column order; those stored before that hold named fields. Both reach the agent alike.
  it.each(["values", "named"])("answers with TwiML that streams the call to the agent with the contact's fields (stored as %s)", async (stored) => {
    restore = useSimulatedTime();
    mockTwilio(() => accepted());
    const t = await twilioTenant();
    const { id } = await createCampaign(t, 'phone_number,first_name,note\n+15550107707,Ann,"<b>&""hi"""\n');
    if (stored === "named") {
      await env.DB.prepare("UPDATE contacts SET custom_fields = ? WHERE campaign_id = ?")
        .bind(JSON.stringify({ first_name: "Ann", note: '<b>&"hi"' }), id)
        .run();
    }
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.stats.originated === 1);
    const attempt = await openAttempt(id);
    const path = `/webhooks/twilio/${id}/${attempt.attempt_id}/answer`;
    const params = Object.entries(event(attempt.call_id as string, "in-progress", 2));
    const signature = await twilioSignature(TOKEN, `${PUBLIC}${path}`, params);
    const res = await call(path, { method: "POST", headers: { "X-Twilio-Signature": signature }, body: new URLSearchParams(params) });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("xml");
    const twiml = await res.text();
    expect(twiml).toContain('<Connect><Stream url="wss://agent.test/stream">');
    expect(twiml).toContain('<Parameter name="first_name" value="Ann"/>');
    expect(twiml).toContain('<Parameter name="note" value="&lt;b&gt;&amp;&quot;hi&quot;"/>');
    expect(twiml).toContain(`<Parameter name="contact_id" value="${attempt.contact_id}"/>`);
    const forged = await call(path, { method: "POST", headers: { "X-Twilio-Signature": "bad" }, body: new URLSearchParams(params) });
    expect(forged.status).toBe(403);
  });
});

describe("reconciliation", () => {
  it("adopts a call the carrier placed although its REST answer was lost, without dialling again", async () => {
    restore = useSimulatedTime();
    const placed: string[] = [];
    const requests = mockTwilio((request) => {
      const url = new URL(request.url);
      if (request.method === "POST") {
        placed.push(`CA${"9".repeat(32)}`);
        throw new TypeError("Network connection lost.");
      }
      if (url.pathname.endsWith("/Calls.json")) {
        return twilioJson(200, {
          calls: placed.map((sid) => ({ sid, status: "in-progress", to: url.searchParams.get("To"), date_created: new Date().toUTCString() })),
        });
      }
      return twilioJson(200, { sid: placed[0], status: "completed", duration: "12" });
    });
    const t = await twilioTenant();
    const { id } = await createCampaign(t, "phone_number\n+15550107708\n");
    await lifecycle(t, id, "start");
    await step(t, [id]);
    expect((await openAttempt(id)).state).toBe("unknown");
    const [done] = await runUntil(t, [id], (c) => c.status === "completed");
    expect(done?.stats).toMatchObject({ completed: 1 });
    const [contact] = await allContacts(t, id);
    expect(contact).toMatchObject({ status: "completed", outcome: "answered", attempts: 1, call_id: `CA${"9".repeat(32)}` });
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("dials again only once the carrier confirms the lost call does not exist", async () => {
    restore = useSimulatedTime();
    let posts = 0;
    const requests = mockTwilio((request) => {
      if (request.method === "POST") return ++posts === 1 ? Promise.reject(new TypeError("Network connection lost.")) : accepted();
      return twilioJson(200, { calls: [] });
    });
    const t = await twilioTenant();
    const { id } = await createCampaign(t, "phone_number\n+15550107709\n");
    await lifecycle(t, id, "start");
    await step(t, [id]);
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(1);
    await runUntil(t, [id], () => requests.some((r) => r.method === "GET"));
    await runUntil(t, [id], () => posts === 2);
    const [contact] = await allContacts(t, id);
    expect(contact?.attempts).toBe(1);
    const lookups = requests.filter((r) => r.method === "GET").map((r) => new URL(r.url));
    expect(lookups[0]?.searchParams.get("To")).toBe("+15550107709");
    expect(lookups[0]?.searchParams.get("From")).toBe("+15550009999");
  });
});
