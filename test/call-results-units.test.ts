import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callIdOf, parseCallId } from "../src/call-results/call-id";
import { CALL_TOKEN_TTL_MS, mintCallToken, verifyCallToken } from "../src/call-results/call-token";
import { RETRY_ON_CHOICES } from "../src/call-results/redial";
import { callResultSchema, dispositionProblem, resolveCallback } from "../src/call-results/result-input";
import { instantOfWallTime } from "../src/calling-window/zone-clock";
import { RETRYABLE_OUTCOMES, settleContact } from "../src/campaign-object/carrier-events/contact-machine";
import { callbackDueAt, MAX_CALLBACKS } from "../src/campaign-object/results/callback-rules";
import { newId } from "../src/ids";

describe("call ids", () => {
  it("carry the campaign and the attempt, and refuse anything else", () => {
    const campaignId = newId("cmp");
    const attemptId = newId("att");
    const callId = callIdOf(campaignId, attemptId);
    expect(callId).toMatch(/^call_[0-9a-z]{52}$/);
    expect(parseCallId(callId)).toEqual({ campaignId, attemptId });
    for (const bad of ["", "call_", `${callId}x`, callId.slice(0, -1), callId.replace("call_", "cmp_"), `${callId.slice(0, -1)}U`, `${callId.slice(0, -1)}i`]) {
      expect(parseCallId(bad), bad).toBeNull();
    }
  });
});

describe("call result tokens", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  const callId = callIdOf(newId("cmp"), newId("att"));
  const other = callIdOf(newId("cmp"), newId("att"));

  it("open one call's result until they expire, naming the account they were minted for", async () => {
    const token = await mintCallToken(env, callId, "acme", now + CALL_TOKEN_TTL_MS);
    expect(await verifyCallToken(env, callId, token, now)).toEqual({ kind: "ok", accountId: "acme" });
    expect(await verifyCallToken(env, callId, token, now + CALL_TOKEN_TTL_MS - 1_000)).toEqual({ kind: "ok", accountId: "acme" });
    expect(await verifyCallToken(env, callId, token, now + CALL_TOKEN_TTL_MS)).toEqual({ kind: "expired" });
  });

  it("refuse another call's token, a changed expiry, account or MAC, another key and malformed text", async () => {
    const token = await mintCallToken(env, callId, "acme", now + CALL_TOKEN_TTL_MS);
    const [expiry, account, mac] = token.slice(3).split(".") as [string, string, string];
    expect(account).toBe("acme");
    const flipped = `${mac.slice(0, 10)}${mac[10] === "A" ? "B" : "A"}${mac.slice(11)}`;
    const invalid = { kind: "invalid" };
    expect(await verifyCallToken(env, other, token, now)).toEqual(invalid);
    expect(await verifyCallToken(env, callId, `ct_${Number(expiry) + 86_400}.${account}.${mac}`, now)).toEqual(invalid);
    expect(await verifyCallToken(env, callId, `ct_${expiry}.globex.${mac}`, now)).toEqual(invalid);
    expect(await verifyCallToken(env, callId, `ct_${expiry}.${account}.${flipped}`, now)).toEqual(invalid);
    expect(await verifyCallToken({ ...env, SECRETS_KEY: "another-secret" }, callId, token, now)).toEqual(invalid);
    for (const bad of ["", "ct_", token.slice(3), `${token}=`, `ct_abc.${account}.${mac}`, `ct_${expiry}.${mac}`, `${token}.x`, `ct_${expiry}.Acme.${mac}`])
      expect(await verifyCallToken(env, callId, bad, now), bad).toEqual(invalid);
  });
});

describe("call result bodies", () => {
  const parse = (body: unknown) => callResultSchema.safeParse(body);
  const message = (body: unknown) => {
    const result = parse(body);
    return result.success ? null : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
  };

  it("take the documented fields, null as absent", () => {
    const body = {
      disposition: "callback_requested",
      data: { budget: 1200, decision_maker: true, note: "Tuesday", spouse: null },
      summary: "Wants a call on Tuesday.",
      transcript_url: "https://example.com/t/1",
      recording_url: "https://example.com/r/1.mp3",
      callback_in_seconds: 3600,
      opt_out: false,
    };
    expect(parse(body)).toEqual({ success: true, data: body });
    expect(parse({ disposition: "x", data: null, summary: null, callback_at: null, opt_out: null })).toEqual({ success: true, data: { disposition: "x" } });
  });

  it.each([
    [{}, "disposition is required"],
    [{ disposition: "" }, "disposition must be 1–64"],
    [{ disposition: "Interested" }, "disposition must be 1–64"],
    [{ disposition: "a".repeat(65) }, "disposition must be 1–64"],
    [{ disposition: "ok", extra: 1 }, 'unknown field "extra"'],
    [{ disposition: "ok", data: [] }, "data must be an object"],
    [{ disposition: "ok", data: { a: { b: 1 } } }, "data values must be strings"],
    [{ disposition: "ok", data: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }, "at most 50 keys"],
    [{ disposition: "ok", data: { text: "x".repeat(9_000) } }, "at most 8 KB"],
    [{ disposition: "ok", summary: "x".repeat(4_001) }, "summary must be at most 4000"],
    [{ disposition: "ok", summary: 5 }, "summary must be a string"],
    [{ disposition: "ok", transcript_url: "http://example.com/t" }, "transcript_url must be an https:// URL"],
    [{ disposition: "ok", recording_url: `https://example.com/${"r".repeat(2_048)}` }, "recording_url must be at most 2048"],
    [{ disposition: "ok", callback_at: "tomorrow" }, "callback_at must be an RFC 3339 time"],
    [{ disposition: "ok", callback_in_seconds: 59 }, "callback_in_seconds must be from 60"],
    [{ disposition: "ok", callback_in_seconds: 2_592_001 }, "callback_in_seconds must be from 60"],
    [{ disposition: "ok", callback_in_seconds: 61.5 }, "callback_in_seconds must be a whole number"],
    [{ disposition: "ok", callback_in_seconds: 60, callback_at: "2030-01-01T00:00:00Z" }, "not both"],
    [{ disposition: "ok", opt_out: "yes" }, "opt_out must be true or false"],
  ])("a bad body → 400 saying %#: %s", (body, expected) => {
    expect(message(body)).toContain(expected);
  });

  it("bound callback_at to 1 minute … 30 days ahead", () => {
    const now = Date.parse("2030-01-01T00:00:00Z");
    expect(resolveCallback({ callback_in_seconds: 120 }, now)).toBe(now + 120_000);
    expect(resolveCallback({ callback_at: "2030-01-01T00:01:00Z" }, now)).toBe(now + 60_000);
    expect(resolveCallback({ callback_at: "2030-01-31T00:00:00+00:00" }, now)).toBe(now + 30 * 86_400_000);
    expect(resolveCallback({}, now)).toBeNull();
    for (const at of ["2030-01-01T00:00:59Z", "2030-01-31T00:00:01Z", "2029-12-31T23:00:00Z", "9999-12-31T23:59:59Z"]) {
      expect(() => resolveCallback({ callback_at: at }, now), at).toThrowError(/callback_at must be from 1 minute to 30 days ahead/);
    }
  });

  it("hold a campaign to the dispositions it declares", () => {
    expect(dispositionProblem("interested", null)).toBeNull();
    expect(dispositionProblem("interested", ["interested", "not_interested"])).toBeNull();
    expect(dispositionProblem("maybe", ["interested", "not_interested"])).toMatch(/^disposition "maybe" .*use one of interested, not_interested/);
  });
});

describe("callback due times", () => {
  const window = { start: 9 * 60, end: 17 * 60, days: 0b011_1110, timezone: null }; // 09:00–17:00, Monday to Friday
  const ny = ["America/New_York"];
  const monday = (minutes: number) => instantOfWallTime("America/New_York", 2030, 1, 7, minutes);
  const tuesday = (minutes: number) => instantOfWallTime("America/New_York", 2030, 1, 8, minutes);
  const friday = (minutes: number) => instantOfWallTime("America/New_York", 2030, 1, 11, minutes);

  it.each([
    ["inside the window: as asked", monday(15 * 60), monday(15 * 60)],
    ["after closing: next morning", monday(18 * 60), tuesday(9 * 60)],
    ["before opening: that morning", tuesday(7 * 60), tuesday(9 * 60)],
    ["Friday night: Monday morning", friday(20 * 60), instantOfWallTime("America/New_York", 2030, 1, 14, 9 * 60)],
  ])("%s", (_name, requested, due) => {
    expect(callbackDueAt(requested, window, ny, 0)).toEqual({ ok: true, dueAt: due });
  });

  it("take any time without a window, refuse a sixth callback and a window that never opens", () => {
    expect(callbackDueAt(monday(20 * 60), null, [], 0)).toEqual({ ok: true, dueAt: monday(20 * 60) });
    expect(callbackDueAt(monday(15 * 60), window, ny, MAX_CALLBACKS - 1).ok).toBe(true);
    expect(callbackDueAt(monday(15 * 60), window, ny, MAX_CALLBACKS)).toMatchObject({ ok: false, reason: "too_many" });
    expect(callbackDueAt(monday(15 * 60), window, [], 0)).toMatchObject({ ok: false, reason: "never_opens" });
  });
});

describe("settling a contact with callbacks and retry_on", () => {
  const retryDelay = 60_000;
  it.each([
    ["a callback wins over completion", "answered", 1, 0, 0, { callbackAt: 5_000 }, "pending", 5_000, true],
    ["a callback wins over a retry", "busy", 1, 2, 0, { callbackAt: 5_000 }, "pending", 5_000, true],
    ["voicemail is retried when retry_on names it", "voicemail", 1, 1, 0, { retryOn: new Set(RETRY_ON_CHOICES) }, "pending", 61_000, false],
    ["voicemail completes by default", "voicemail", 1, 1, 0, {}, "completed", null, false],
    ["busy is not retried when retry_on leaves it out", "busy", 1, 2, 0, { retryOn: new Set(["voicemail"] as const) }, "failed", null, false],
    ["a callback's dial uses no retry", "busy", 2, 1, 1, {}, "pending", 61_000, false],
    ["retries run out counting real retries only", "busy", 3, 1, 1, {}, "failed", null, false],
    [
      "an invalid number is never retried",
      "invalid_number",
      1,
      5,
      0,
      { retryOn: new Set([...RETRYABLE_OUTCOMES, "invalid_number"] as const) },
      "failed",
      null,
      false,
    ],
  ] as const)("%s", (_name, outcome, attempts, retries, callbacks, extra, status, next, callback) => {
    const settled = settleContact(outcome, attempts, retries, retryDelay, 1_000, true, { callbacks, ...extra });
    expect(settled).toEqual({ status, nextAttemptAt: next, callback });
  });

  it("no callback or retry once the campaign has ended", () => {
    expect(settleContact("answered", 1, 2, retryDelay, 1_000, false, { callbackAt: 5_000 })).toEqual({
      status: "completed",
      nextAttemptAt: null,
      callback: false,
    });
  });
});
