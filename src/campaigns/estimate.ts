import type { CallLimits } from "../accounts/limits";
import { nextUtcMidnight, PACING_WINDOW_MS } from "../accounts/pacing";
import { type CallingWindow, nextOpening } from "../calling-window/calling-window";
import { instantOfWallTime, wallTime } from "../calling-window/zone-clock";
import { badRequest, quoted } from "../http/errors";

/**
 * What the forecast takes for granted about calls, each a named, overridable number. The defaults
 * are the simulator's outcome table (src/carriers/simulator/outcomes.ts, numbers with uniform last
 * two digits): 74% answered by a person or a machine, averaging 38 s from dial to hang-up (35 s
 * calls, 24 s voicemails, 1% of 305 s); the rest hold a line 13 s on average (busy 3 s, no answer
 * 30 s, failed 1 s, invalid 0 s); 25% end busy, unanswered or failed and are retried.
 */
export interface EstimateAssumptions {
  /** Share of dials answered (by a person or a machine). */
  answer_rate: number;
  /** Seconds an answered call holds a line, ringing included. */
  average_call_seconds: number;
  /** Seconds a dial that is not answered holds a line (ringing until busy, no answer or failure). */
  unanswered_call_seconds: number;
  /** Share of contacts whose first dial ends busy, unanswered or failed: they use their retries. */
  retry_share: number;
}

export const DEFAULT_ASSUMPTIONS: Readonly<EstimateAssumptions> = Object.freeze({
  answer_rate: 0.74,
  average_call_seconds: 38,
  unanswered_call_seconds: 13,
  retry_share: 0.25,
});

const ASSUMPTION_RANGES: Record<keyof EstimateAssumptions, [min: number, max: number]> = {
  answer_rate: [0, 1],
  average_call_seconds: [1, 3600],
  unanswered_call_seconds: [0, 600],
  retry_share: [0, 1],
};

/** The assumptions with any the caller overrides (query parameters of the same names); a bad value is a 400 naming it. */
export function parseAssumptions(query: (name: string) => string | undefined): EstimateAssumptions {
  const out = { ...DEFAULT_ASSUMPTIONS };
  for (const [name, [min, max]] of Object.entries(ASSUMPTION_RANGES) as [keyof EstimateAssumptions, [number, number]][]) {
    const raw = query(name);
    if (raw === undefined || raw === "") continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw badRequest(`${name} must be a number from ${min} to ${max}; got ${quoted(raw)}.`);
    out[name] = value;
  }
  return out;
}

export interface EstimateInput {
  /** Contacts that will be dialled: those create would write, less the do-not-call ones. */
  contacts: number;
  maxConcurrentCalls: number;
  retriesPerContact: number;
  retryDelaySeconds: number;
  limits: CallLimits;
  /** What the account has already used today (UTC): its daily caps are shared by every campaign. */
  usedToday: { calls: number; talkSeconds: number };
  /** When dialling starts: scheduled_at, or now. */
  startAt: number;
  /** The calling window, and the zones it is taken in (those of most contacts). */
  window: { window: CallingWindow; zones: readonly string[] } | null;
  assumptions: EstimateAssumptions;
}

type Limit = "concurrency" | "calls_per_minute" | "daily_calls_max" | "daily_minutes_max" | "calling_window" | "retries";

export interface Estimate {
  /** Dials expected, retries included. */
  dials: number;
  /** Dials if every contact used every retry. */
  dials_max: number;
  talk_minutes: number;
  /** Calls at once: max_concurrent_calls within the account's concurrent_max. */
  concurrency: number;
  /** The sustained dialling rate while dialling is allowed. */
  dials_per_minute: number;
  /** What sets the pace of the finish; with finishes_at null, what stops it. */
  limited_by: Limit;
  starts_at: string;
  /** null when the campaign could never finish (a cap of 0, a window that never opens). */
  finishes_at: string | null;
  duration_seconds: number | null;
}

/** Opening periods looked at before the forecast gives up: ten years of daily windows. */
const MAX_PERIODS = 3660;

/** When a window that is open at `at` closes in every zone: the earliest local end among them. */
function closingAfter(window: CallingWindow, zones: readonly string[], at: number): number {
  let closing = Number.POSITIVE_INFINITY;
  for (const zone of zones) {
    const local = wallTime(zone, at);
    closing = Math.min(closing, instantOfWallTime(zone, local.year, local.month, local.day, window.end));
  }
  return closing;
}

/**
 * A forecast of dials and finishing time. Dialling runs at the lower of two rates: the concurrency
 * divided by the average time a dial holds a line, and calls_per_minute (paced over 61 s as the
 * account paces it). It stops for the day at a daily cap and outside the calling window, and the
 * last contacts' retries add their delays after the last first dial.
 */
export function estimateDialling(input: EstimateInput): Estimate {
  const { answer_rate: answered, average_call_seconds: callS, unanswered_call_seconds: missS, retry_share: retryShare } = input.assumptions;
  const n = input.contacts;
  const retries = input.retriesPerContact;
  // Retried contacts are taken to end every retry as their first dial did (true of the simulator; a ceiling elsewhere).
  const dials = n * (1 + retryShare * retries);
  const firstDialS = answered * callS + (1 - answered) * missS;
  const lineSeconds = n * firstDialS + n * retryShare * retries * missS;
  const perDialS = dials > 0 ? lineSeconds / dials : 0;
  const talkSeconds = n * answered * callS;
  const concurrency = Math.min(input.maxConcurrentCalls, input.limits.concurrent_max);
  const byLines = perDialS > 0 ? concurrency / perDialS : Number.POSITIVE_INFINITY;
  const byRate = (input.limits.calls_per_minute * 1000) / PACING_WINDOW_MS;
  const rate = Math.min(byLines, byRate); // dials per second
  const base = {
    dials: Math.round(dials),
    dials_max: n * (1 + retries),
    talk_minutes: Math.ceil(talkSeconds / 60),
    concurrency,
    dials_per_minute: Number.isFinite(rate) ? Math.round(rate * 600) / 10 : 0,
    starts_at: new Date(input.startAt).toISOString(),
  };
  const never = (limit: Limit): Estimate => ({ ...base, limited_by: limit, finishes_at: null, duration_seconds: null });
  if (dials === 0) return { ...base, limited_by: "concurrency", finishes_at: base.starts_at, duration_seconds: 0 };
  if (concurrency <= 0) return never("concurrency");
  if (byRate <= 0) return never("calls_per_minute");

  let limitedBy: Limit = byRate < byLines ? "calls_per_minute" : "concurrency";
  const talkPerDial = talkSeconds / dials;
  const { limits } = input;
  let left = dials;
  let at = input.startAt;
  let dayEnd = nextUtcMidnight(at);
  let callsToday = limits.daily_calls_max - input.usedToday.calls;
  let talkToday = limits.daily_minutes_max * 60 - input.usedToday.talkSeconds;
  for (let period = 0; period < MAX_PERIODS; period++) {
    const opens = input.window ? nextOpening(input.window.window, input.window.zones, at) : at;
    if (opens === null) return never("calling_window");
    if (opens > at) limitedBy = "calling_window";
    if (opens >= dayEnd) {
      dayEnd = nextUtcMidnight(opens);
      callsToday = limits.daily_calls_max;
      talkToday = limits.daily_minutes_max * 60;
    }
    const closes = Math.min(dayEnd, input.window ? closingAfter(input.window.window, input.window.zones, opens) : Number.POSITIVE_INFINITY);
    const byTime = ((closes - opens) / 1000) * rate;
    const byCaps = Math.max(0, Math.min(callsToday, talkPerDial > 0 ? talkToday / talkPerDial : Number.POSITIVE_INFINITY));
    const placed = Math.min(left, byTime, byCaps);
    if (placed >= left) {
      const lastDialAt = opens + (left / rate) * 1000;
      // Lines drain after the last dial: half a call on average when lines bind, a whole one when the pace does.
      let finish = lastDialAt + (limitedBy === "concurrency" ? perDialS / 2 : perDialS) * 1000;
      if (retries > 0 && retryShare > 0) {
        // Retries go first, so first dials run until the retries still owed are those of the contacts
        // first dialled in the last retry delay; the last of those then retries after its delay.
        // ...but never before the first dials alone could have been made.
        const firstDialsAlone = n / Math.min(concurrency / firstDialS, byRate);
        const lastFirstDialAt = Math.max(
          lastDialAt - retryShare * (n / dials) * (input.retryDelaySeconds + missS) * retries * 1000,
          input.startAt + firstDialsAlone * 1000,
        );
        const retryTail = lastFirstDialAt + (firstDialS + retries * (input.retryDelaySeconds + missS)) * 1000;
        if (retryTail > finish) {
          finish = retryTail;
          limitedBy = "retries";
        }
      }
      return { ...base, limited_by: limitedBy, finishes_at: new Date(finish).toISOString(), duration_seconds: Math.round((finish - input.startAt) / 1000) };
    }
    left -= placed;
    callsToday -= placed;
    talkToday -= placed * talkPerDial;
    if (byCaps <= byTime) {
      if (byCaps <= 0 && callsToday >= limits.daily_calls_max && talkToday >= limits.daily_minutes_max * 60) {
        return never(limits.daily_calls_max <= 0 ? "daily_calls_max" : "daily_minutes_max");
      }
      limitedBy = callsToday <= 0 ? "daily_calls_max" : "daily_minutes_max";
      at = dayEnd;
    } else {
      if (closes < dayEnd) limitedBy = "calling_window";
      at = closes;
    }
  }
  return never(limitedBy);
}
