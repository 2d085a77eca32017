import { describe, expect, it } from "vitest";
import { advanceTat, type Grant, rateAllowance, WINDOW_MS, windowUsage } from "../src/accounts/pacing";
import { applyCallEvent, settleContact } from "../src/campaign-object/carrier-events/contact-machine";
import { outcomeFor } from "../src/carriers/simulator/outcomes";
import { TwilioAdapter, twilioSignature, verifyTwilioSignature } from "../src/carriers/twilio";
import type { CallEvent } from "../src/carriers/types";

describe("X-Twilio-Signature", () => {
  const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const params: [string, string][] = [
    ["CallSid", "CA1234567890ABCDE"],
    ["Caller", "+12349013030"],
    ["Digits", "1234"],
    ["From", "+12349013030"],
    ["To", "+18005551212"],
  ];

  it("matches Twilio's published test vector", async () => {
    expect(await twilioSignature("12345", url, params)).toBe("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    expect(await twilioSignature("12345", url, [...params].reverse())).toBe("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  });

  it("verifies it, also with the default port spelled out, and rejects any change", async () => {
    const ok = (u: string, p = params, token = "12345", sig = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") =>
      verifyTwilioSignature(token, { url: u, method: "POST", headers: { "x-twilio-signature": sig }, params: p });
    expect(await ok(url)).toBe(true);
    expect(await ok("https://mycompany.com:443/myapp.php?foo=1&bar=2")).toBe(true);
    expect(await ok("https://mycompany.com/myapp.php?foo=1&bar=3")).toBe(false);
    expect(await ok(url, [...params.slice(1), ["CallSid", "CA1234567890ABCDF"]])).toBe(false);
    expect(await ok(url, params, "12346")).toBe(false);
    expect(await ok(url, params, "12345", "")).toBe(false);
  });

  it("parses a status callback into a normalised event", () => {
    const adapter = new TwilioAdapter({ account_sid: "AC1", auth_token: "t" }, "https://api.twilio.com", fetch);
    expect(
      adapter.parseCallback([
        ["CallSid", "CA9"],
        ["CallStatus", "completed"],
        ["SequenceNumber", "3"],
        ["CallDuration", "42"],
        ["AnsweredBy", "machine_end_beep"],
      ]),
    ).toEqual({ callId: "CA9", progress: "completed", sequence: 3, durationSeconds: 42, answeredBy: "machine_end_beep", sipCode: undefined });
    expect(adapter.parseCallback([["CallStatus", "completed"]])).toBeNull();
    expect(
      adapter.parseCallback([
        ["CallSid", "CA9"],
        ["CallStatus", "exploded"],
      ]),
    ).toBeNull();
  });
});

describe("applyCallEvent", () => {
  const ev = (progress: CallEvent["progress"], extra: Partial<CallEvent> = {}): CallEvent => ({ callId: "CA1", progress, ...extra });
  it.each([
    [0, ev("initiated"), { kind: "progress", rank: 1, contactStatus: "originated" }],
    [1, ev("ringing"), { kind: "progress", rank: 2, contactStatus: "originated" }],
    [2, ev("in-progress"), { kind: "progress", rank: 3, contactStatus: "connected" }],
    [3, ev("ringing"), { kind: "ignore" }],
    [2, ev("ringing"), { kind: "ignore" }],
    [3, ev("completed", { durationSeconds: 30 }), { kind: "final", outcome: "answered", talkSeconds: 30 }],
    [0, ev("completed", { durationSeconds: 9 }), { kind: "final", outcome: "answered", talkSeconds: 9 }],
    [3, ev("completed", { answeredBy: "machine_end_beep", durationSeconds: 20 }), { kind: "final", outcome: "voicemail", talkSeconds: 20 }],
    [2, ev("busy"), { kind: "final", outcome: "busy", talkSeconds: 0 }],
    [2, ev("no-answer"), { kind: "final", outcome: "no_answer", talkSeconds: 0 }],
    [1, ev("failed", { sipCode: 503 }), { kind: "final", outcome: "failed", talkSeconds: 0 }],
    [1, ev("failed", { sipCode: 404 }), { kind: "final", outcome: "invalid_number", talkSeconds: 0 }],
    [1, ev("canceled"), { kind: "final", outcome: "canceled", talkSeconds: 0 }],
    [2, ev("timeout"), { kind: "final", outcome: "timeout", talkSeconds: 0 }],
  ] as const)("rank %i + %j → %j", (rank, event, expected) => {
    expect(applyCallEvent(rank, false, event)).toEqual(expected);
  });

  it("ignores everything once the attempt has ended", () => {
    expect(applyCallEvent(4, true, ev("completed"))).toEqual({ kind: "ignore" });
  });
});

describe("settleContact", () => {
  it.each([
    ["answered", 1, 2, true, "completed", false],
    ["voicemail", 1, 2, true, "completed", false],
    ["busy", 1, 2, true, "pending", true],
    ["busy", 2, 2, true, "pending", true],
    ["busy", 3, 2, true, "failed", false],
    ["no_answer", 1, 0, true, "failed", false],
    ["failed", 1, 1, true, "pending", true],
    ["timeout", 1, 1, true, "pending", true],
    ["invalid_number", 1, 5, true, "failed", false],
    ["canceled", 1, 5, true, "cancelled", false],
    ["busy", 1, 2, false, "failed", false],
  ] as const)("%s after %i attempts, %i retries, can retry %s → %s", (outcome, attempts, retries, canRetry, status, retried) => {
    const result = settleContact(outcome, attempts, retries, 60_000, 1_000, canRetry);
    expect(result.status).toBe(status);
    expect(result.nextAttemptAt).toBe(retried ? 61_000 : null);
  });
});

describe("rateAllowance", () => {
  function simulate(perMinute: number, durationMs: number, tickMs: number) {
    const grants: Grant[] = [];
    let tat = 0;
    const times: number[] = [];
    for (let now = 0; now < durationMs; now += tickMs) {
      const { allowed } = rateAllowance(windowUsage(grants, now), tat, now, perMinute);
      if (allowed > 0) {
        grants.push({ at: now, count: allowed });
        tat = advanceTat(tat, now, allowed, perMinute);
        for (let i = 0; i < allowed; i++) times.push(now);
      }
    }
    return times;
  }

  it.each([
    [60, 10],
    [600, 7],
    [6_000, 25],
    [100_000, 50],
  ])("keeps %i/min within every 60 s window and near the cap (ticks of %i ms)", (perMinute, tickMs) => {
    const times = simulate(perMinute, 5 * WINDOW_MS, tickMs);
    // Grants keep a second of guard so the carrier, which sees each call a little later, never counts more.
    for (let i = 0; i + perMinute < times.length; i++) expect(times[i + perMinute]! - times[i]!).toBeGreaterThanOrEqual(WINDOW_MS + 1_000);
    const rate = times.length / 5;
    expect(rate).toBeGreaterThan(perMinute * 0.95);
    expect(rate).toBeLessThanOrEqual(perMinute);
  });

  it("blocks entirely at 0 and says when to ask again otherwise", () => {
    expect(rateAllowance(windowUsage([], 1_000), 0, 1_000, 0)).toEqual({ allowed: 0, retryAt: null });
    const blocked = rateAllowance(windowUsage([{ at: 1_000, count: 1 }], 1_000), 2_000, 1_000, 60);
    expect(blocked.allowed).toBe(0);
    expect(blocked.retryAt).toBe(2_000);
    expect(rateAllowance(windowUsage([], 5_000), 0, 5_000, 60)).toEqual({ allowed: 1, retryAt: null });
    // A full window reopens just after its oldest grant leaves it.
    const full = rateAllowance({ used: 60, oldestAt: 10_000 }, 0, 30_000, 60);
    expect(full).toEqual({ allowed: 0, retryAt: 10_000 + 61_000 + 1 });
  });
});

describe("simulator outcomes", () => {
  it.each([
    ["+15550100000", "answered"],
    ["+15550100069", "answered"],
    ["+15550100070", "busy"],
    ["+15550100079", "busy"],
    ["+15550100080", "no_answer"],
    ["+15550100089", "no_answer"],
    ["+15550100090", "failed"],
    ["+15550100094", "failed"],
    ["+15550100095", "voicemail"],
    ["+15550100097", "voicemail"],
    ["+15550100098", "invalid_number"],
    ["+15550100099", "long_call"],
  ])("%s → %s", (to, outcome) => {
    expect(outcomeFor(to)).toBe(outcome);
  });
});
