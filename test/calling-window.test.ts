import { describe, expect, it } from "vitest";
import {
  type CallingWindow,
  callingWindowColumns,
  callingWindowOf,
  callingWindowView,
  contactTimezone,
  contactZones,
  isOpen,
  nextOpening,
  parseCallingWindow,
  WindowGate,
  windowWaitReason,
} from "../src/calling-window/calling-window";
import { ContactZones } from "../src/calling-window/contact-zones";
import { canonicalZone, zonesForNumber } from "../src/calling-window/number-zones";
import { PREFIXES_BY_SET, ZONE_NAMES } from "../src/calling-window/timezone-prefixes";
import { instantOfWallTime, wallTime } from "../src/calling-window/zone-clock";
import { ApiError } from "../src/http/errors";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const EVERY_DAY = 0b111_1111;
const WEEKDAYS = 0b011_1110;
const window = (start: string, end: string, days = EVERY_DAY, timezone: string | null = null): CallingWindow => {
  const minutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3));
  return { start: minutes(start), end: minutes(end), days, timezone };
};
const NY = ["America/New_York"];

describe("number → zones (libphonenumber data)", () => {
  it.each([
    ["+12125550100", ["America/New_York"]],
    ["+14155550100", ["America/Los_Angeles"]],
    ["+13105550100", ["America/Los_Angeles"]],
    ["+12081230000", ["America/Boise", "America/Denver", "America/Los_Angeles"]], // Idaho, an exchange the data does not list: its area code's zones
    ["+12082990000", ["America/Boise", "America/Los_Angeles"]],
    ["+12082010000", ["America/Denver"]],
    ["+442079460958", ["Europe/London"]],
    ["+5511987654321", ["America/Sao_Paulo"]],
    ["+5565999990000", ["America/Manaus"]],
    ["+81312345678", ["Asia/Tokyo"]],
    ["+80012345678", []], // a global service number: no zone
  ])("%s → %j", (number, zones) => {
    expect(zonesForNumber(number).zones).toEqual(zones);
  });

  it("a number whose area the data cannot tell gets every zone of its country", () => {
    expect(zonesForNumber("+15550100000").zones).toHaveLength(42); // every zone +1 covers
    expect(zonesForNumber("+15550100000").zones).toContain("Pacific/Guam");
    expect(zonesForNumber("+5556123456789").zones).toEqual(["America/Manaus", "America/Noronha", "America/Rio_Branco", "America/Sao_Paulo"]);
  });

  it("every zone in the table is one the runtime knows", () => {
    const unknown = ZONE_NAMES.split(" ").filter((zone) => canonicalZone(zone) === null);
    expect(unknown).toEqual([]);
    expect(PREFIXES_BY_SET.length).toBeLessThan(40_000);
  });

  it("looks up 100k numbers in well under a second", () => {
    const started = performance.now();
    let single = 0;
    for (let i = 0; i < 100_000; i++) if (zonesForNumber(`+1${200 + (i % 800)}555${String(i).padStart(4, "0")}`).zones.length === 1) single++;
    expect(single).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("wall-clock arithmetic", () => {
  it.each([
    ["America/New_York", 2026, 3, 7, "09:00", "2026-03-07T14:00:00.000Z"], // EST
    ["America/New_York", 2026, 3, 8, "09:00", "2026-03-08T13:00:00.000Z"], // EDT from that night
    ["America/New_York", 2026, 3, 8, "02:30", "2026-03-08T07:00:00.000Z"], // skipped: the instant the clock jumps past it
    ["America/New_York", 2026, 11, 1, "01:30", "2026-11-01T05:30:00.000Z"], // happens twice: the first
    ["America/New_York", 2026, 11, 1, "09:00", "2026-11-01T14:00:00.000Z"],
    ["Europe/London", 2026, 3, 29, "01:30", "2026-03-29T01:00:00.000Z"],
    ["Australia/Lord_Howe", 2026, 10, 4, "02:15", "2026-10-03T15:30:00.000Z"], // a half-hour change
    ["Asia/Kolkata", 2026, 1, 1, "09:00", "2026-01-01T03:30:00.000Z"],
  ])("%s %i-%i-%i %s → %s", (zone, year, month, day, clock, expected) => {
    const minute = Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3));
    expect(iso(instantOfWallTime(zone, year, month, day, minute))).toBe(expected);
  });

  it("reads weekday and minute in the zone", () => {
    expect(wallTime("Asia/Tokyo", at("2026-03-06T23:30:00Z"))).toEqual({ year: 2026, month: 3, day: 7, weekday: 6, minute: 8 * 60 + 30 });
  });
});

describe("window arithmetic", () => {
  // [case, window, zones, after, open at `after`?, next opening]
  it.each([
    ["spring forward: Saturday evening EST → Sunday 09:00 EDT", window("09:00", "20:00"), NY, "2026-03-08T01:00:00Z", false, "2026-03-08T13:00:00.000Z"],
    ["spring forward: 08:59 EDT is closed", window("09:00", "20:00"), NY, "2026-03-08T12:59:00Z", false, "2026-03-08T13:00:00.000Z"],
    ["spring forward: 19:59 EDT is open", window("09:00", "20:00"), NY, "2026-03-08T23:59:00Z", true, "2026-03-08T23:59:00.000Z"],
    ["fall back: Saturday evening EDT → Sunday 09:00 EST", window("09:00", "20:00"), NY, "2026-11-01T00:00:00Z", false, "2026-11-01T14:00:00.000Z"],
    ["fall back: 09:30 EST is open", window("09:00", "20:00"), NY, "2026-11-01T14:30:00Z", true, "2026-11-01T14:30:00.000Z"],
    ["fall back: 20:00 EST is closed", window("09:00", "20:00"), NY, "2026-11-02T01:00:00Z", false, "2026-11-02T14:00:00.000Z"],
    ["window inside the skipped hour never opens that day", window("02:00", "02:45"), NY, "2026-03-08T05:00:00Z", false, "2026-03-09T06:00:00.000Z"],
    ["end of day 24:00", window("20:00", "24:00"), NY, "2026-01-06T04:59:00Z", true, "2026-01-06T04:59:00.000Z"],
    // Area code 208 exchange 299: Boise (Mountain) or Los Angeles (Pacific): only the overlap is callable.
    [
      "two-zone area code: 09:30 Boise / 08:30 LA is closed",
      window("09:00", "17:00"),
      ["America/Boise", "America/Los_Angeles"],
      "2026-01-13T16:30:00Z",
      false,
      "2026-01-13T17:00:00.000Z",
    ],
    [
      "two-zone area code: 16:59 Boise / 15:59 LA is open",
      window("09:00", "17:00"),
      ["America/Boise", "America/Los_Angeles"],
      "2026-01-13T23:59:00Z",
      true,
      "2026-01-13T23:59:00.000Z",
    ],
    [
      "two-zone area code: 17:00 Boise closes it",
      window("09:00", "17:00"),
      ["America/Boise", "America/Los_Angeles"],
      "2026-01-14T00:00:00Z",
      false,
      "2026-01-14T17:00:00.000Z",
    ],
    // Brazil, area unknown: Noronha (UTC−2) … Rio Branco (UTC−5): open 14:00–22:00 UTC.
    [
      "zone unknown: every zone of the country",
      window("09:00", "20:00"),
      zonesForNumber("+5556123456789").zones,
      "2026-05-05T13:59:00Z",
      false,
      "2026-05-05T14:00:00.000Z",
    ],
    [
      "zone unknown: open until the first zone closes",
      window("09:00", "20:00"),
      zonesForNumber("+5556123456789").zones,
      "2026-05-05T21:59:00Z",
      true,
      "2026-05-05T21:59:00.000Z",
    ],
    [
      "zone unknown: Guam and Pago Pago never share business hours",
      window("09:00", "17:00"),
      zonesForNumber("+15550100000").zones,
      "2026-05-05T12:00:00Z",
      false,
      null,
    ],
    ["no zone known: never", window("09:00", "17:00"), [], "2026-05-05T12:00:00Z", false, null],
    [
      "calling_days: Friday evening waits for Monday (across the DST change)",
      window("09:00", "17:00", WEEKDAYS),
      NY,
      "2026-03-06T22:30:00Z",
      false,
      "2026-03-09T13:00:00.000Z",
    ],
    ["calling_days: Saturday noon is closed", window("09:00", "17:00", WEEKDAYS), NY, "2026-03-07T17:00:00Z", false, "2026-03-09T13:00:00.000Z"],
    ["calling_days: Sunday only", window("10:00", "12:00", 0b000_0001), ["Europe/Paris"], "2026-03-02T10:00:00Z", false, "2026-03-08T09:00:00.000Z"],
  ])("%s", (_case, w, zones, after, openNow, expected) => {
    expect(isOpen(w, zones, at(after))).toBe(openNow);
    expect(iso(nextOpening(w, zones, at(after)))).toBe(expected);
  });

  it("an explicit calling_timezone applies to every contact; a contact's own zone wins over both", () => {
    const tokyo = window("09:00", "18:00", EVERY_DAY, "Asia/Tokyo");
    expect(contactZones(tokyo, { phone: "+12125550100", timezone: null }).zones).toEqual(["Asia/Tokyo"]);
    expect(contactZones(tokyo, { phone: "+12125550100", timezone: "Europe/London" }).zones).toEqual(["Europe/London"]);
    expect(contactZones(window("09:00", "18:00"), { phone: "+12125550100", timezone: "Europe/London" }).zones).toEqual(["Europe/London"]);
    expect(contactZones(window("09:00", "18:00"), { phone: "+12125550100", timezone: null }).zones).toEqual(NY);
    // 09:30 in Tokyo is 19:30 in New York: open for the Tokyo campaign, closed for a New York recipient.
    const moment = at("2026-01-14T00:30:00Z");
    expect(isOpen(tokyo, contactZones(tokyo, { phone: "+12125550100", timezone: null }).zones, moment)).toBe(true);
    expect(isOpen(window("09:00", "18:00"), NY, moment)).toBe(false);
  });

  it("a tick's gate answers once per zone set", () => {
    const gate = new WindowGate(window("09:00", "20:00"), at("2026-01-13T15:00:00Z")); // 10:00 in New York, 07:00 in Los Angeles
    const contacts = [
      { phone: "+12125550100", timezone: null },
      { phone: "+12125550101", timezone: null },
      { phone: "+14155550100", timezone: null },
      { phone: "+14155550100", timezone: "America/New_York" },
    ];
    expect(contacts.map((c) => gate.isOpen(gate.zonesOf(c)))).toEqual([true, true, false, true]);
    expect(iso(gate.nextOpening(gate.zonesOf(contacts[2] as (typeof contacts)[number])))).toBe("2026-01-13T17:00:00.000Z");
  });

  it("says how many contacts wait and when the next window opens", () => {
    expect(windowWaitReason(12, at("2026-03-09T13:00:00Z"))).toBe("12 contacts wait for their calling window; the next opens at 2026-03-09T13:00:00Z.");
    expect(windowWaitReason(1, null)).toBe("1 contact waits for their calling window; no window opens within a year.");
  });
});

function parseError(fields: Record<string, string | string[]>): string {
  try {
    parseCallingWindow((name) => fields[name]);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as ApiError).message;
  }
  throw new Error("expected the fields to be refused");
}

describe("create fields", () => {
  it.each([
    [{}, null],
    [{ calling_timezone: "recipient" }, null],
    [
      { calling_window_start: "09:00", calling_window_end: "20:00" },
      { start: "09:00", end: "20:00", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], timezone: "recipient" },
    ],
    [
      { calling_window_start: "9:00", calling_window_end: "24:00", calling_days: " Fri, mon ,fri" },
      { start: "09:00", end: "24:00", days: ["mon", "fri"], timezone: "recipient" },
    ],
    [
      { calling_window_start: "08:30", calling_window_end: "17:45", calling_days: ["sat", "sun"], calling_timezone: "europe/berlin" },
      { start: "08:30", end: "17:45", days: ["sat", "sun"], timezone: "Europe/Berlin" },
    ],
    [
      { calling_window_start: "09:00", calling_window_end: "20:00", calling_days: "", calling_timezone: "" },
      { start: "09:00", end: "20:00", days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], timezone: "recipient" },
    ],
  ])("%j → %j", (fields, view) => {
    const parsed = parseCallingWindow((name) => (fields as Record<string, string | string[]>)[name]);
    expect(callingWindowView(parsed)).toEqual(view);
    expect(callingWindowOf(callingWindowColumns(parsed))).toEqual(parsed);
  });

  it.each([
    [{ calling_window_start: "09:00" }, "calling_window_end is missing"],
    [{ calling_window_end: "20:00" }, "calling_window_start is missing"],
    [{ calling_window_start: "9am", calling_window_end: "20:00" }, "calling_window_start must be a 24-hour time"],
    [{ calling_window_start: "24:00", calling_window_end: "24:00" }, "calling_window_start must be a 24-hour time"],
    [{ calling_window_start: "09:00", calling_window_end: "20:60" }, "calling_window_end must be a 24-hour time"],
    [{ calling_window_start: "20:00", calling_window_end: "09:00" }, "calling_window_start (20:00) must be before calling_window_end (09:00)"],
    [{ calling_window_start: "09:00", calling_window_end: "09:00" }, "must be before calling_window_end"],
    [{ calling_window_start: "09:00", calling_window_end: "20:00", calling_days: "mon,funday" }, 'calling_days has an unknown day "funday"'],
    [{ calling_window_start: "09:00", calling_window_end: "20:00", calling_days: " , " }, "calling_days names no day"],
    [
      { calling_window_start: "09:00", calling_window_end: "20:00", calling_timezone: "Mars/Olympus" },
      'calling_timezone "Mars/Olympus" is not an IANA time zone',
    ],
    [{ calling_window_start: "09:00", calling_window_end: "20:00", calling_timezone: "+05:00" }, "calling_timezone"],
    [{ calling_days: "mon" }, "calling_days needs calling_window_start and calling_window_end"],
    [{ calling_timezone: "Europe/Paris" }, "calling_timezone needs calling_window_start and calling_window_end"],
  ])("refuses %j naming the field", (fields, needle) => {
    expect(parseError(fields)).toContain(needle);
  });
});

describe("contact zones at create", () => {
  const recipient = window("09:00", "20:00");

  it("keeps the row's own zone (canonical) and nothing else", () => {
    const zones = new ContactZones(recipient, at("2026-01-13T12:00:00Z"));
    expect(zones.zoneFor(2, "+12125550100", " europe/london ")).toBe("Europe/London");
    expect(zones.zoneFor(3, "+12125550100", "")).toBeNull();
    expect(zones.zoneFor(4, "+12082990000", undefined)).toBeNull();
    expect(() => zones.finish()).not.toThrow();
  });

  it.each([
    ["the row's column wins", window("09:00", "20:00", EVERY_DAY, "Asia/Tokyo"), "+12125550100", "Europe/Paris", "Europe/Paris"],
    ["else the explicit calling_timezone", window("09:00", "20:00", EVERY_DAY, "Asia/Tokyo"), "+12125550100", null, "Asia/Tokyo"],
    ["else the number's zone", window("09:00", "20:00"), "+12125550100", null, "America/New_York"],
    ["the number's zone without a window", null, "+442079460958", null, "Europe/London"],
    ["null when several apply", window("09:00", "20:00"), "+12082990000", null, null],
    ["null when none is known", null, "+80012345678", null, null],
  ])("contact view timezone: %s", (_case, w, phone, own, expected) => {
    expect(contactTimezone(w, { phone, timezone: own })).toBe(expected);
  });

  it("names rows with an unknown zone", () => {
    const zones = new ContactZones(null);
    for (let row = 2; row < 25; row++) zones.zoneFor(row, "+12125550100", row % 2 ? "Mars/Base" : "America/Chicago");
    expect(() => zones.finish()).toThrow(/^11 rows have an unknown time zone in the timezone column: row 3 \("Mars\/Base"\), row 5/);
  });

  it("names rows that could never be called inside the window, unless a timezone places them", () => {
    const zones = new ContactZones(window("09:00", "17:00"), at("2026-01-13T12:00:00Z"));
    zones.zoneFor(2, "+15550100000", undefined);
    zones.zoneFor(3, "+80012345678", undefined);
    zones.zoneFor(4, "+15550100001", "America/Chicago");
    expect(() => zones.finish()).toThrow(
      /^2 contacts could never be called inside the calling window 09:00–17:00: row 2 \(\+15550100000: the window is never open in all of .* at once\), row 3 \(\+80012345678: no time zone is known for the number\)\./,
    );
  });
});
