import { badRequest } from "../http/errors";
import { type CallingWindow, formatClock, nextOpening } from "./calling-window";
import { canonicalZone, singleZone, type ZoneSet, zonesForNumber } from "./number-zones";

/** How many bad rows an error names before it summarises the rest (as for bad numbers). */
const MAX_LISTED = 20;

/**
 * Gives each uploaded contact the zone it is stored with, and collects the rows create must refuse:
 * a `timezone` cell the runtime does not know, and, under a calling window, a contact that could
 * never be called inside it. Per row it is one prefix lookup; window checks are kept per zone set.
 */
export class ContactZones {
  private readonly unknownZones: string[] = [];
  private unknownCount = 0;
  private readonly neverOpen: string[] = [];
  private neverCount = 0;
  private readonly opens = new Map<string, boolean>();

  constructor(
    private readonly window: CallingWindow | null,
    private readonly now = Date.now(),
  ) {}

  /**
   * The contact's timezone: the row's cell, else the campaign's explicit zone, else the number's
   * zone when it has exactly one (null when several apply or none is known).
   */
  zoneFor(row: number, phone: string, cell: string | undefined): string | null {
    const text = cell?.trim() ?? "";
    if (text !== "") {
      const zone = canonicalZone(text);
      if (!zone) {
        this.unknownCount++;
        if (this.unknownZones.length < MAX_LISTED) this.unknownZones.push(`row ${row} (${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)})`);
        return null;
      }
      this.checkOpens(row, phone, singleZone(zone));
      return zone;
    }
    if (this.window?.timezone) return this.window.timezone;
    const set = zonesForNumber(phone);
    this.checkOpens(row, phone, set);
    return set.zones.length === 1 ? (set.zones[0] as string) : null;
  }

  /** Throws the 400 naming the rows, if any; create writes nothing then. */
  finish(): void {
    if (this.unknownCount > 0) {
      const more = this.unknownCount > this.unknownZones.length ? ` and ${this.unknownCount - this.unknownZones.length} more` : "";
      throw badRequest(
        `${this.unknownCount} row${this.unknownCount === 1 ? " has" : "s have"} an unknown time zone in the timezone column: ${this.unknownZones.join(", ")}${more}. ` +
          "Use IANA names such as America/New_York, or leave the cell empty to use the number's zone. Nothing was created.",
      );
    }
    if (this.neverCount > 0 && this.window) {
      const more = this.neverCount > this.neverOpen.length ? ` and ${this.neverCount - this.neverOpen.length} more` : "";
      throw badRequest(
        `${this.neverCount} contact${this.neverCount === 1 ? "" : "s"} could never be called inside the calling window ` +
          `${formatClock(this.window.start)}–${formatClock(this.window.end)}: ${this.neverOpen.join(", ")}${more}. ` +
          "Give those rows a timezone, set calling_timezone, or widen the window. Nothing was created.",
      );
    }
  }

  private checkOpens(row: number, phone: string, set: ZoneSet) {
    if (!this.window) return;
    let opens = this.opens.get(set.key);
    if (opens === undefined) {
      opens = nextOpening(this.window, set.zones, this.now) !== null;
      this.opens.set(set.key, opens);
    }
    if (opens) return;
    this.neverCount++;
    if (this.neverOpen.length < MAX_LISTED) {
      const why = set.zones.length === 0 ? "no time zone is known for the number" : `the window is never open in all of ${describeZones(set.zones)} at once`;
      this.neverOpen.push(`row ${row} (${phone}: ${why})`);
    }
  }
}

const describeZones = (zones: readonly string[]) =>
  zones.length <= 4 ? zones.join(", ") : `${zones.slice(0, 3).join(", ")} and ${zones.length - 3} more zones`;
