/**
 * The latest instant a caller may give for anything that becomes a Durable Object timer
 * (scheduled_at and the like). The alarm API throws for dates after 2189; a round bound well inside
 * it keeps every such time valid and is easy to state in an error.
 */
const LATEST_TIMER_AT = "2100-01-01T00:00:00Z";
const LATEST_TIMER_MS = Date.parse(LATEST_TIMER_AT);

/** The sentence for a time past the bound, or null when it is within it. */
export function beyondTimerBound(field: string, ms: number): string | null {
  return ms >= LATEST_TIMER_MS ? `${field} must be before ${LATEST_TIMER_AT}; give an earlier time.` : null;
}
