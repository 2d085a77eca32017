import { nowIso } from "../../db/client";
import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";
import type { Transitions } from "../transitions";
import type { DialStage } from "./dispatcher";
import { splitExpired } from "./expiry-rules";

/**
 * Contact expiry before every other check: a due contact whose expires_at has come ends
 * `cancelled` with outcome `expired` and is never dialled. A contact waiting for a retry, a
 * callback or its window is due at its expiry too (working-contacts.ts due), so it ends then and
 * the campaign never waits on it.
 */
export class ExpiryStage implements DialStage {
  /** Expired contacts leave the due set, so the dispatcher puts the next ones to the stages at once. */
  readonly refills = true;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly transitions: Transitions,
  ) {}

  admit(contacts: LiveContact[], now: number): LiveContact[] {
    const { live, expired } = splitExpired(contacts, now);
    const at = nowIso(now);
    for (const contact of expired) {
      // Read again: a stop or a cancel may have ended it since the batch was read.
      const current = this.storage.contacts.get(contact.contact_id);
      if (current?.status !== "pending") continue;
      this.transitions.contact(current, { status: "cancelled", outcome: "expired", next_attempt_at: null }, current.attempts, at);
    }
    return live;
  }
}
