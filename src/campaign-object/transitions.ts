import type { CampaignStatus } from "../db/schema";
import type { PauseReason, TransitionReporter } from "./reports/webhook-reports";
import type { CampaignState } from "./storage/campaign-state";
import type { ResultEvent } from "./storage/event-log";
import type { ObjectStorage } from "./storage/object-storage";
import type { ContactPatch, LiveContact } from "./storage/working-contacts";

/**
 * The one place where a contact or the campaign changes status. Each method is synchronous: the
 * row, its counters and the replay log change in one storage write, and so must anything written
 * with them (a webhook outbox enqueues its messages here, in the same write).
 */
export class Transitions {
  constructor(
    private readonly storage: ObjectStorage,
    /** Webhook messages, enqueued in the same write as the change (webhook-reports.ts). */
    private readonly reporter?: TransitionReporter,
  ) {}

  /** Any change of a contact: dial, progress, settlement (terminal or back to pending), un-placing. */
  contact(contact: LiveContact, patch: ContactPatch, attempt: number, at: string): LiveContact {
    const next = { ...contact, ...patch };
    this.storage.contacts.write(next);
    this.storage.campaign.moveStat(contact.status, next.status);
    if (contact.status !== next.status || patch.outcome !== undefined) this.storage.events.append(next, attempt, at);
    this.reporter?.contactChanged(contact, next, at);
    return next;
  }

  /**
   * A call result stored on the contact (and whatever it changes: a callback, an opt-out's cancel):
   * the row, counters, a transition if its status moved, the result event and its webhook, in one write.
   */
  result(contact: LiveContact, patch: ContactPatch, event: ResultEvent["data"]): LiveContact {
    const next = this.contact(contact, patch, contact.attempts, event.at);
    this.storage.calls.moveDisposition(contact.disposition, event.disposition);
    this.storage.events.appendResult(event);
    this.reporter?.contactResult(next, event.at);
    return next;
  }

  /**
   * Stop: every pending contact is cancelled. Those in the working set are returned; those still
   * only in D1 are cancelled there by the stop's own D1 write and counted here.
   */
  cancelPending(at: string): LiveContact[] {
    const cancelled = this.storage.contacts.cancelPending();
    this.storage.campaign.moveStat("pending", "cancelled", this.storage.campaign.stats().pending);
    this.reporter?.contactsCancelled(cancelled, at);
    return cancelled;
  }

  /** Any change of the campaign's status (lifecycle actions, completion, failure). */
  campaignStatus(
    status: CampaignStatus,
    fields: Pick<CampaignState, "status_reason"> & Partial<Pick<CampaignState, "started_at" | "ramp_started_at">>,
    at: string,
    pauseReason?: PauseReason,
  ) {
    const from = this.storage.campaign.get()?.status;
    this.storage.campaign.patch({ status, ...fields });
    if (from) this.reporter?.campaignChanged(from, status, at, pauseReason);
  }
}
