import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { callbackUrls } from "../src/carriers/callback-urls";
import { PlivoAdapter } from "../src/carriers/plivo";
import type { PlivoFamilyAdapter } from "../src/carriers/plivo-family";
import { getSimulatorStub, SIMULATOR_SHARDS } from "../src/carriers/simulator/simulator-do";
import type { SignedCallback } from "../src/carriers/types";
import { plivoSignature, vobizSignature } from "../src/carriers/v3-signatures";
import { VobizAdapter } from "../src/carriers/vobiz";
import { decryptSecret } from "../src/http/crypto";
import { ADMIN, BASE, call, createCampaign, json, jsonInit, lifecycle, newTenant, uniqueAccountId } from "./helpers";
import { campaignStub, getCampaign, runUntil, step, useSimulatedTime } from "./sim";

const HOOKS = "https://hooks.test";

let restore: () => void = () => undefined;
afterEach(() => {
  restore();
  vi.restoreAllMocks();
});

async function tenantAuth() {
  const accountId = uniqueAccountId("dialect");
  await call("/admin/v1/accounts", jsonInit("POST", { id: accountId }, ADMIN));
  const { key } = await json<{ key: string }>(await call(`/admin/v1/accounts/${accountId}/api-keys`, jsonInit("POST", { name: "t" }, ADMIN)));
  return { Authorization: `Bearer ${key}` };
}

async function simulatorProvider(dialect: string) {
  const auth = await tenantAuth();
  const res = await call("/api/v1/telephony/providers", jsonInit("POST", { provider: "simulator", credentials: { dialect } }, auth));
  expect(res.status).toBe(201);
  const { id } = await json<{ id: string }>(res);
  return providerCredentials(id);
}

async function providerCredentials(id: string) {
  const row = await env.DB.prepare("SELECT credentials FROM telephony_providers WHERE id = ?").bind(id).first<{ credentials: string }>();
  return JSON.parse(await decryptSecret(row?.credentials ?? "", env.SECRETS_KEY)) as { dialect: string; auth_id: string; auth_token: string };
}

/** The adapter reaches the simulator through the Worker itself, as it does in production through the loopback. */
const loopback = (input: string | Request, init?: RequestInit) => exports.default.fetch(new Request(input, init));

interface Captured {
  url: string;
  callback: SignedCallback;
  params: Record<string, string>;
}

/** Receives the simulator's callbacks at hooks.test: records them and answers the answer URL with the adapter's XML. */
function captureHooks(adapter: PlivoFamilyAdapter) {
  const original = globalThis.fetch;
  const captured: Captured[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(HOOKS)) return original(input, init);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const params = [...new URLSearchParams(await request.text()).entries()];
    captured.push({ url: request.url, callback: { url: request.url, method: request.method as "POST", headers, params }, params: Object.fromEntries(params) });
    if (request.url.includes("/answer")) {
      const doc = adapter.answerDocument("wss://agent.test/stream", { contact_id: "ctc_1" });
      return new Response(doc.body, { headers: { "Content-Type": doc.contentType } });
    }
    return new Response("");
  });
  return captured;
}

/** Fires every shard's alarm and jumps the clock to the next due callback, until none is left. */
async function drain(authId: string) {
  const shards = Array.from({ length: SIMULATOR_SHARDS }, (_, i) => getSimulatorStub(env, authId, i.toString(16)));
  for (let i = 0; i < 200; i++) {
    await Promise.all(shards.map((s) => runDurableObjectAlarm(s)));
    await new Promise((r) => setTimeout(r, 2));
    const next = (await Promise.all(shards.map((s) => s.nextAlarm()))).filter((a): a is number => a !== null);
    if (next.length === 0) return;
    vi.setSystemTime(Math.max(Date.now(), Math.min(...next)));
  }
  throw new Error("the simulator kept callbacks pending");
}

const originate = (adapter: PlivoFamilyAdapter, to: string) =>
  adapter.originate({
    to,
    from: "+15550001000",
    statusCallbackUrl: `${HOOKS}/events/${to.slice(-2)}`,
    answerUrl: `${HOOKS}/events/${to.slice(-2)}/answer`,
    ringTimeoutSeconds: 30,
    timeLimitSeconds: 3600,
  });

const DIALECTS = [
  {
    dialect: "plivo",
    make: (c: { auth_id: string; auth_token: string }, token = c.auth_token) =>
      new PlivoAdapter({ ...c, auth_token: token }, `${BASE}/simulator/plivo`, loopback),
    // Plivo: ring_url, answer_url, (machine_detection_url,) hangup_url, each its own URL.
    answered: [
      ["Ring", "events"],
      ["StartApp", "answer"],
      ["Hangup", "events"],
    ],
    authError: /Plivo 401/,
  },
  {
    dialect: "vobiz",
    make: (c: { auth_id: string; auth_token: string }, token = c.auth_token) =>
      new VobizAdapter({ ...c, auth_token: token }, `${BASE}/simulator/vobiz`, loopback),
    // Vobiz has no ring_url: ringing and the answer are events to the answer URL.
    answered: [
      ["Ring", "answer"],
      ["StartApp", "answer"],
      ["Hangup", "events"],
    ],
    authError: /Vobiz 401/,
  },
] as const;

describe("simulator dialect selection", () => {
  it("refuses an unknown dialect with a 400 naming the choices, and creates nothing", async () => {
    const auth = await tenantAuth();
    const res = await call("/api/v1/telephony/providers", jsonInit("POST", { provider: "simulator", credentials: { dialect: "sip" } }, auth));
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('credentials.dialect "sip" is not a simulator dialect; use one of twilio, plivo, vobiz (default twilio).');
    const list = await json<{ providers: unknown[] }>(await call("/api/v1/telephony/providers", { headers: auth }));
    expect(list.providers).toHaveLength(0);
  });

  it("gives each dialect credentials of its carrier's shape, Twilio's by default", async () => {
    expect(await simulatorProvider("plivo")).toMatchObject({ dialect: "plivo", auth_id: expect.stringMatching(/^MA[0-9A-F]{18}$/) });
    expect(await simulatorProvider("vobiz")).toMatchObject({ dialect: "vobiz", auth_id: expect.stringMatching(/^MA_[0-9A-F]{16}$/) });
    const auth = await tenantAuth();
    const res = await call("/api/v1/telephony/providers", jsonInit("POST", { provider: "simulator" }, auth));
    expect(res.status).toBe(201);
  });
});

describe.each(DIALECTS)("simulator in the $dialect dialect", ({ dialect, make, answered, authError }) => {
  it("answers the carrier's REST format and sends its signed callbacks in its order, every one verified by the adapter", async () => {
    restore = useSimulatedTime();
    const credentials = await simulatorProvider(dialect);
    const adapter = make(credentials);
    const captured = captureHooks(adapter);
    const results = new Map<string, string>();
    for (const digits of ["01", "75", "85", "91", "96", "98"]) {
      const result = await originate(adapter, `+1555020${digits.padStart(4, "0")}`);
      expect(result.kind, digits).toBe("accepted");
      results.set(digits, (result as { callId: string }).callId);
    }
    await drain(credentials.auth_id);

    for (const c of captured) expect(await adapter.verifyCallback(c.callback), `${c.url} ${c.params.Event}`).toBe(true);
    const byCall = (digits: string) => captured.filter((c) => c.params.RequestUUID === results.get(digits));
    const shape = (digits: string) => byCall(digits).map((c) => [c.params.Event, c.url.endsWith("/answer") ? "answer" : "events"]);
    expect(shape("01")).toEqual(answered);
    expect(shape("96").map(([event]) => event)).toEqual(["Ring", "StartApp", "MachineDetection", "Hangup"]);
    expect(shape("75").map(([event]) => event)).toEqual(["Ring", "Hangup"]);
    expect(shape("98").map(([event]) => event)).toEqual(["Hangup"]);

    const final = (digits: string) => adapter.parseCallback(byCall(digits).at(-1)?.callback.params ?? []);
    expect(final("01")).toMatchObject({ progress: "completed", durationSeconds: 30, callId: results.get("01") });
    expect(final("75")).toMatchObject({ progress: "busy" });
    expect(final("85")).toMatchObject({ progress: "no-answer" });
    expect(final("91")).toMatchObject({ progress: "failed", sipCode: undefined });
    expect(final("96")).toMatchObject({ progress: "completed", answeredBy: "machine_start" });
    expect(final("98")).toMatchObject({ progress: "failed", sipCode: 404, cause: "Invalid Destination Address (2000)" });
    // Every callback of a call carries the same CallUUID, which the lookups take.
    expect(new Set(byCall("01").map((c) => c.params.CallUUID)).size).toBe(1);
    // Replays are told apart by their nonce: each request has a fresh one.
    expect(new Set(captured.map((c) => adapter.nonceOf(c.callback))).size).toBe(captured.length);

    const calls = (
      await Promise.all(Array.from({ length: SIMULATOR_SHARDS }, (_, i) => getSimulatorStub(env, credentials.auth_id, i.toString(16)).carried()))
    ).flat();
    expect(calls).toHaveLength(6);
    expect(calls.find((c) => c.sid === results.get("01"))?.answer_doc).toContain("<Stream");
  });

  it("looks calls up while live and once finished, and finds one by its numbers", async () => {
    restore = useSimulatedTime();
    const credentials = await simulatorProvider(dialect);
    const adapter = make(credentials);
    const captured = captureHooks(adapter);
    const to = "+15550300001";
    const placed = await originate(adapter, to);
    if (placed.kind !== "accepted") throw new Error(placed.kind);
    const shards = Array.from({ length: SIMULATOR_SHARDS }, (_, i) => getSimulatorStub(env, credentials.auth_id, i.toString(16)));
    // Up to the answer (5 s) and no further.
    vi.setSystemTime(Date.now() + 6_000);
    await Promise.all(shards.map((s) => runDurableObjectAlarm(s)));
    await new Promise((r) => setTimeout(r, 2));
    const ref = captured.at(-1)?.params.CallUUID;
    expect(await adapter.fetchStatus(placed.callId, ref)).toMatchObject({ kind: "found", event: { callId: placed.callId, progress: "in-progress" } });
    expect(await adapter.findCall(to, "+15550001000", Date.now() - 10_000)).toMatchObject({ kind: "found", event: { progress: "in-progress" } });
    await drain(credentials.auth_id);
    expect(await adapter.fetchStatus(placed.callId, ref)).toMatchObject({
      kind: "found",
      event: { callId: placed.callId, progress: "completed", durationSeconds: 30 },
    });
    expect(await adapter.findCall(to, "+15550001000", Date.now() - 60_000)).toMatchObject({ kind: "found", event: { progress: "completed" } });
    expect(await adapter.findCall("+15550309999", "+15550001000", Date.now() - 60_000)).toEqual({ kind: "absent" });
    expect(await adapter.fetchStatus("0aaaaaaa-0000-4000-8000-000000000000", "0aaaaaaa-0000-4000-8000-000000000000")).toEqual({ kind: "absent" });
  });

  it("refuses a wrong token with the carrier's 401, which fails the campaign naming the carrier", async () => {
    const credentials = await simulatorProvider(dialect);
    const result = await originate(make(credentials, "not-the-token"), "+15550400001");
    expect(result).toMatchObject({ kind: "campaign_error", detail: expect.stringMatching(authError) });
  });

  it("cancels a ringing call: its pending requests become one hangup with the cancel cause", async () => {
    restore = useSimulatedTime();
    const credentials = await simulatorProvider(dialect);
    const adapter = make(credentials);
    const captured = captureHooks(adapter);
    const placed = await originate(adapter, "+15550500001");
    if (placed.kind !== "accepted") throw new Error(placed.kind);
    vi.setSystemTime(Date.now() + 1_000);
    const shards = Array.from({ length: SIMULATOR_SHARDS }, (_, i) => getSimulatorStub(env, credentials.auth_id, i.toString(16)));
    await Promise.all(shards.map((s) => runDurableObjectAlarm(s)));
    await new Promise((r) => setTimeout(r, 2));
    await adapter.cancel(placed.callId, captured.at(-1)?.params.CallUUID);
    await drain(credentials.auth_id);
    const events = captured.filter((c) => c.params.RequestUUID === placed.callId).map((c) => adapter.parseCallback(c.callback.params)?.progress);
    expect(events).toEqual(["ringing", "canceled"]);
  });
});

describe.each(DIALECTS)("$dialect callbacks through the whole path", ({ dialect }) => {
  it("refuses a replayed nonce with 403, also under a fresh valid signature, and changes nothing", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000 }, dialect);
    // 99: a five-minute call, so it is still live while the test talks to the webhook.
    const { id } = await createCampaign(t, "phone_number\n+15550600099\n");
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.stats.connected === 1);
    const [attempt] = (await campaignStub(id).inspect(id)).open_attempts;
    if (!attempt?.call_id) throw new Error("no live attempt");
    const credentials = await providerCredentials(t.providerId);
    const { statusCallbackUrl } = await callbackUrls(env, dialect, id, attempt.attempt_id);
    const send = async (params: Record<string, string>, nonce: string) => {
      const pairs = Object.entries(params);
      const signature =
        dialect === "plivo"
          ? await plivoSignature(credentials.auth_token, "POST", statusCallbackUrl, pairs, nonce)
          : await vobizSignature(credentials.auth_token, statusCallbackUrl, nonce);
      const prefix = dialect === "plivo" ? "X-Plivo-Signature-V3" : "X-Vobiz-Signature-V3";
      return call(new URL(statusCallbackUrl).pathname, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", [prefix]: signature, [`${prefix}-Nonce`]: nonce },
        body: new URLSearchParams(pairs),
      });
    };
    const ids = { RequestUUID: attempt.call_id, CallUUID: attempt.carrier_ref ?? attempt.call_id };
    const progress = { ...ids, CallStatus: "in-progress", Event: "StartApp" };
    expect((await send(progress, "10000000000000000001")).status).toBe(200);
    expect((await send(progress, "10000000000000000001")).status).toBe(403);
    const hangup = { ...ids, CallStatus: "completed", Event: "Hangup", HangupCause: "Normal Hangup", HangupCauseCode: "4000", BillDuration: "7" };
    const replayed = await send(hangup, "10000000000000000001");
    expect(replayed.status).toBe(403);
    expect(await replayed.text()).toContain("nonce");
    expect((await getCampaign(t, id)).stats).toMatchObject({ connected: 1, completed: 0 });
    expect((await send(hangup, "10000000000000000002")).status).toBe(200);
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ connected: 0, completed: 1 });
  });
});
