/**
 * How many requests an outbox may start now: a token bucket refilled at `perSecond`, holding at
 * most `burst`. Pure (time is passed in), so a large fan-out leaves at a steady rate.
 */
export class StartBudget {
  private tokens: number;
  private at = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  private refill(now: number) {
    if (now > this.at) this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = Math.max(this.at, now);
  }

  /** Takes up to `wanted` whole tokens; answers how many it took. */
  take(wanted: number, now: number): number {
    this.refill(now);
    const granted = Math.max(0, Math.min(wanted, Math.floor(this.tokens)));
    this.tokens -= granted;
    return granted;
  }

  /** When the next whole token is there (now if one is). */
  nextAt(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? now : this.at + Math.ceil(((1 - this.tokens) * 1000) / this.perSecond);
  }
}
