import { badRequest, quoted } from "../http/errors";
import { canonicalZone, singleZone, type ZoneSet, zonesForNumber } from "./number-zones";
import { DAY_MS, instantOfWallTime, wallTime } from "./zone-clock";

/** Day names by Date.getUTCDay index (0 = Sunday). */
export const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type DayName = (typeof DAY_NAMES)[number];
/** The order days are listed in, in views and in storage. */
const WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0] as const;
const EVERY_DAY = 0b111_1111;

/** When contacts may be called, on their own clock (or on one zone's clock for every contact). */
export interface CallingWindow {
  /** Minutes after local midnight at which the window opens (inclusive), 0–1439. */
  start: number;
  /** Minutes after local midnight at which it closes (exclusive), 1–1440. */
  end: number;
  /** Bit d set when weekday d (0 = Sunday) is a calling day; never 0. */
  days: number;
  /** One IANA zone for every contact, or null for each recipient's own. */
  timezone: string | null;
}

/** How far ahead a next opening is looked for: a full year covers every daylight-saving change. */
const OPENING_HORIZON_MS = 366 * DAY_MS;

// --- create fields ----------------------------------------------------------------------------

function parseClock(name: string, raw: string, allowEndOfDay: boolean): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(raw.trim());
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  const endOfDay = allowEndOfDay && hours === 24 && minutes === 0;
  if (!match || minutes > 59 || (hours > 23 && !endOfDay)) {
    throw badRequest(`${name} must be a 24-hour time HH:MM such as ${allowEndOfDay ? "20:00" : "09:00"}; got ${quoted(raw)}.`);
  }
  return hours * 60 + minutes;
}

function parseDays(raw: string | string[]): number {
  const names = (Array.isArray(raw) ? raw : raw.split(",")).map((name) => String(name).trim().toLowerCase()).filter((name) => name !== "");
  if (names.length === 0) throw badRequest("calling_days names no day: use a comma list of mon, tue, wed, thu, fri, sat, sun, or leave it out for every day.");
  let days = 0;
  for (const name of names) {
    const index = DAY_NAMES.indexOf(name as DayName);
    if (index < 0) throw badRequest(`calling_days has an unknown day ${quoted(name)}: use a comma list of mon, tue, wed, thu, fri, sat, sun.`);
    days |= 1 << index;
  }
  return days;
}

function parseTimezone(raw: string): string | null {
  const name = raw.trim();
  if (name.toLowerCase() === "recipient") return null;
  const zone = canonicalZone(name);
  if (!zone)
    throw badRequest(`calling_timezone ${quoted(raw)} is not an IANA time zone: use recipient (each contact's own zone) or a name such as America/New_York.`);
  return zone;
}

/**
 * The window from the create fields (absent or empty fields count as not given), or null for none.
 * Any problem is a 400 naming the field.
 */
export function parseCallingWindow(field: (name: string) => string | string[] | undefined): CallingWindow | null {
  const given = (name: string) => {
    const value = field(name);
    return value === undefined || (typeof value === "string" && value.trim() === "") ? undefined : value;
  };
  const startText = given("calling_window_start");
  const endText = given("calling_window_end");
  const daysValue = given("calling_days");
  const zoneText = given("calling_timezone");
  const start = startText === undefined ? undefined : parseClock("calling_window_start", String(startText), false);
  const end = endText === undefined ? undefined : parseClock("calling_window_end", String(endText), true);
  const days = daysValue === undefined ? EVERY_DAY : parseDays(daysValue);
  const timezone = zoneText === undefined ? null : parseTimezone(String(zoneText));
  if (start === undefined && end === undefined) {
    // Days or a zone alone would allow calls around the clock, which is rarely what was meant.
    const stray = daysValue !== undefined ? "calling_days" : timezone !== null ? "calling_timezone" : undefined;
    if (stray) throw badRequest(`${stray} needs calling_window_start and calling_window_end: give the window's hours too, such as 09:00 and 20:00.`);
    return null;
  }
  if (start === undefined) throw badRequest("calling_window_start is missing: give both calling_window_start and calling_window_end, or neither.");
  if (end === undefined) throw badRequest("calling_window_end is missing: give both calling_window_start and calling_window_end, or neither.");
  if (start >= end) {
    throw badRequest(`calling_window_start (${formatClock(start)}) must be before calling_window_end (${formatClock(end)}); a window cannot cross midnight.`);
  }
  return { start, end, days, timezone };
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

const dayList = (days: number): DayName[] => WEEK_ORDER.filter((d) => days & (1 << d)).map((d) => DAY_NAMES[d]);

/** The campaign view's `calling_window`. */
export function callingWindowView(window: CallingWindow | null) {
  if (!window) return null;
  return { start: formatClock(window.start), end: formatClock(window.end), days: dayList(window.days), timezone: window.timezone ?? "recipient" };
}

/** The campaign row's columns for a window (all null without one). */
export function callingWindowColumns(window: CallingWindow | null) {
  return {
    callingWindowStart: window ? formatClock(window.start) : null,
    callingWindowEnd: window ? formatClock(window.end) : null,
    callingDays: window ? dayList(window.days).join(",") : null,
    callingTimezone: window ? (window.timezone ?? "recipient") : null,
  };
}

/** The window a campaign row holds, or null. The columns were validated when written. */
export function callingWindowOf(row: {
  callingWindowStart: string | null;
  callingWindowEnd: string | null;
  callingDays: string | null;
  callingTimezone: string | null;
}): CallingWindow | null {
  if (row.callingWindowStart === null || row.callingWindowEnd === null) return null;
  return {
    start: parseClock("calling_window_start", row.callingWindowStart, false),
    end: parseClock("calling_window_end", row.callingWindowEnd, true),
    days: row.callingDays ? parseDays(row.callingDays) : EVERY_DAY,
    timezone: row.callingTimezone === null || row.callingTimezone === "recipient" ? null : row.callingTimezone,
  };
}

// --- window arithmetic ------------------------------------------------------------------------

/** The zones a contact is called by: its own zone (row column or explicit zone), else its number's. */
export function contactZones(window: CallingWindow | null, contact: { phone: string; timezone: string | null }): ZoneSet {
  if (contact.timezone) return singleZone(contact.timezone);
  if (window?.timezone) return singleZone(window.timezone);
  return zonesForNumber(contact.phone);
}

/** The contact view's `timezone`: the one zone the contact is called by, or null when several apply. */
export function contactTimezone(window: CallingWindow | null, contact: { phone: string; timezone: string | null }): string | null {
  const { zones } = contactZones(window, contact);
  return zones.length === 1 ? (zones[0] as string) : null;
}

/** Open in one zone: an allowed day there, and its clock reads from start up to (not including) end. */
function isOpenInZone(window: CallingWindow, zone: string, at: number): boolean {
  const local = wallTime(zone, at);
  return (window.days & (1 << local.weekday)) !== 0 && local.minute >= window.start && local.minute < window.end;
}

/** The earliest instant at or after `after` at which the window is open in the zone, or null (none in two weeks). */
function nextOpeningInZone(window: CallingWindow, zone: string, after: number): number | null {
  const local = wallTime(zone, after);
  if ((window.days & (1 << local.weekday)) !== 0 && local.minute >= window.start && local.minute < window.end) return after;
  for (let ahead = 0; ahead <= 14; ahead++) {
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day + ahead));
    if ((window.days & (1 << date.getUTCDay())) === 0) continue;
    if (ahead === 0 && local.minute >= window.start) continue;
    const opening = instantOfWallTime(zone, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), window.start);
    // A window that lies wholly in the hour skipped by a clock change does not open that day.
    if (opening >= after && isOpenInZone(window, zone, opening)) return opening;
  }
  return null;
}

/** Open in every zone at once. An empty set (a number with no known zone) is never open. */
export function isOpen(window: CallingWindow, zones: readonly string[], at: number): boolean {
  return zones.length > 0 && zones.every((zone) => isOpenInZone(window, zone, at));
}

/**
 * The earliest instant at or after `after` at which the window is open in every zone at once, or
 * null when there is none within the horizon (the zones' windows never overlap, or no zone is known).
 */
export function nextOpening(window: CallingWindow, zones: readonly string[], after: number, horizonMs = OPENING_HORIZON_MS): number | null {
  if (zones.length === 0) return null;
  let at = after;
  // Each pass moves `at` to the first opening of a zone that was closed; it never passes the answer.
  while (at - after <= horizonMs) {
    let moved = false;
    for (const zone of zones) {
      const opening = nextOpeningInZone(window, zone, at);
      if (opening === null) return null;
      if (opening > at) {
        at = opening;
        moved = true;
      }
    }
    if (!moved) return at;
  }
  return null;
}

/**
 * The window as one dispatch tick sees it: answers per zone set are kept for the tick, so a batch
 * of contacts costs one clock reading per distinct set, not per contact.
 */
export class WindowGate {
  private readonly open = new Map<string, boolean>();
  private readonly openings = new Map<string, number | null>();

  constructor(
    readonly window: CallingWindow,
    readonly at: number,
  ) {}

  zonesOf(contact: { phone: string; timezone: string | null }): ZoneSet {
    return contactZones(this.window, contact);
  }

  isOpen(set: ZoneSet): boolean {
    let answer = this.open.get(set.key);
    if (answer === undefined) {
      answer = isOpen(this.window, set.zones, this.at);
      this.open.set(set.key, answer);
    }
    return answer;
  }

  nextOpening(set: ZoneSet): number | null {
    let answer = this.openings.get(set.key);
    if (answer === undefined) {
      answer = nextOpening(this.window, set.zones, this.at);
      this.openings.set(set.key, answer);
    }
    return answer;
  }
}

/** The campaign's status_reason while every due contact waits for its window. */
export function windowWaitReason(waiting: number, nextOpensAt: number | null): string {
  const who = waiting === 1 ? "1 contact waits" : `${waiting} contacts wait`;
  const when = nextOpensAt === null ? "no window opens within a year" : `the next opens at ${new Date(nextOpensAt).toISOString().replace(".000Z", "Z")}`;
  return `${who} for their calling window; ${when}.`;
}
