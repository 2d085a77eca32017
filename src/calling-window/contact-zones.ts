import { type ApiError, badRequest } from "../http/errors";
import { ProblemList, plural, shown } from "../uploads/upload-problems";
import { type CallingWindow, contactZones, formatClock, nextOpening } from "./calling-window";
import { canonicalZone, type ZoneSet } from "./number-zones";

/**
 * Reads each uploaded contact's own zone, and collects the rows create must refuse:
 * a `timezone` cell the runtime does not know, and, under a calling window, a contact that could
 * never be called inside it. Per row it is one prefix lookup; window checks are kept per zone set.
 */
export class ContactZones {
  readonly unknownZones = new ProblemList();
  readonly neverOpen = new ProblemList();
  private readonly opens = new Map<string, boolean>();

  constructor(
    private readonly window: CallingWindow | null,
    private readonly now = Date.now(),
  ) {}

  /**
   * The zone the row itself gives (its `timezone` cell, canonical), or null. Only that is stored:
   * the campaign's explicit zone and the number's zone are applied when the contact is read or
   * dialled, so a copy of the contact under another campaign takes that campaign's zone.
   */
  zoneFor(row: number, phone: string, cell: string | undefined): string | null {
    const text = cell?.trim() ?? "";
    let own: string | null = null;
    if (text !== "") {
      own = canonicalZone(text);
      if (!own) {
        this.unknownZones.add(
          { row, value: shown(text), reason: "The timezone cell is not a time zone; use an IANA name such as America/New_York, or leave it empty." },
          `row ${row} (${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)})`,
        );
        return null;
      }
    }
    if (this.window) this.checkOpens(row, phone, contactZones(this.window, { phone, timezone: own }));
    return own;
  }

  /** Create's 400 naming the rows, if any (create writes nothing then), or null. */
  refusal(): ApiError | null {
    const unknown = this.unknownZones.count;
    if (unknown > 0) {
      return badRequest(
        `${unknown} ${plural(unknown, "row has", "rows have")} an unknown time zone in the timezone column: ${this.unknownZones.summary()}. ` +
          "Use IANA names such as America/New_York, or leave the cell empty to use the number's zone. Nothing was created.",
      );
    }
    const never = this.neverOpen.count;
    if (never > 0 && this.window) {
      return badRequest(
        `${never} ${plural(never, "contact", "contacts")} could never be called inside the calling window ` +
          `${formatClock(this.window.start)}–${formatClock(this.window.end)}: ${this.neverOpen.summary()}. ` +
          "Give those rows a timezone, set calling_timezone, or widen the window. Nothing was created.",
      );
    }
    return null;
  }

  /** Throws create's 400 naming the rows, if any. */
  finish(): void {
    const refusal = this.refusal();
    if (refusal) throw refusal;
  }

  private checkOpens(row: number, phone: string, set: ZoneSet) {
    if (!this.window) return;
    // Per zone set, not per row: an upload has a few hundred distinct sets at most.
    let opens = this.opens.get(set.key);
    if (opens === undefined) {
      opens = nextOpening(this.window, set.zones, this.now) !== null;
      this.opens.set(set.key, opens);
    }
    if (opens) return;
    const why = set.zones.length === 0 ? "no time zone is known for the number" : `the window is never open in all of ${describeZones(set.zones)} at once`;
    this.neverOpen.add(
      {
        row,
        value: phone,
        reason: `The contact could never be called inside the calling window: ${why}. Give the row a timezone, set calling_timezone, or widen the window.`,
      },
      `row ${row} (${phone}: ${why})`,
    );
  }
}

const describeZones = (zones: readonly string[]) =>
  zones.length <= 4 ? zones.join(", ") : `${zones.slice(0, 3).join(", ")} and ${zones.length - 3} more zones`;
