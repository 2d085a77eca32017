import type { CallOutcome } from "../carrier-events/contact-machine";
import type { DialEnding } from "../storage/dial-endings";
import type { ObjectStorage } from "../storage/object-storage";

export interface BreakerSettings {
  /** The share of failing dials that pauses the campaign; null: never. */
  pauseOnFailureRate: number | null;
  /** How many of the latest dials are judged. */
  failureWindow: number;
}

export type BreakerVerdict = { trip: false } | { trip: true; failures: number; share: number; commonError: string | null; reason: string };

/** Carrier trouble; a busy line, an unanswered call or a wrong number says nothing about the carrier. */
const CARRIER_TROUBLE: ReadonlySet<string> = new Set<CallOutcome>(["failed", "timeout"]);

/** A status_reason quotes at most this much of an error, so a carrier's long text cannot bloat the campaign view. */
const QUOTED_ERROR_CHARS = 120;

/** The most frequent error among the failures; a tie goes to the latest of them. */
function mostCommonError(failures: readonly DialEnding[]): string | null {
  const counts = new Map<string, number>();
  let best: string | null = null;
  for (const ending of failures) {
    const error = ending.lastError ?? ending.outcome;
    const n = (counts.get(error) ?? 0) + 1;
    counts.set(error, n);
    if (best === null || n >= (counts.get(best) ?? 0)) best = error;
  }
  return best;
}

/**
 * Whether the campaign should pause itself: only once a whole window of dials has ended, and
 * when at least the configured share of that window ended failed or timeout. `endings` go oldest first.
 */
export function judgeRecentDials(endings: readonly DialEnding[], settings: BreakerSettings): BreakerVerdict {
  const { pauseOnFailureRate: rate, failureWindow: window } = settings;
  if (rate === null || endings.length < window) return { trip: false };
  const failing = endings.slice(-window).filter((e) => CARRIER_TROUBLE.has(e.outcome));
  // Compared in whole dials: 0.8 × 20 is 16 failures, not a float a hair above it.
  if (failing.length < Math.ceil(rate * window - 1e-9)) return { trip: false };
  const share = failing.length / window;
  const error = mostCommonError(failing);
  const quoted = error && error.length > QUOTED_ERROR_CHARS ? `${error.slice(0, QUOTED_ERROR_CHARS)}…` : error;
  const reason =
    `Paused by the failure breaker: ${failing.length} of the last ${window} dials (${Math.round(share * 100)}%) ended failed or timeout, ` +
    `most often "${quoted}". Check the carrier account and number, then resume.`;
  return { trip: true, failures: failing.length, share, commonError: error, reason };
}

/** The breaker in a running campaign: its latest dials judged once per new ending, and a pause when they trip it. */
export class FailureBreaker {
  /** The endings' version last judged; a restart judges once more. */
  private judged = -1;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly pause: (reason: string) => Promise<void>,
  ) {}

  async check() {
    const state = this.storage.campaign.get();
    if (state?.status !== "running" || state.pause_on_failure_rate === null) return;
    const { dialEndings } = this.storage;
    if (dialEndings.version === this.judged) return;
    this.judged = dialEndings.version;
    const settings = { pauseOnFailureRate: state.pause_on_failure_rate, failureWindow: state.failure_window };
    const verdict = judgeRecentDials(dialEndings.latest(state.failure_window), settings);
    if (verdict.trip) await this.pause(verdict.reason);
  }
}
