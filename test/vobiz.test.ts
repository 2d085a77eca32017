import { describe, expect, it } from "vitest";
import type { OriginateRequest, SignedCallback } from "../src/carriers/types";
import { verifyVobizCallback, vobizSignature } from "../src/carriers/v3-signatures";
import { VobizAdapter } from "../src/carriers/vobiz";
import { type CarrierReply, jsonResponse as json, recordingFetcher } from "./carrier-fakes";

const TOKEN = "vobiz-token-123";
const PATH = "https://edgedial.example/webhooks/vobiz/cmp_1/att_1/0123456789abcdef0123456789abcdef";

/** base64(HMAC-SHA256(token, url-without-query + "." + nonce)), computed independently with Node's crypto. */
const VECTORS = [
  { url: `${PATH}?x=1`, nonce: "09876543210987654321", signature: "uL4aoxMqDKqVrRkC1DIk9ehGgffgIvZGQcAZ0FRKaYQ=" },
  { url: `${PATH}/answer`, nonce: "12345678901234567890", signature: "r+gQ9UEzkpFCJcSqR0bMPn94IZwwIJHdCMrAqvEFc98=" },
];

const callback = (url: string, signature: string, nonce: string, params: [string, string][] = [["CallStatus", "completed"]]): SignedCallback => ({
  url,
  method: "POST",
  headers: { "x-vobiz-signature-v3": signature, "x-vobiz-signature-v3-nonce": nonce },
  params,
});

describe("Vobiz V3 signature", () => {
  it("matches the documented construction: the URL without its query, a dot, the nonce", async () => {
    for (const v of VECTORS) {
      expect(await vobizSignature(TOKEN, v.url, v.nonce)).toBe(v.signature);
      expect(await verifyVobizCallback(TOKEN, callback(v.url, v.signature, v.nonce))).toBe(true);
    }
  });

  it("does not cover the body (the path's HMAC is what binds the attempt), and refuses any other path, nonce or token", async () => {
    const [v] = VECTORS as [(typeof VECTORS)[number]];
    // The documented weakness the webhook route compensates for: the body is outside the signature.
    expect(await verifyVobizCallback(TOKEN, callback(v.url, v.signature, v.nonce, [["CallStatus", "busy"]]))).toBe(true);
    expect(await verifyVobizCallback(TOKEN, callback(v.url.replace("att_1", "att_2"), v.signature, v.nonce))).toBe(false);
    expect(await verifyVobizCallback(TOKEN, callback(v.url.replace("0123", "f123"), v.signature, v.nonce))).toBe(false);
    expect(await verifyVobizCallback(TOKEN, callback(v.url, v.signature, "09876543210987654320"))).toBe(false);
    expect(await verifyVobizCallback("vobiz-token-124", callback(v.url, v.signature, v.nonce))).toBe(false);
    expect(await verifyVobizCallback(TOKEN, callback(v.url, `${v.signature.slice(0, -2)}A=`, v.nonce))).toBe(false);
    expect(await verifyVobizCallback(TOKEN, { ...callback(v.url, v.signature, v.nonce), headers: {} })).toBe(false);
  });

  it("exposes the nonce for the replay cache", () => {
    const adapter = new VobizAdapter({ auth_id: "MA_1", auth_token: TOKEN }, "https://api.vobiz.ai", fetch);
    expect(adapter.nonceOf(callback(PATH, "x", "42"))).toBe("42");
    expect(adapter.nonceOf({ ...callback(PATH, "x", "42"), headers: {} })).toBeNull();
  });
});

/** A fake Vobiz: each request is recorded and answered by `reply`. */
function fakeVobiz(reply: CarrierReply) {
  const { seen, fetcher } = recordingFetcher(reply);
  return { seen, adapter: new VobizAdapter({ auth_id: "MA_TEST", auth_token: "tok" }, "https://api.vobiz.test", fetcher) };
}

const vobizError = (status: number, code: string, message: string) => json(status, { status: "error", error: { code, message } });

const REQUEST: OriginateRequest = {
  to: "+919876543210",
  from: "+918012345678",
  statusCallbackUrl: `${PATH}`,
  answerUrl: `${PATH}/answer`,
  ringTimeoutSeconds: 30,
  timeLimitSeconds: 3600,
};

describe("Vobiz REST", () => {
  it("creates the call under /api/v1 with X-Auth-ID / X-Auth-Token and no ring_url", async () => {
    const { seen, adapter } = fakeVobiz(() => json(201, { api_id: "a", message: "call fired", request_uuid: "uuid-1" }));
    expect(await adapter.originate(REQUEST)).toEqual({ kind: "accepted", callId: "uuid-1" });
    const [request] = seen;
    expect(request?.url).toBe("https://api.vobiz.test/api/v1/Account/MA_TEST/Call/");
    expect(request?.headers.get("X-Auth-ID")).toBe("MA_TEST");
    expect(request?.headers.get("X-Auth-Token")).toBe("tok");
    expect(request?.headers.get("Authorization")).toBeNull();
    const body = JSON.parse(request?.body ?? "{}");
    expect(body).toMatchObject({ answer_url: REQUEST.answerUrl, hangup_url: REQUEST.statusCallbackUrl, machine_detection_url: REQUEST.statusCallbackUrl });
    expect(body.ring_url).toBeUndefined();
  });

  it.each([
    [401, "INVALID_CREDENTIALS", "Invalid X-Auth-ID or X-Auth-Token", "campaign_error", /Vobiz 401.*auth_id and auth_token/],
    [402, "INSUFFICIENT_BALANCE", "Account balance too low", "campaign_error", /Vobiz.*out of credit/],
    [403, "FORBIDDEN", "calls to this country are not enabled", "campaign_error", /Vobiz.*geo permissions/],
    [400, "INVALID_NUMBER", "invalid destination number", "contact_error", /Vobiz 400/],
    [429, "RATE_LIMITED", "CPS limit exceeded", "retry_later", /Vobiz 429/],
    [502, "BAD_GATEWAY", "downstream unavailable", "retry_later", /Vobiz 502/],
  ])("maps REST %i %s to %s", async (status, code, message, kind, detail) => {
    const { adapter } = fakeVobiz(() => vobizError(status, code, message));
    const result = await adapter.originate(REQUEST);
    expect(result.kind).toBe(kind);
    expect("detail" in result && result.detail).toMatch(detail);
  });

  it("looks a call up live, queued, then in the CDRs, with one uuid for request and call", async () => {
    const { seen, adapter } = fakeVobiz((r) => {
      const path = new URL(r.url).pathname;
      if (path.endsWith("/cdr/uuid-1"))
        return json(200, { success: true, data: { uuid: "uuid-1", hangup_cause_name: "Busy Line", hangup_cause_code: 3000, billsec: 0 } });
      return vobizError(404, "NOT_FOUND", "no such call");
    });
    expect(await adapter.fetchStatus("uuid-1")).toMatchObject({ kind: "found", event: { callId: "uuid-1", carrierRef: "uuid-1", progress: "busy" } });
    expect(seen.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual([
      "/api/v1/Account/MA_TEST/Call/uuid-1?status=live",
      "/api/v1/Account/MA_TEST/Call/uuid-1/?status=queued",
      "/api/v1/Account/MA_TEST/cdr/uuid-1",
    ]);
    const gone = fakeVobiz(() => vobizError(404, "NOT_FOUND", "no such call"));
    expect(await gone.adapter.fetchStatus("uuid-2")).toEqual({ kind: "absent" });
    const down = fakeVobiz(() => vobizError(500, "INTERNAL", "oops"));
    expect(await down.adapter.fetchStatus("uuid-3")).toMatchObject({ kind: "error" });
  });

  it("finds a lost call in the CDRs by its numbers, not one placed before the attempt", async () => {
    const since = Date.now();
    const { adapter } = fakeVobiz((r) => {
      const url = new URL(r.url);
      if (url.pathname.endsWith("/cdr")) {
        return json(200, {
          success: true,
          data: [
            {
              uuid: "new",
              destination_number: "919876543210",
              start_time: new Date(since + 1000).toISOString(),
              hangup_cause_name: "Normal Hangup",
              billsec: 9,
            },
            {
              uuid: "old",
              destination_number: "919876543210",
              start_time: new Date(since - 600_000).toISOString(),
              hangup_cause_name: "Normal Hangup",
              billsec: 9,
            },
          ],
        });
      }
      return json(200, { calls: [] });
    });
    expect(await adapter.findCall(REQUEST.to, REQUEST.from, since)).toMatchObject({
      kind: "found",
      event: { callId: "new", progress: "completed", durationSeconds: 9 },
    });
  });
});
