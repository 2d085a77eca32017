import type { D1Sync } from "./d1-sync";
import type { ObjectStorage } from "./storage/object-storage";
import type { LiveContact, SettledRow } from "./storage/working-contacts";

/** A contact here, or as D1 has it (a settled or not yet paged contact is only in D1). */
export type FoundContact = { live: LiveContact } | { row: SettledRow };

/** Finds one contact of the campaign wherever it is, and brings a D1-only one into the working set before it changes. */
export class ContactLookup {
  constructor(private readonly parts: { storage: ObjectStorage; d1: D1Sync }) {}

  async find(campaignId: string, contactId: string, seq: number): Promise<FoundContact | null> {
    const live = this.parts.storage.contacts.get(contactId);
    if (live) return { live };
    const row = await this.parts.d1.contactAt(campaignId, seq);
    return row && row.id === contactId ? { row } : null;
  }

  /** The contact in the working set: one read from D1 is brought back (clean) so its change is flushed like any other. */
  adopt(found: FoundContact): LiveContact {
    const { storage } = this.parts;
    if ("live" in found) return found.live;
    const here = storage.contacts.get(found.row.id);
    if (here) return here;
    const next = (found.row as SettledRow & { next_attempt_at?: string | null }).next_attempt_at;
    storage.contacts.adoptSettled(found.row, next ? Date.parse(next) : null);
    return storage.contacts.get(found.row.id) as LiveContact;
  }
}
