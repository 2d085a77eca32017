import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";
import type { DialStage } from "./dispatcher";

/**
 * Callbacks are pending contacts due later, so the dispatcher already waits for them like retries;
 * this stage only says so when nothing else can be dialled (SPEC: how many wait, when the next is due).
 */
export class CallbackWaitStage implements DialStage {
  constructor(private readonly storage: ObjectStorage) {}

  admit(contacts: LiveContact[]): LiveContact[] {
    return contacts;
  }

  waitingReason(now: number): string | null {
    const { waiting, nextDue } = this.storage.contacts.callbackWaits(now);
    if (waiting === 0 || nextDue === null) return null;
    const when = new Date(nextDue).toISOString().replace(".000Z", "Z");
    return `${waiting} ${waiting === 1 ? "contact waits" : "contacts wait"} for a callback; the next is due at ${when}.`;
  }
}
