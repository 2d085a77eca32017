/** Originations allowed per account: smooth spacing (GCRA) under a hard sliding window. */
export const WINDOW_MS = 60_000;
/**
 * A call reaches the carrier a little after its grant. Counting and spacing over 61 s instead of 60
 * keeps "at most calls_per_minute in any minute" true where the carrier sees it, for ~1.6% of rate.
 */
export const PACING_WINDOW_MS = WINDOW_MS + 1_000;

export interface Grant {
  at: number;
  count: number;
}

/** What the hard window needs to know of the grants in it: how many calls, and when the oldest was. */
export interface WindowUsage {
  used: number;
  oldestAt: number | null;
}

export function windowUsage(grants: readonly Grant[], now: number): WindowUsage {
  const recent = grants.filter((g) => g.at > now - PACING_WINDOW_MS);
  return { used: recent.reduce((sum, g) => sum + g.count, 0), oldestAt: recent.length ? Math.min(...recent.map((g) => g.at)) : null };
}

export interface RateDecision {
  allowed: number;
  /** When asking again can succeed, if nothing is allowed now. */
  retryAt: number | null;
}

const burstOf = (perMinute: number) => Math.max(1, Math.floor(perMinute / 240));

/**
 * `tat` is the theoretical arrival time of the next origination. Spacing them 60/perMinute s apart
 * keeps the measured rate at the cap; the window check makes "never more than perMinute in any
 * 60 s" hold even when a quarter-second burst is allowed.
 */
export function rateAllowance(window: WindowUsage, tat: number, now: number, perMinute: number): RateDecision {
  if (perMinute <= 0) return { allowed: 0, retryAt: null };
  const interval = PACING_WINDOW_MS / perMinute;
  const tolerance = (burstOf(perMinute) - 1) * interval;
  const start = Math.max(tat, now);
  const byPace = start > now + tolerance ? 0 : Math.floor((now + tolerance - start) / interval) + 1;
  const byWindow = perMinute - window.used;
  const allowed = Math.max(0, Math.min(byPace, byWindow));
  if (allowed > 0) return { allowed, retryAt: null };
  const paceAt = byPace > 0 ? now : start - tolerance;
  const windowAt = byWindow > 0 || window.oldestAt === null ? now : window.oldestAt + PACING_WINDOW_MS + 1;
  return { allowed: 0, retryAt: Math.ceil(Math.max(paceAt, windowAt)) };
}

export function advanceTat(tat: number, now: number, granted: number, perMinute: number): number {
  if (granted === 0 || perMinute <= 0) return tat;
  return Math.max(tat, now) + granted * (PACING_WINDOW_MS / perMinute);
}

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const nextUtcMidnight = (ms: number) => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
};
