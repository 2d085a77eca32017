import { describe, expect, it } from "vitest";
import { type ContactPolicy, NO_CONTACT_POLICY } from "../src/contact-policy/policy";
import { dayStartOf, judgeDial, type LedgerDial, retentionMs } from "../src/contact-policy/rules";

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const dial = (iso: string, voicemail = false): LedgerDial => ({ at: at(iso), voicemail, holdUntil: 0 });
const policy = (rules: Partial<ContactPolicy>): ContactPolicy => ({ ...NO_CONTACT_POLICY, ...rules });
const NY = ["America/New_York"];

describe("contact policy rules (pure)", () => {
  const cases: [string, ContactPolicy, LedgerDial[], readonly string[], string, { ok: true } | { ok: false; rule: string; until: string }][] = [
    [
      "no policy: any number of dials",
      NO_CONTACT_POLICY,
      [dial("2026-05-04T10:00:00Z"), dial("2026-05-04T10:01:00Z")],
      NY,
      "2026-05-04T10:02:00Z",
      { ok: true },
    ],
    // Rolling window: 3 in 7 days; the oldest of the last three must leave (t − 7 d, t].
    [
      "rolling window full: waits for the oldest counted dial to leave",
      policy({ maxAttempts: { count: 3, days: 7 } }),
      [dial("2026-05-01T09:00:00Z"), dial("2026-05-03T09:00:00Z"), dial("2026-05-05T09:00:00Z")],
      NY,
      "2026-05-06T12:00:00Z",
      { ok: false, rule: "max_attempts", until: "2026-05-08T09:00:00.000Z" },
    ],
    [
      "rolling window: a dial exactly 7 days old has left",
      policy({ maxAttempts: { count: 3, days: 7 } }),
      [dial("2026-05-01T09:00:00Z"), dial("2026-05-03T09:00:00Z"), dial("2026-05-05T09:00:00Z")],
      NY,
      "2026-05-08T09:00:00Z",
      { ok: true },
    ],
    [
      "rolling window with older dials: only the last `count` matter",
      policy({ maxAttempts: { count: 2, days: 7 } }),
      [dial("2026-04-01T09:00:00Z"), dial("2026-05-03T09:00:00Z"), dial("2026-05-05T09:00:00Z")],
      NY,
      "2026-05-06T00:00:00Z",
      { ok: false, rule: "max_attempts", until: "2026-05-10T09:00:00.000Z" },
    ],
    // Voicemail counted or not.
    [
      "voicemail counts by default",
      policy({ maxAttempts: { count: 2, days: 7 } }),
      [dial("2026-05-03T09:00:00Z", true), dial("2026-05-04T09:00:00Z")],
      NY,
      "2026-05-05T00:00:00Z",
      { ok: false, rule: "max_attempts", until: "2026-05-10T09:00:00.000Z" },
    ],
    [
      "count_voicemail false: a dial that reached voicemail does not count",
      policy({ maxAttempts: { count: 2, days: 7 }, countVoicemail: false }),
      [dial("2026-05-03T09:00:00Z", true), dial("2026-05-04T09:00:00Z")],
      NY,
      "2026-05-05T00:00:00Z",
      { ok: true },
    ],
    [
      "count_voicemail false still counts a dial in progress (not known to be voicemail)",
      policy({ maxAttemptsPerDay: 1, countVoicemail: false }),
      [{ at: at("2026-05-04T14:00:00Z"), voicemail: false, holdUntil: 0 }],
      NY,
      "2026-05-04T15:00:00Z",
      { ok: false, rule: "max_attempts_per_day", until: "2026-05-05T04:00:00.000Z" },
    ],
    // Per day in the number's zone.
    [
      "per day: the day starts at 00:00 New York, not UTC",
      policy({ maxAttemptsPerDay: 2 }),
      [dial("2026-05-04T03:30:00Z"), dial("2026-05-04T14:00:00Z")],
      NY,
      "2026-05-04T15:00:00Z",
      { ok: true },
    ],
    [
      "per day full: waits for the next local midnight",
      policy({ maxAttemptsPerDay: 2 }),
      [dial("2026-05-04T13:00:00Z"), dial("2026-05-04T14:00:00Z")],
      NY,
      "2026-05-04T15:00:00Z",
      { ok: false, rule: "max_attempts_per_day", until: "2026-05-05T04:00:00.000Z" },
    ],
    [
      "per day across the spring DST change: the day began at 00:00 EST, the next begins at 00:00 EDT",
      policy({ maxAttemptsPerDay: 2 }),
      [dial("2026-03-08T04:30:00Z"), dial("2026-03-08T05:30:00Z"), dial("2026-03-08T14:00:00Z")],
      NY,
      "2026-03-08T20:00:00Z",
      { ok: false, rule: "max_attempts_per_day", until: "2026-03-09T04:00:00.000Z" },
    ],
    [
      "per day across the autumn DST change: the 25-hour day ends at 00:00 EST",
      policy({ maxAttemptsPerDay: 1 }),
      [dial("2026-11-01T04:30:00Z")],
      NY,
      "2026-11-01T23:00:00Z",
      { ok: false, rule: "max_attempts_per_day", until: "2026-11-02T05:00:00.000Z" },
    ],
    [
      "per day for a number in two zones: its day starts at the earlier midnight",
      policy({ maxAttemptsPerDay: 1 }),
      [dial("2026-05-04T05:30:00Z")],
      ["America/Chicago", "America/Los_Angeles"],
      "2026-05-04T18:00:00Z",
      { ok: false, rule: "max_attempts_per_day", until: "2026-05-05T05:00:00.000Z" },
    ],
    // Spacing.
    [
      "spacing: waits min_seconds_between_attempts after the latest dial, voicemail or not",
      policy({ minSecondsBetweenAttempts: 3600, countVoicemail: false }),
      [dial("2026-05-04T10:00:00Z", true)],
      NY,
      "2026-05-04T10:30:00Z",
      { ok: false, rule: "min_seconds_between_attempts", until: "2026-05-04T11:00:00.000Z" },
    ],
    [
      "spacing then the per-day cap: the answer satisfies both",
      policy({ minSecondsBetweenAttempts: 3600, maxAttemptsPerDay: 2 }),
      [dial("2026-05-05T13:00:00Z"), dial("2026-05-05T14:30:00Z")],
      NY,
      "2026-05-05T14:45:00Z",
      { ok: false, rule: "max_attempts_per_day", until: "2026-05-06T04:00:00.000Z" },
    ],
    [
      "spacing pushes past midnight, where the new day is full of nothing: eligible after the spacing",
      policy({ minSecondsBetweenAttempts: 7200, maxAttemptsPerDay: 1 }),
      [dial("2026-05-05T03:00:00Z")],
      NY,
      "2026-05-05T03:10:00Z",
      { ok: false, rule: "min_seconds_between_attempts", until: "2026-05-05T05:00:00.000Z" },
    ],
    // One call at a time.
    [
      "a number in a live call is held until the call's hold ends",
      NO_CONTACT_POLICY,
      [{ at: at("2026-05-04T10:00:00Z"), voicemail: false, holdUntil: at("2026-05-04T11:05:00Z") }],
      NY,
      "2026-05-04T10:01:00Z",
      { ok: false, rule: "in_call", until: "2026-05-04T11:05:00.000Z" },
    ],
    [
      "a hold that lapsed (its object was lost) no longer holds",
      NO_CONTACT_POLICY,
      [{ at: at("2026-05-04T10:00:00Z"), voicemail: false, holdUntil: at("2026-05-04T11:05:00Z") }],
      NY,
      "2026-05-04T11:05:00Z",
      { ok: true },
    ],
  ];

  it.each(cases)("%s", (_name, rules, dials, zones, now, expected) => {
    const verdict = judgeDial(rules, dials, zones, at(now));
    if (expected.ok) expect(verdict).toEqual({ ok: true });
    else expect(verdict.ok ? verdict : { ok: false, rule: verdict.rule, until: new Date(verdict.until).toISOString() }).toEqual(expected);
  });

  it("a number of unknown zone counts its day in UTC", () => {
    expect(dayStartOf([], at("2026-05-04T18:00:00Z"))).toBe(at("2026-05-04T00:00:00Z"));
  });

  it("keeps dials as long as the longest window needs, and at least two days for the per-day count", () => {
    expect(retentionMs(NO_CONTACT_POLICY)).toBeGreaterThanOrEqual(2 * DAY);
    expect(retentionMs(policy({ maxAttempts: { count: 7, days: 30 } }))).toBe(30 * DAY);
  });
});
