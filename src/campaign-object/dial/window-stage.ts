import { type CallingWindow, WindowGate, windowWaitReason } from "../../calling-window/calling-window";
import { nowIso } from "../../db/client";
import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";
import type { Transitions } from "../transitions";
import type { DialStage } from "./dispatcher";

/**
 * The calling window between "due" and "lease a slot": contacts inside their window pass; the
 * others wait for their next opening (their next_attempt_at moves there, so the dispatch timer is
 * armed for it and a waiting campaign costs no ticks), and never hold up the contacts behind them.
 */
export class CallingWindowStage implements DialStage {
  /** Held contacts move to their opening, so the dispatcher may put the next ones to it at once. */
  readonly refills = true;
  private parsed: { json: string; window: CallingWindow } | null = null;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly transitions: Transitions,
  ) {}

  admit(contacts: LiveContact[], now: number): LiveContact[] {
    const window = this.window();
    if (!window) return contacts;
    const gate = new WindowGate(window, now);
    const admitted: LiveContact[] = [];
    const waiting = new Map<number, string[]>();
    for (const contact of contacts) {
      const zones = gate.zonesOf(contact);
      if (gate.isOpen(zones)) {
        admitted.push(contact);
        continue;
      }
      const opensAt = gate.nextOpening(zones);
      if (opensAt === null) {
        // Create refuses such contacts; a copy under another window can still bring one here.
        this.transitions.contact(
          contact,
          {
            status: "cancelled",
            next_attempt_at: null,
            last_error: `The calling window never opens in all of its zones (${zones.zones.join(", ") || "none known"}).`,
          },
          contact.attempts,
          nowIso(now),
        );
        continue;
      }
      const group = waiting.get(opensAt);
      if (group) group.push(contact.contact_id);
      else waiting.set(opensAt, [contact.contact_id]);
    }
    for (const [opensAt, contactIds] of waiting) this.storage.contacts.waitForWindow(contactIds, opensAt);
    return admitted;
  }

  /** SPEC: when nothing can be dialled because of the window, how many wait and when the next one opens (UTC). */
  waitingReason(now: number): string | null {
    if (!this.window()) return null;
    const { waiting, nextOpening } = this.storage.contacts.windowWaits(now);
    return waiting > 0 ? windowWaitReason(waiting, nextOpening) : null;
  }

  private window(): CallingWindow | null {
    const json = this.storage.campaign.get()?.calling_window ?? null;
    if (json === null) return null;
    if (this.parsed?.json !== json) this.parsed = { json, window: JSON.parse(json) as CallingWindow };
    return this.parsed.window;
  }
}
