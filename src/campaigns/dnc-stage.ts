import { nowIso } from "../db/client";
import type { DialStage } from "./dispatcher";
import { listedAmong } from "./dnc-check";
import type { ObjectStorage } from "./object-storage/object-storage";
import type { LiveContact } from "./object-storage/working-contacts";
import type { Transitions } from "./transitions";

/**
 * The do-not-call check just before dialling: one D1 query for the tick's whole batch, before any
 * slot is leased. A listed contact is cancelled with outcome `dnc` and no attempt. Together with
 * Dispatcher.fence() (awaited by the DNC add), no dial starts after an add that lists its number
 * has returned.
 */
export class DncStage implements DialStage {
  constructor(
    private readonly parts: {
      db: D1Database;
      storage: ObjectStorage;
      transitions: Transitions;
    },
  ) {}

  async admit(contacts: LiveContact[], now: number): Promise<LiveContact[]> {
    const { db, storage, transitions } = this.parts;
    const state = storage.campaign.get();
    if (!state) return contacts;
    const listed = await listedAmong(
      db,
      state.account_id,
      contacts.map((c) => c.phone),
    );
    if (listed.size === 0) return contacts;
    const at = nowIso(now);
    const admitted: LiveContact[] = [];
    for (const contact of contacts) {
      if (!listed.has(contact.phone)) {
        admitted.push(contact);
        continue;
      }
      // Read again: a stop may have cancelled it while the query was out.
      const current = storage.contacts.get(contact.contact_id);
      if (current?.status === "pending") transitions.contact(current, { status: "cancelled", outcome: "dnc", next_attempt_at: null }, current.attempts, at);
    }
    return admitted;
  }
}
