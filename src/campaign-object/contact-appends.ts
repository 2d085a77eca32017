import { type IngestResult, withoutNumbers } from "../uploads/ingest";
import type { AlarmClock } from "./alarm-clock";
import { appendRefusal } from "./append-rules";
import type { D1Sync } from "./d1-sync";
import type { EventHub } from "./live/event-hub";
import type { ObjectStorage } from "./storage/object-storage";

/** What an append did, or why it did nothing (`too_many`: the 1,000,000 limit). */
export type AppendOutcome =
  | { ok: true; added: number; duplicates_skipped: number; dnc_suppressed: number; total: number }
  | { ok: false; reason: "not_found" | "conflict" | "too_many"; message: string };

/**
 * Contacts appended to a campaign (SPEC "Safe operations"). The object is the one writer of its
 * contacts' state, so an append runs here, in turn with lifecycle actions and completion: it cannot
 * land in a campaign that finished meanwhile, and a campaign cannot complete between the write and
 * the moment the object counts the new contacts. Two appends never number the same seq.
 */
export class ContactAppends {
  constructor(
    private readonly parts: {
      storage: ObjectStorage;
      d1: D1Sync;
      alarm: AlarmClock;
      hub: EventHub;
      /** LifecycleRunner.exclusively. */
      exclusively: <T>(fn: () => Promise<T>) => Promise<T>;
      /** Dispatcher.contactsAdded: page D1 again and dial at once when running. */
      contactsAdded: () => void;
    },
  ) {}

  append(campaignId: string, upload: IngestResult): Promise<AppendOutcome> {
    return this.parts.exclusively(() => this.appendInTurn(campaignId, upload));
  }

  private async appendInTurn(campaignId: string, upload: IngestResult): Promise<AppendOutcome> {
    const { storage, d1, alarm, hub } = this.parts;
    const state = await d1.load(campaignId);
    if (!state) return { ok: false, reason: "not_found", message: `Campaign ${campaignId} was not found.` };
    const finished = appendRefusal(state.status, 0, 0);
    if (finished) return { ok: false, reason: "conflict", message: finished.message };
    const [base, present] = await Promise.all([d1.appendBase(campaignId), d1.numbersAmong(campaignId, upload.phones)]);
    const fresh = withoutNumbers(upload, present);
    const refusal = appendRefusal(state.status, base.total, fresh.count);
    if (refusal) return { ok: false, reason: refusal.reason === "too_many" ? "too_many" : "conflict", message: refusal.message };
    if (fresh.count === 0) return { ok: true, added: 0, duplicates_skipped: fresh.duplicatesSkipped, dnc_suppressed: 0, total: base.total };

    const suppressed = await d1.appendContacts(state, fresh.chunks, fresh.count, base.nextSeq, fresh.duplicatesSkipped);
    // Counted in the same step the dispatcher hears of them: no completion check sees the write without them.
    storage.campaign.addStat("pending", fresh.count - suppressed);
    storage.campaign.addStat("cancelled", suppressed);
    this.parts.contactsAdded();
    await d1.flush();
    await alarm.arm();
    hub.publish();
    hub.pushSnapshot();
    return { ok: true, added: fresh.count, duplicates_skipped: fresh.duplicatesSkipped, dnc_suppressed: suppressed, total: base.total + fresh.count };
  }
}
