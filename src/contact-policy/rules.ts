import { DAY_MS, instantOfWallTime, wallTime } from "../calling-window/zone-clock";
import type { ContactPolicy } from "./policy";

/** One dial of a number as the ledger keeps it: reserved or carried, and whether it reached voicemail. */
export interface LedgerDial {
  at: number;
  /** True once the call ended at an answering machine; a dial still in progress is not known to be one. */
  voicemail: boolean;
  /** The number is in this call until then (0 once it ended); past it the hold has lapsed. */
  holdUntil: number;
}

export type PolicyRule = "max_attempts" | "max_attempts_per_day" | "min_seconds_between_attempts" | "in_call";

export type PolicyVerdict = { ok: true } | { ok: false; rule: PolicyRule; until: number };

/** Per-day counts look back at most this far: a zone's day is at most 25 h, and zones differ by up to 26 h. */
const PER_DAY_LOOKBACK_MS = 2 * DAY_MS + 3_600_000;
/** Each pass moves the answer later; rules interact (spacing then a new day), but settle in a few passes. */
const MAX_PASSES = 32;

/** The local midnight at or before `at` that starts the number's day: the earliest over its zones (UTC when none is known). */
export function dayStartOf(zones: readonly string[], at: number): number {
  let start = Number.POSITIVE_INFINITY;
  for (const zone of zones.length > 0 ? zones : ["UTC"]) {
    const local = wallTime(zone, at);
    start = Math.min(start, instantOfWallTime(zone, local.year, local.month, local.day, 0));
  }
  return start;
}

/** The first local midnight after `at` in any of the zones: the soonest instant a new day may begin. */
function nextDayStart(zones: readonly string[], at: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const zone of zones.length > 0 ? zones : ["UTC"]) {
    const local = wallTime(zone, at);
    next = Math.min(next, instantOfWallTime(zone, local.year, local.month, local.day + 1, 0));
  }
  return next;
}

/**
 * Whether a number may be dialled at `now` under the policy, given its dials (any order), and if
 * not, which rule holds it and the earliest instant it may be. `zones` are the number's zones as
 * calling windows tell them; a number in several counts its day from the earliest midnight.
 */
export function judgeDial(policy: ContactPolicy, dials: readonly LedgerDial[], zones: readonly string[], now: number): PolicyVerdict {
  const live = dials.filter((d) => d.holdUntil > now);
  if (live.length > 0) return { ok: false, rule: "in_call", until: Math.max(...live.map((d) => d.holdUntil)) };
  const until = eligibleFrom(policy, dials, zones, now);
  return until.at <= now ? { ok: true } : { ok: false, rule: until.rule as PolicyRule, until: until.at };
}

/** The earliest instant at or after `now` that every counting rule allows, and the last rule that moved it. */
function eligibleFrom(policy: ContactPolicy, dials: readonly LedgerDial[], zones: readonly string[], now: number): { at: number; rule: PolicyRule | null } {
  const counted = dials
    .filter((d) => policy.countVoicemail || !d.voicemail)
    .map((d) => d.at)
    .sort((a, b) => a - b);
  const latest = dials.reduce((max, d) => Math.max(max, d.at), Number.NEGATIVE_INFINITY);
  let at = now;
  let rule: PolicyRule | null = null;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const before = at;
    if (policy.minSecondsBetweenAttempts !== null && latest + policy.minSecondsBetweenAttempts * 1000 > at) {
      at = latest + policy.minSecondsBetweenAttempts * 1000;
      rule = "min_seconds_between_attempts";
    }
    if (policy.maxAttempts !== null) {
      const { count, days } = policy.maxAttempts;
      // The window is (t − days, t]: the dial `count` places from the newest must have left it.
      const blocking = counted.length >= count ? (counted[counted.length - count] as number) + days * DAY_MS : null;
      if (blocking !== null && blocking > at) {
        at = blocking;
        rule = "max_attempts";
      }
    }
    if (policy.maxAttemptsPerDay !== null) {
      const start = dayStartOf(zones, at);
      const today = counted.filter((t) => t >= start).length;
      if (today >= policy.maxAttemptsPerDay) {
        at = nextDayStart(zones, at);
        rule = "max_attempts_per_day";
      }
    }
    if (at === before) return { at, rule };
  }
  return { at, rule };
}

/** How long the ledger must keep a dial for this policy's rules to see it (at least the per-day lookback). */
export function retentionMs(policy: ContactPolicy): number {
  const rolling = policy.maxAttempts ? policy.maxAttempts.days * DAY_MS : 0;
  const spacing = (policy.minSecondsBetweenAttempts ?? 0) * 1000;
  return Math.max(PER_DAY_LOOKBACK_MS, rolling, spacing);
}
