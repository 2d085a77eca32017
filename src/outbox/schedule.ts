/** When a failed delivery is tried again, and what counts as a failure. Pure. */

/** After the 1st, 2nd, … failure; every failure after the 5th waits STEADY_RETRY_MS. */
export const RETRY_DELAYS_MS = [5_000, 30_000, 2 * 60_000, 10 * 60_000, 60 * 60_000] as const;
export const STEADY_RETRY_MS = 4 * 60 * 60_000;
/** ±10 %: endpoints that failed together do not all come back in the same second. */
const RETRY_JITTER = 0.1;
/** An endpoint whose every delivery has failed for this long is disabled. */
export const DISABLE_AFTER_MS = 3 * 24 * 60 * 60_000;
export const DELIVERY_TIMEOUT_MS = 10_000;

/** Delay before the next try after `failures` failed tries (≥ 1); `random` in [0, 1). */
export function retryDelayMs(failures: number, random = Math.random()): number {
  const base = RETRY_DELAYS_MS[Math.max(1, failures) - 1] ?? STEADY_RETRY_MS;
  return Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random));
}

export type DeliveryOutcome = { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string };

/** A receiver's answer: only 2xx is a success; a redirect is a failure and is not followed. */
export function outcomeOfResponse(status: number, location: string | null): DeliveryOutcome {
  if (status >= 200 && status < 300) return { ok: true, statusCode: status };
  if (status >= 300 && status < 400) {
    const target = location ? ` to ${location.slice(0, 200)}` : "";
    return { ok: false, statusCode: status, error: `HTTP ${status}: redirect${target} not followed; give the endpoint its final URL.` };
  }
  return { ok: false, statusCode: status, error: `HTTP ${status}` };
}

/** A request that never got an answer: timeout or network error. */
export function outcomeOfError(error: unknown): DeliveryOutcome {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") return { ok: false, statusCode: null, error: `No answer within ${DELIVERY_TIMEOUT_MS / 1000} s.` };
  const detail = error instanceof Error ? error.message : String(error);
  return { ok: false, statusCode: null, error: `Network error: ${detail.slice(0, 300)}` };
}
