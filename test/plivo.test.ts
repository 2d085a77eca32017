import { describe, expect, it } from "vitest";
import { PlivoAdapter } from "../src/carriers/plivo";
import { callEventFromCallback, progressFromCause } from "../src/carriers/plivo-events";
import type { OriginateRequest, SignedCallback } from "../src/carriers/types";
import { plivoSignature, plivoSignedString, verifyPlivoCallback } from "../src/carriers/v3-signatures";
import { type CarrierReply, jsonResponse as json, recordingFetcher } from "./carrier-fakes";

/**
 * Vectors computed once with plivo-node 4.79.0's own v3Security (validateV3Signature accepts each,
 * alone and inside a comma-separated list) and written down here.
 */
const TOKEN = "MAtokenABCDEF0123456789";
const VECTORS: {
  name: string;
  method: "POST" | "GET";
  url: string;
  nonce: string;
  token: string;
  params: [string, string][];
  base: string;
  signature: string;
}[] = [
  {
    name: "POST with parameters and no query",
    method: "POST",
    url: "https://edgedial.example/webhooks/plivo/cmp_1/att_1",
    nonce: "12345678901234567890",
    token: TOKEN,
    params: [
      ["CallUUID", "c0ffee00-1111-2222-3333-444455556666"],
      ["CallStatus", "completed"],
      ["To", "15550107701"],
      ["From", "15550001000"],
      ["Duration", "30"],
      ["HangupCause", "Normal Hangup"],
      ["RequestUUID", "a1b2c3d4-0000-1111-2222-333344445555"],
    ],
    base: "https://edgedial.example/webhooks/plivo/cmp_1/att_1?CallStatuscompletedCallUUIDc0ffee00-1111-2222-3333-444455556666Duration30From15550001000HangupCauseNormal HangupRequestUUIDa1b2c3d4-0000-1111-2222-333344445555To15550107701",
    signature: "DdbI8SEbanu4UvSFZHD99r6XkXSER8fkzOmi1f2KTK4=",
  },
  {
    name: "POST with a query, a repeated name and non-ASCII text",
    method: "POST",
    url: "https://edgedial.example/webhooks/plivo/cmp_1/att_2?b=2&a=1&a=0",
    nonce: "98765432109876543210",
    token: TOKEN,
    params: [
      ["Event", "StartApp"],
      ["CallStatus", "in-progress"],
      ["Tags", "z"],
      ["Tags", "y"],
      ["Note", "café & co"],
    ],
    base: "https://edgedial.example/webhooks/plivo/cmp_1/att_2?a=0&a=1&b=2.CallStatusin-progressEventStartAppNotecafé & coTagsyTagsz",
    signature: "JLnXJLl7otCcGusT8CFp1e1jXCiYKlQ1V3VwBaxUfyA=",
  },
  {
    name: "POST to a port, with an encoded query",
    method: "POST",
    url: "http://127.0.0.1:8787/webhooks/plivo/cmp_2/att_3/answer?x=%2B1%20555&y=a+b",
    nonce: "00000000000000000042",
    token: "secret-token",
    params: [
      ["CallUUID", "u-1"],
      ["CallStatus", "ringing"],
    ],
    base: "http://127.0.0.1:8787/webhooks/plivo/cmp_2/att_3/answer?x=+1 555&y=a b.CallStatusringingCallUUIDu-1",
    signature: "vcBJneFoRswwdjAv5nRekMM0BByMPrr0v4/wsPovavg=",
  },
  {
    name: "GET: the parameters are the query",
    method: "GET",
    url: "https://edgedial.example/webhooks/plivo/cmp_3/att_4?CallStatus=completed&CallUUID=u-2&Duration=12",
    nonce: "11111111111111111111",
    token: TOKEN,
    params: [],
    base: "https://edgedial.example/webhooks/plivo/cmp_3/att_4?CallStatus=completed&CallUUID=u-2&Duration=12",
    signature: "NaPoPH0qBQp93VTOy9aARHHeF2cOKqQY8dOUY+zHJS0=",
  },
  {
    name: "POST with neither query nor parameters",
    method: "POST",
    url: "https://edgedial.example/webhooks/plivo/cmp_4/att_5",
    nonce: "22222222222222222222",
    token: TOKEN,
    params: [],
    base: "https://edgedial.example/webhooks/plivo/cmp_4/att_5",
    signature: "t+amgeRmX1kL2gFU4X2vzWvvF67nVM0tTq0YPjNtNAo=",
  },
];

const signed = (v: (typeof VECTORS)[number], signature: string, params = v.params, nonce = v.nonce): SignedCallback => ({
  url: v.url,
  method: v.method,
  headers: { "x-plivo-signature-v3": signature, "x-plivo-signature-v3-nonce": nonce },
  params,
});

describe("Plivo V3 signature", () => {
  for (const v of VECTORS) {
    it(`matches the official SDK: ${v.name}`, async () => {
      expect(plivoSignedString(v.method, v.url, v.params)).toBe(v.base);
      expect(await plivoSignature(v.token, v.method, v.url, v.params, v.nonce)).toBe(v.signature);
      expect(await verifyPlivoCallback(v.token, signed(v, v.signature))).toBe(true);
    });
  }

  it("accepts a header holding several signatures, one of them right", async () => {
    const v = VECTORS[0] as (typeof VECTORS)[number];
    expect(await verifyPlivoCallback(TOKEN, signed(v, `AAAAbadAAAA=,${v.signature}`))).toBe(true);
    expect(await verifyPlivoCallback(TOKEN, signed(v, `${v.signature}, BBBBbadBBBB=`))).toBe(true);
    expect(await verifyPlivoCallback(TOKEN, signed(v, "AAAAbadAAAA=,BBBBbadBBBB="))).toBe(false);
  });

  it("refuses a tampered body, another URL or nonce, a wrong token and a missing header", async () => {
    const v = VECTORS[0] as (typeof VECTORS)[number];
    const tampered = v.params.map(([k, val]) => [k, k === "CallStatus" ? "busy" : val] as [string, string]);
    expect(await verifyPlivoCallback(TOKEN, signed(v, v.signature, tampered))).toBe(false);
    expect(await verifyPlivoCallback(TOKEN, signed(v, v.signature, [...v.params, ["Extra", "1"]]))).toBe(false);
    expect(await verifyPlivoCallback(TOKEN, { ...signed(v, v.signature), url: `${v.url}/answer` })).toBe(false);
    expect(await verifyPlivoCallback(TOKEN, signed(v, v.signature, v.params, "12345678901234567891"))).toBe(false);
    expect(await verifyPlivoCallback("MAtokenABCDEF0123456780", signed(v, v.signature))).toBe(false);
    expect(await verifyPlivoCallback(TOKEN, { ...signed(v, v.signature), headers: { "x-plivo-signature-v3": v.signature } })).toBe(false);
    const get = VECTORS[3] as (typeof VECTORS)[number];
    expect(await verifyPlivoCallback(TOKEN, { ...signed(get, get.signature), url: get.url.replace("Duration=12", "Duration=13") })).toBe(false);
  });
});

describe("Plivo callbacks", () => {
  const cb = (pairs: Record<string, string>) => callEventFromCallback(Object.entries(pairs));
  const ids = { RequestUUID: "req-1", CallUUID: "call-1" };

  it.each([
    [{ CallStatus: "ringing" }, { progress: "ringing" }],
    [{ CallStatus: "in-progress", Event: "StartApp" }, { progress: "in-progress" }],
    [
      { Event: "MachineDetection", Machine: "true", CallStatus: "in-progress" },
      { progress: "in-progress", answeredBy: "machine_start" },
    ],
    [
      { CallStatus: "completed", HangupCause: "Normal Hangup", HangupCauseCode: "4000", Duration: "31", BillDuration: "30" },
      { progress: "completed", durationSeconds: 30 },
    ],
    [
      { CallStatus: "completed", HangupCause: "Normal Hangup", Machine: "true", BillDuration: "20" },
      { progress: "completed", answeredBy: "machine_start" },
    ],
    [
      { CallStatus: "busy", HangupCause: "Busy Line", HangupCauseCode: "3000" },
      { progress: "busy", cause: "Busy Line (3000)" },
    ],
    [{ CallStatus: "no-answer", HangupCause: "No Answer" }, { progress: "no-answer" }],
    [{ CallStatus: "timeout" }, { progress: "timeout" }],
    [
      { CallStatus: "failed", HangupCause: "Invalid Destination Address", HangupCauseCode: "2000" },
      { progress: "failed", sipCode: 404 },
    ],
    [
      { CallStatus: "completed", HangupCauseCode: "2000" },
      { progress: "failed", sipCode: 404 },
    ],
    [{ CallStatus: "cancel", HangupCause: "Canceled", HangupCauseCode: "1000" }, { progress: "canceled" }],
    [{ CallStatus: "cancel", HangupCause: "Rejected" }, { progress: "no-answer" }],
  ])("%o becomes %o, keyed by RequestUUID with the CallUUID as carrierRef", (params, expected) => {
    expect(cb({ ...ids, ...params })).toMatchObject({ callId: "req-1", carrierRef: "call-1", ...expected });
  });

  it("ignores a request without ids or status", () => {
    expect(cb({ CallStatus: "completed" })).toBeNull();
    expect(cb({ ...ids, CallStatus: "bogus" })).toBeNull();
  });

  it("reads finished calls' records by hangup cause", () => {
    expect(progressFromCause({ name: "Busy Line", code: 3000 }, false)).toBe("busy");
    expect(progressFromCause({ name: "Normal Hangup", code: 4000 }, true)).toBe("completed");
    expect(progressFromCause({ name: "Invalid Destination Address", code: 2000 }, false)).toBe("failed");
    expect(progressFromCause({ name: "Ring Timeout Reached" }, false)).toBe("no-answer");
    expect(progressFromCause({ name: "Destination Out Of Service", code: 2010 }, false)).toBe("failed");
  });

  it("answers with Plivo XML streaming to the agent with the contact's variables, or hangs up", () => {
    const adapter = new PlivoAdapter({ auth_id: "MA1", auth_token: "t" }, "https://api.plivo.com", fetch);
    const doc = adapter.answerDocument("wss://agent.test/stream?agent=1", { first_name: "Ann & <Bo>", contact_id: "ctc_1" });
    expect(doc.contentType).toContain("xml");
    expect(doc.body).toContain('<Stream bidirectional="true" keepCallAlive="true"');
    expect(doc.body).toContain("wss://agent.test/stream?agent=1&amp;first_name=Ann+%26+%3CBo%3E&amp;contact_id=ctc_1</Stream>");
    expect(adapter.answerDocument(null, {}).body).toContain("<Hangup/>");
  });
});

/** A fake Plivo: each request is recorded and answered by `reply`. */
function fakePlivo(reply: CarrierReply) {
  const { seen, fetcher } = recordingFetcher(reply);
  return { seen, adapter: new PlivoAdapter({ auth_id: "MAXXXX", auth_token: "tok" }, "https://api.plivo.test", fetcher) };
}

const REQUEST: OriginateRequest = {
  to: "+15550107701",
  from: "+15550001000",
  statusCallbackUrl: "https://edge.test/webhooks/plivo/cmp_1/att_1",
  answerUrl: "https://edge.test/webhooks/plivo/cmp_1/att_1/answer",
  ringTimeoutSeconds: 30,
  timeLimitSeconds: 3600,
};

describe("Plivo REST", () => {
  it("creates the call as JSON with Basic auth, every callback URL and machine detection; request_uuid is the call id", async () => {
    const { seen, adapter } = fakePlivo(() => json(201, { api_id: "a", message: "call fired", request_uuid: "req-9" }));
    expect(await adapter.originate(REQUEST)).toEqual({ kind: "accepted", callId: "req-9" });
    const [request] = seen;
    expect(request?.url).toBe("https://api.plivo.test/v1/Account/MAXXXX/Call/");
    expect(request?.headers.get("Authorization")).toBe(`Basic ${btoa("MAXXXX:tok")}`);
    expect(JSON.parse(request?.body ?? "{}")).toMatchObject({
      from: "+15550001000",
      to: "+15550107701",
      answer_url: REQUEST.answerUrl,
      answer_method: "POST",
      hangup_url: REQUEST.statusCallbackUrl,
      ring_url: REQUEST.statusCallbackUrl,
      machine_detection: "true",
      machine_detection_url: REQUEST.statusCallbackUrl,
      ring_timeout: 30,
      time_limit: 3600,
    });
  });

  it.each([
    [401, { error: "Authentication failed" }, "campaign_error", /Plivo 401.*auth_id and auth_token/],
    [400, { error: "insufficient credit to make this call" }, "campaign_error", /Plivo.*out of credit.*add credit/],
    [400, { error: "from number is not a valid caller id for this account" }, "campaign_error", /Plivo.*caller id/],
    [400, { error: "invalid 'to' number" }, "contact_error", /Plivo 400/],
    [429, { error: "too many requests" }, "retry_later", /Plivo 429/],
    [503, { error: "service unavailable" }, "retry_later", /Plivo 503/],
  ])("maps REST %i %o to %s", async (status, body, kind, detail) => {
    const { adapter } = fakePlivo(() => json(status, body, status === 429 ? { "Retry-After": "3" } : {}));
    const result = await adapter.originate(REQUEST);
    expect(result.kind).toBe(kind);
    expect("detail" in result && result.detail).toMatch(detail);
    if (result.kind === "contact_error") expect(result.outcome).toBe("invalid_number");
    if (status === 429) expect(result).toMatchObject({ retryAfterMs: 3000 });
  });

  it("calls a request that got no answer unknown, to be reconciled before any redial", async () => {
    const { adapter } = fakePlivo(() => Promise.reject(new TypeError("Network connection lost.")));
    expect(await adapter.originate(REQUEST)).toMatchObject({ kind: "unknown", detail: expect.stringContaining("Plivo") });
  });

  it("looks a call up live, then in its record; by queue while it has no CallUUID", async () => {
    const { seen, adapter } = fakePlivo((r) => {
      if (r.url.endsWith("/Call/call-1/?status=live")) return json(404, { error: "not found" });
      if (r.url.endsWith("/Call/call-1/"))
        return json(200, {
          call_uuid: "call-1",
          hangup_cause_name: "Normal Hangup",
          hangup_cause_code: 4000,
          bill_duration: 12,
          answer_time: "2026-01-01 10:00:00",
        });
      if (r.url.endsWith("/Call/req-1/?status=queued")) return json(200, { call_status: "queued", request_uuid: "req-1", call_uuid: "" });
      return json(404, {});
    });
    expect(await adapter.fetchStatus("req-1", "call-1")).toEqual({
      kind: "found",
      event: {
        callId: "req-1",
        carrierRef: "call-1",
        progress: "completed",
        durationSeconds: 12,
        answeredBy: undefined,
        sipCode: undefined,
        cause: "Normal Hangup (4000)",
      },
    });
    expect(seen.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual([
      "/v1/Account/MAXXXX/Call/call-1/?status=live",
      "/v1/Account/MAXXXX/Call/call-1/",
    ]);
    expect(await adapter.fetchStatus("req-1")).toMatchObject({ kind: "found", event: { callId: "req-1", progress: "queued" } });
  });

  it("finds a call whose REST answer was lost among live calls by its numbers, and reports absent when nothing matches", async () => {
    let live = true;
    const { seen, adapter } = fakePlivo((r) => {
      const url = new URL(r.url);
      if (url.pathname.endsWith("/Call/") && url.searchParams.get("status") === "queued") return json(200, { calls: [] });
      if (url.pathname.endsWith("/Call/") && url.searchParams.get("status") === "live") return json(200, { calls: live ? ["call-7"] : [] });
      if (url.pathname.endsWith("/Call/call-7/"))
        return json(200, { call_status: "in-progress", call_uuid: "call-7", request_uuid: "req-7", to: "15550107701", from: "15550001000" });
      if (url.pathname.endsWith("/Call/")) return json(200, { objects: [] });
      return json(404, {});
    });
    expect(await adapter.findCall("+15550107701", "+15550001000", Date.now())).toMatchObject({
      kind: "found",
      event: { callId: "req-7", carrierRef: "call-7", progress: "in-progress" },
    });
    const liveList = new URL(seen.find((r) => r.url.includes("status=live"))?.url ?? "");
    expect(liveList.searchParams.get("to_number")).toBe("15550107701");
    live = false;
    expect(await adapter.findCall("+15550107701", "+15550001000", Date.now())).toEqual({ kind: "absent" });
  });

  it("cancels by CallUUID when it has one, else the request by its request_uuid", async () => {
    const { seen, adapter } = fakePlivo(() => new Response(null, { status: 204 }));
    await adapter.cancel("req-1", "call-1");
    await adapter.cancel("req-2");
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      "DELETE /v1/Account/MAXXXX/Call/call-1/",
      "DELETE /v1/Account/MAXXXX/Request/req-2/",
    ]);
  });
});
