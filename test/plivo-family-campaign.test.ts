import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getAccountStub } from "../src/accounts/stub";
import { lastErrorDetail } from "../src/campaign-object/carrier-events/call-events";
import type { CallOutcome } from "../src/campaign-object/carrier-events/contact-machine";
import { LOOKUP_ERRORS_BEFORE_FIND } from "../src/campaign-object/carrier-events/reconciler";
import { Attempts } from "../src/campaign-object/storage/attempts";
import { callbackUrls } from "../src/carriers/callback-urls";
import type { CallEvent } from "../src/carriers/types";
import { plivoSignature, vobizSignature } from "../src/carriers/v3-signatures";
import { call, createCampaign, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, campaignStub, getCampaign, runUntil, step, useSimulatedTime } from "./sim";

/** How the campaign object treats Plivo and Vobiz calls where their wire differs from Twilio's. */

const TOKEN = "plivo-family-test-token";
const FROM = "+15550009999";

let restore: () => void = () => undefined;
afterEach(() => {
  restore();
  vi.restoreAllMocks();
});

const CARRIERS = {
  plivo: { host: "api.plivo.com", credentials: { auth_id: "MAYYYYYYYYYYYYYYYYYY", auth_token: TOKEN } },
  vobiz: { host: "api.vobiz.ai", credentials: { auth_id: "MA_FAMILYTEST", auth_token: TOKEN } },
} as const;
type Kind = keyof typeof CARRIERS;

const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

interface Seen {
  method: string;
  url: URL;
}

let requestCounter = 0;
/** The carrier's REST API: a create-call is accepted with a fresh request_uuid, the rest goes to `lookup`. */
function mockRest(kind: Kind, lookup: (url: URL) => Response = () => reply(404, { error: "not found" })) {
  const original = globalThis.fetch;
  const seen: Seen[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname !== CARRIERS[kind].host) return original(input, init);
    seen.push({ method: request.method, url });
    if (request.method === "POST") return reply(201, { api_id: "a", message: "call fired", request_uuid: `req-${kind}-${++requestCounter}` });
    return lookup(url);
  });
  return seen;
}

async function carrierTenant(kind: Kind): Promise<Tenant> {
  const t = await newTenant({ calls_per_minute: 1_000_000 });
  const provider = await json<{ id: string }>(
    await call("/api/v1/telephony/providers", jsonInit("POST", { provider: kind, credentials: CARRIERS[kind].credentials }, t.auth)),
  );
  const number = await json<{ id: string }>(
    await call("/api/v1/telephony/numbers", jsonInit("POST", { e164: FROM, credentials_id: provider.id, provider: kind }, t.auth)),
  );
  return { ...t, providerId: provider.id, numberId: number.id };
}

/** One contact dialled through `kind`; returns what the carrier's requests for its call need. */
async function dialOne(t: Tenant, kind: Kind, phone: string, fields: Record<string, string> = {}) {
  const { id } = await createCampaign(t, `phone_number\n${phone}\n`, fields);
  await lifecycle(t, id, "start");
  await runUntil(t, [id], (c) => c.stats.originated === 1);
  const [attempt] = (await campaignStub(id).inspect(id)).open_attempts;
  if (!attempt?.call_id) throw new Error("no accepted attempt");
  const urls = await callbackUrls(env, kind, id, attempt.attempt_id);
  const ids = { RequestUUID: attempt.call_id, CallUUID: `cu-${attempt.call_id}`, From: FROM.slice(1), To: phone.slice(1), Direction: "outbound" };
  return { id, attempt, urls, ids };
}

let nonceCounter = 0;
/** A request as the carrier sends it: form-encoded, signed with its V3 scheme and a fresh nonce. */
async function send(kind: Kind, url: string, params: Record<string, string>) {
  const pairs = Object.entries(params);
  const nonce = String(10_000_000_000 + ++nonceCounter);
  const signature = kind === "plivo" ? await plivoSignature(TOKEN, "POST", url, pairs, nonce) : await vobizSignature(TOKEN, url, nonce);
  const prefix = kind === "plivo" ? "X-Plivo-Signature-V3" : "X-Vobiz-Signature-V3";
  const res = await call(new URL(url).pathname, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", [prefix]: signature, [`${prefix}-Nonce`]: nonce },
    body: new URLSearchParams(pairs),
  });
  return { status: res.status, body: await res.text() };
}

describe("Vobiz answer URL", () => {
  it("streams to the agent only on the answer (StartApp); ringing and hangup events there get an empty <Response/>", async () => {
    restore = useSimulatedTime();
    mockRest("vobiz");
    const t = await carrierTenant("vobiz");
    const { id, urls, ids } = await dialOne(t, "vobiz", "+15550107801");

    const ring = await send("vobiz", urls.answerUrl, { ...ids, Event: "Ring", CallStatus: "ringing" });
    expect(ring.status).toBe(200);
    expect(ring.body).not.toContain("<Stream");
    expect(ring.body).toMatch(/<Response\/>$/);

    const answered = await send("vobiz", urls.answerUrl, { ...ids, Event: "StartApp", CallStatus: "in-progress" });
    expect(answered.status).toBe(200);
    expect(answered.body).toContain('<Stream bidirectional="true"');
    expect(answered.body).toContain("wss://agent.test/stream");
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ connected: 1 });

    const hangup = await send("vobiz", urls.answerUrl, {
      ...ids,
      Event: "Hangup",
      CallStatus: "completed",
      HangupCause: "Normal Hangup",
      HangupCauseCode: "4000",
      BillDuration: "15",
    });
    expect(hangup.body).not.toContain("<Stream");
    await step(t, [id]);
    const [contact] = await allContacts(t, id);
    expect(contact).toMatchObject({ status: "completed", outcome: "answered" });
    // A request that does not read as a call event is not the answer either.
    const unreadable = await send("vobiz", urls.answerUrl, { Event: "StartApp" });
    expect(unreadable.body).not.toContain("<Stream");
  });
});

describe("Plivo machine detection", () => {
  const plivoCall = async (machine: "true" | "false") => {
    restore = useSimulatedTime();
    mockRest("plivo");
    const t = await carrierTenant("plivo");
    const { id, urls, ids } = await dialOne(t, "plivo", `+1555010780${machine === "true" ? 2 : 3}`);
    expect((await send("plivo", urls.statusCallbackUrl, { ...ids, Event: "Ring", CallStatus: "ringing" })).status).toBe(200);
    expect((await send("plivo", urls.answerUrl, { ...ids, Event: "StartApp", CallStatus: "in-progress" })).body).toContain("<Stream");
    const verdict = { ...ids, Event: "MachineDetection", CallStatus: "in-progress", Machine: machine };
    expect((await send("plivo", urls.statusCallbackUrl, verdict)).status).toBe(200);
    // Real Plivo's hangup does not repeat the machine verdict.
    const hangup = {
      ...ids,
      Event: "Hangup",
      CallStatus: "completed",
      HangupCause: "Normal Hangup",
      HangupCauseCode: "4000",
      Duration: "21",
      BillDuration: "21",
    };
    expect((await send("plivo", urls.statusCallbackUrl, hangup)).status).toBe(200);
    await runUntil(t, [id], (c) => c.status === "completed", 20);
    return (await allContacts(t, id))[0];
  };

  it("ends a call whose machine-detection request said Machine=true as voicemail, though the hangup does not say so", async () => {
    expect(await plivoCall("true")).toMatchObject({ status: "completed", outcome: "voicemail", last_error: null, attempts: 1 });
  });

  it("ends a call a person answered (Machine=false) as answered", async () => {
    expect(await plivoCall("false")).toMatchObject({ status: "completed", outcome: "answered", last_error: null });
  });
});

describe("last_error for Plivo and Vobiz", () => {
  it.each([
    ["plivo", "+15550107804"],
    ["vobiz", "+15550107805"],
  ] as const)("carries the %s hangup cause of an invalid number and of a busy line", async (kind, phone) => {
    restore = useSimulatedTime();
    mockRest(kind);
    const t = await carrierTenant(kind);
    const invalid = await dialOne(t, kind, phone);
    const invalidHangup = { Event: "Hangup", CallStatus: "failed", HangupCause: "Invalid Destination Address", HangupCauseCode: "2000" };
    await send(kind, invalid.urls.statusCallbackUrl, { ...invalid.ids, ...invalidHangup });
    await runUntil(t, [invalid.id], (c) => c.status === "completed", 20);
    expect((await allContacts(t, invalid.id))[0]).toMatchObject({
      status: "failed",
      outcome: "invalid_number",
      last_error: "Invalid Destination Address (2000)",
    });

    const busy = await dialOne(t, kind, phone.replace(/\d$/, "9"), { retries_per_contact: "0" });
    await send(kind, busy.urls.statusCallbackUrl, { ...busy.ids, Event: "Hangup", CallStatus: "busy", HangupCause: "Busy Line", HangupCauseCode: "3000" });
    await runUntil(t, [busy.id], (c) => c.status === "completed", 20);
    expect((await allContacts(t, busy.id))[0]).toMatchObject({ status: "failed", outcome: "busy", last_error: "Busy Line (3000)" });
  });

  const event = (extra: Partial<CallEvent>): CallEvent => ({ callId: "c", progress: "failed", ...extra });
  it.each<[string, CallOutcome, CallEvent, string | null]>([
    ["Twilio failure: its SIP code", "failed", event({ sipCode: 503 }), "SIP 503"],
    ["Twilio busy: the outcome's name", "busy", event({ progress: "busy", sipCode: 486 }), null],
    ["Twilio invalid number: the outcome's name", "invalid_number", event({ sipCode: 404 }), null],
    ["Twilio no answer", "no_answer", event({ progress: "no-answer" }), null],
    [
      "Plivo invalid number: the cause, not the SIP code it maps to",
      "invalid_number",
      event({ sipCode: 404, cause: "Invalid Destination Address (2000)" }),
      "Invalid Destination Address (2000)",
    ],
    ["Plivo failure with both: the cause", "failed", event({ sipCode: 503, cause: "Destination Out Of Service (2010)" }), "Destination Out Of Service (2010)"],
    ["Plivo no answer", "no_answer", event({ progress: "no-answer", cause: "No Answer (3020)" }), "No Answer (3020)"],
    ["Plivo timeout", "timeout", event({ progress: "timeout", cause: "Ring Timeout Reached (3030)" }), "Ring Timeout Reached (3030)"],
    ["an answered call has none", "answered", event({ progress: "completed", cause: "Normal Hangup (4000)" }), null],
    ["voicemail has none", "voicemail", event({ progress: "completed", cause: "Normal Hangup (4000)" }), null],
  ])("%s", (_, outcome, given, expected) => {
    expect(lastErrorDetail(outcome, given)).toBe(expected);
  });
});

describe("Plivo call that never sends a callback", () => {
  const queuedLookup = (url: URL) => /\/Call\/req-[^/]+\/$/.test(url.pathname) && url.searchParams.get("status") === "queued";

  it(`is looked up by its numbers after ${LOOKUP_ERRORS_BEFORE_FIND} failed lookups by request_uuid, and takes the call record's outcome`, async () => {
    restore = useSimulatedTime();
    const phone = "+15550107806";
    const seen = mockRest("plivo", (url) => {
      if (queuedLookup(url)) return reply(404, { error: "not found" });
      if (url.pathname.endsWith("/Call/") && url.searchParams.has("status")) return reply(200, { calls: [] });
      if (url.pathname.endsWith("/Call/") && url.searchParams.get("to_number") === phone.slice(1)) {
        return reply(200, {
          objects: [
            {
              call_uuid: "cu-from-record",
              to_number: phone.slice(1),
              from_number: FROM.slice(1),
              hangup_cause_name: "Normal Hangup",
              hangup_cause_code: 4000,
              answer_time: "2025-01-01 10:00:05",
              bill_duration: 12,
            },
          ],
        });
      }
      return reply(500, { error: "unexpected lookup" });
    });
    const t = await carrierTenant("plivo");
    const { id, attempt } = await dialOne(t, "plivo", phone);
    const [done] = await runUntil(t, [id], (c) => c.status === "completed", 40);
    expect(done?.stats).toMatchObject({ completed: 1, failed: 0 });
    const [contact] = await allContacts(t, id);
    // The attempt keeps its request_uuid as the call id; the record is matched by number and time.
    expect(contact).toMatchObject({ status: "completed", outcome: "answered", attempts: 1, call_id: attempt.call_id });
    const gets = seen.filter((r) => r.method === "GET");
    expect(gets.filter((r) => queuedLookup(r.url))).toHaveLength(LOOKUP_ERRORS_BEFORE_FIND);
    expect(gets.findIndex((r) => r.url.searchParams.has("to_number"))).toBeGreaterThan(gets.findLastIndex((r) => queuedLookup(r.url)));
    expect(seen.filter((r) => r.method === "POST")).toHaveLength(1);
    const usage = await getAccountStub(env, t.accountId).usage();
    expect(usage.talk_seconds_today).toBe(12);
  });

  it("ends an accepted call as failed, never dialling it again, when the listing has no such call either; keeps asking while the listing errs", async () => {
    restore = useSimulatedTime();
    let listingWorks = false;
    const seen = mockRest("plivo", (url) => {
      if (queuedLookup(url)) return reply(404, { error: "not found" });
      if (!listingWorks) return reply(503, { error: "try later" });
      if (url.pathname.endsWith("/Call/") && url.searchParams.has("status")) return reply(200, { calls: [] });
      return reply(200, { objects: [] });
    });
    const t = await carrierTenant("plivo");
    const { id } = await dialOne(t, "plivo", "+15550107807");
    const posts = () => seen.filter((r) => r.method === "POST").length;
    await runUntil(t, [id], () => seen.filter((r) => queuedLookup(r.url)).length >= LOOKUP_ERRORS_BEFORE_FIND + 2, 40);
    expect(posts()).toBe(1);
    expect((await allContacts(t, id))[0]).toMatchObject({ status: "originated", attempts: 1 });
    listingWorks = true;
    await runUntil(t, [id], (c) => c.status === "completed", 20);
    expect(posts()).toBe(1);
    expect((await allContacts(t, id))[0]).toMatchObject({
      status: "failed",
      outcome: "failed",
      attempts: 1,
      last_error: "The carrier has no record of this call.",
    });
  });
});

describe("attempts table of an object created before these columns", () => {
  it("gains answered_by and lookup_errors on start, keeping its rows", async () => {
    await runInDurableObject(campaignStub("cmp_old_attempts_shape"), (_, state) => {
      const { sql } = state.storage;
      sql.exec("DROP TABLE IF EXISTS attempts");
      sql.exec(`CREATE TABLE attempts (attempt_id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, lease_id TEXT NOT NULL, phone TEXT NOT NULL,
        created_at INTEGER NOT NULL, call_id TEXT, rank INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, last_event_at INTEGER NOT NULL,
        outcome TEXT, talk_seconds INTEGER NOT NULL DEFAULT 0, released INTEGER NOT NULL DEFAULT 0)`);
      sql.exec(
        "INSERT INTO attempts (attempt_id, contact_id, lease_id, phone, created_at, state, last_event_at) VALUES ('att_1', 'ctc_1', 'l', '+1', 1, 'live', 1)",
      );
      const attempts = new Attempts(sql);
      attempts.createSchema();
      attempts.createSchema();
      expect(attempts.get("att_1")).toMatchObject({ carrier_ref: null, answered_by: null, lookup_errors: 0, state: "live" });
    });
  });
});
