/** The concurrency a ramping campaign may use now, and when it next rises (null once at the full figure). */
export interface RampStep {
  limit: number;
  nextRiseAt: number | null;
}

/**
 * Concurrency after a start or resume: from 1 at `startedAt`, rising evenly to `max` at
 * `startedAt + rampSeconds` (each whole call added at its share of the ramp).
 */
export function rampedConcurrency(max: number, rampSeconds: number, startedAt: number, now: number): RampStep {
  const rampMs = rampSeconds * 1000;
  if (rampMs <= 0 || max <= 1 || now >= startedAt + rampMs) return { limit: max, nextRiseAt: null };
  const elapsed = Math.max(0, now - startedAt);
  const limit = Math.min(max, 1 + Math.floor(((max - 1) * elapsed) / rampMs));
  if (limit >= max) return { limit: max, nextRiseAt: null };
  // The first instant at which (max - 1) × elapsed reaches limit × rampMs.
  const nextRiseAt = startedAt + Math.ceil((limit * rampMs) / (max - 1));
  return { limit, nextRiseAt };
}
