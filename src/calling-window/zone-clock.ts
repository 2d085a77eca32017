/**
 * Wall-clock arithmetic in IANA zones through the runtime's Intl time-zone data: no offsets are
 * stored or assumed, so daylight-saving changes come out right wherever the zone's rules say.
 */

const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** What a zone's clock and calendar show at one instant (minute precision). */
export interface WallTime {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  /** 0 = Sunday … 6 = Saturday, as Date.getUTCDay. */
  weekday: number;
  /** Minutes since local midnight, 0–1439. */
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone for the life of the isolate: building one costs far more than using it. */
function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

export function wallTime(zone: string, at: number): WallTime {
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(zone).formatToParts(at)) {
    if (part.type === "year") year = Number(part.value);
    else if (part.type === "month") month = Number(part.value);
    else if (part.type === "day") day = Number(part.value);
    else if (part.type === "hour") hour = Number(part.value) % 24;
    else if (part.type === "minute") minute = Number(part.value);
  }
  return { year, month, day, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(), minute: hour * 60 + minute };
}

/** The wall clock read as if it were UTC, in ms: comparable across instants in one zone. */
function wallMs(zone: string, at: number): number {
  const w = wallTime(zone, at);
  return Date.UTC(w.year, w.month - 1, w.day, 0, w.minute);
}

/**
 * The earliest instant at which the zone's clock reads the given local date and minute, or, when
 * that time does not exist (the hour skipped when clocks go forward), the instant the clock jumps
 * past it. When the time happens twice (clocks go back), the first.
 */
export function instantOfWallTime(zone: string, year: number, month: number, day: number, minute: number): number {
  const target = Date.UTC(year, month - 1, day, 0, minute);
  // The offsets a day either side bound the offset at the target: zones change at most once a day.
  const offsetBefore = wallMs(zone, target - DAY_MS) - (target - DAY_MS);
  const offsetAfter = wallMs(zone, target + DAY_MS) - (target + DAY_MS);
  const candidates = [target - offsetBefore, target - offsetAfter].sort((a, b) => a - b);
  for (const candidate of candidates) if (wallMs(zone, candidate) === target) return candidate;
  // In the gap: find the first minute whose clock reads at or after the target.
  let low = candidates[0] as number;
  let high = candidates[1] as number;
  while (high - low > MINUTE_MS) {
    const middle = low + Math.floor((high - low) / 2 / MINUTE_MS) * MINUTE_MS;
    if (wallMs(zone, middle) >= target) high = middle;
    else low = middle;
  }
  return high;
}
