import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { ContactResultView } from "../../call-results/result-view";

import { type CallingWindow, contactTimezone } from "../../calling-window/calling-window";
import { database } from "../../db/client";
import { fieldsObjectText } from "../../db/custom-fields";
import { type CampaignStatus, type ContactStatus, contacts } from "../../db/schema";
import type { WebhookEventType } from "../../outbox/event-types";
import type { Outbox } from "../../outbox/outbox";
import type { HandedOverMessage } from "../../outbox/outbox-store";
import { type CampaignState, type ContactStats, customColumnsOfState, statsWithTotal } from "../storage/campaign-state";
import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";

/** What transitions.ts tells whoever reports changes outward; every call is inside the change's own storage write. */
export interface TransitionReporter {
  contactChanged(before: LiveContact, after: LiveContact, at: string): void;
  /** Stop: the working-set contacts it cancelled; those still only in D1 (seq > cursor_seq) are reported later. */
  contactsCancelled(cancelled: LiveContact[], at: string): void;
  /** `pauseReason` says why a campaign paused: an API request, or the failure breaker. */
  campaignChanged(from: CampaignStatus, to: CampaignStatus, at: string, pauseReason?: PauseReason): void;
  /** A call result was stored for the contact (which now carries it). */
  contactResult(contact: LiveContact, at: string): void;
}

/** Why a campaign paused, as `campaign.paused` says in `reason`. */
export type PauseReason = "requested" | "failure_rate";

/** Contacts read from D1 per backfill page (a stop's cancellations beyond the working set). */
const BACKFILL_PAGE = 500;
/** No new backfill page while this many deliveries wait: a 100k stop fans out at the delivery rate, not all at once. */
const BACKFILL_BACKLOG = 2_000;
const BACKFILL_INTERVAL_MS = 50;

const contactTypes: Partial<Record<ContactStatus, WebhookEventType>> = {
  completed: "contact.completed",
  failed: "contact.failed",
  cancelled: "contact.cancelled",
};

/** A contact reaching a terminal status is reported once; moves between other statuses are not. */
export function contactEventType(from: ContactStatus, to: ContactStatus): WebhookEventType | null {
  return from === to ? null : (contactTypes[to] ?? null);
}

export function campaignEventType(from: CampaignStatus, to: CampaignStatus): WebhookEventType | null {
  if (from === to) return null;
  switch (to) {
    case "running":
      return from === "paused" ? "campaign.resumed" : "campaign.started";
    case "paused":
      return "campaign.paused";
    case "completed":
      return "campaign.completed";
    case "failed":
      return "campaign.failed";
    default:
      return null;
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API's contact view (GET …/contacts), as of the transition; the window is the campaign's (its zone rules decide `timezone`). */
export function contactWebhookView(campaignId: string, contact: LiveContact, at: string, window: CallingWindow | null) {
  return {
    id: contact.contact_id,
    campaign_id: campaignId,
    row: contact.row,
    phone_number: contact.phone,
    custom_fields: JSON.parse(contact.custom_fields) as Record<string, string>,
    status: contact.status,
    attempts: contact.attempts,
    outcome: contact.outcome,
    last_error: contact.last_error,
    call_id: contact.call_id,
    next_attempt_at: iso(contact.next_attempt_at),
    timezone: contactTimezone(window, { phone: contact.phone, timezone: contact.timezone }),
    result: contact.result === null ? null : (JSON.parse(contact.result) as ContactResultView),
    callbacks: contact.callbacks,
    expires_at: iso(contact.expires_at),
    created_at: contact.created_at,
    updated_at: at,
  };
}

function campaignWebhookView(state: CampaignState, stats: ContactStats, at: string) {
  const terminal = state.status === "completed" || state.status === "failed";
  return {
    id: state.campaign_id,
    name: state.name,
    status: state.status,
    status_reason: state.status_reason,
    started_at: state.started_at,
    completed_at: terminal ? at : null,
    stats: statsWithTotal(stats),
  };
}

interface BackfillCursor {
  campaign_id: string;
  after_seq: number;
}

const windowOf = (state: CampaignState) => (state.calling_window ? (JSON.parse(state.calling_window) as CallingWindow) : null);

/**
 * The campaign's side of webhooks: turns its transitions into outbox messages, and reports a
 * stop's cancellations of contacts that never left D1 page by page (one durable cursor row
 * written with the stop), so a 100k-contact stop is not one huge synchronous write.
 */
export class CampaignWebhookReports implements TransitionReporter {
  private lastBackfillAt = 0;
  private cursor: BackfillCursor | null | undefined;
  private backfilling: Promise<void> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: ObjectStorage,
    private readonly outbox: Outbox,
    private readonly db: D1Database,
  ) {}

  createSchema() {
    this.cursor = undefined;
    this.outbox.createSchema();
    this.sql.exec(`CREATE TABLE IF NOT EXISTS webhook_backfill (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1), campaign_id TEXT NOT NULL, after_seq INTEGER NOT NULL)`);
  }

  contactChanged(before: LiveContact, after: LiveContact, at: string) {
    const type = contactEventType(before.status, after.status);
    const state = this.storage.campaign.get();
    if (!type || !state) return;
    this.outbox.setAccount(state.account_id);
    this.outbox.enqueue({ type, data: contactWebhookView(state.campaign_id, after, at, windowOf(state)), at: Date.parse(at) });
  }

  contactsCancelled(cancelled: LiveContact[], at: string) {
    const state = this.storage.campaign.get();
    if (!state) return;
    this.outbox.setAccount(state.account_id);
    const window = windowOf(state);
    for (const contact of cancelled) {
      this.outbox.enqueue({ type: "contact.cancelled", data: contactWebhookView(state.campaign_id, contact, at, window), at: Date.parse(at) });
    }
    // Nothing beyond the working set when D1 had no more pending rows; nobody to tell when no endpoint wants it.
    if (state.exhausted || this.outbox.wants("contact.cancelled") === false) return;
    this.setBackfillCursor({ campaign_id: state.campaign_id, after_seq: state.cursor_seq });
  }

  contactResult(contact: LiveContact, at: string) {
    const state = this.storage.campaign.get();
    if (!state) return;
    this.outbox.setAccount(state.account_id);
    this.outbox.enqueue({ type: "contact.result", data: contactWebhookView(state.campaign_id, contact, at, windowOf(state)), at: Date.parse(at) });
  }

  campaignChanged(from: CampaignStatus, to: CampaignStatus, at: string, pauseReason: PauseReason = "requested") {
    const type = campaignEventType(from, to);
    const state = this.storage.campaign.get();
    if (!type || !state) return;
    this.outbox.setAccount(state.account_id);
    const view = campaignWebhookView({ ...state, status: to }, this.storage.campaign.stats(), at);
    this.outbox.enqueue({ type, data: type === "campaign.paused" ? { ...view, reason: pauseReason } : view, at: Date.parse(at) });
  }

  /** The outbox's due time, or the next backfill page's while the delivery backlog allows one. */
  nextDueAt(now = Date.now()): number | null {
    const outbox = this.outbox.nextDueAt(now);
    if (!this.backfillCursor() || this.outbox.pendingDeliveries() >= BACKFILL_BACKLOG) return outbox;
    return Math.min(outbox ?? Number.POSITIVE_INFINITY, Math.max(now, this.lastBackfillAt + BACKFILL_INTERVAL_MS));
  }

  /** From the alarm: one backfill page when due, then an outbox pass (see Outbox.pump). Never throws. */
  async pump(): Promise<void> {
    // One backfill at a time: two reading the same cursor would report a page twice.
    this.backfilling ??= this.backfillPage()
      .catch((error) => console.error("webhook backfill failed", error))
      .finally(() => {
        this.backfilling = null;
      });
    await this.backfilling;
    await this.outbox.pump();
  }

  inspect() {
    return { ...this.outbox.inspect(), backfill: this.backfillCursor() };
  }

  /**
   * Before a delete wipes this object and its D1 contacts: reports the rest of a stop's
   * cancellations now, then hands every undelivered message to the account's outbox.
   */
  async handOver(account: { adoptWebhookMessages(accountId: string, messages: HandedOverMessage[]): Promise<void> }, accountId: string) {
    while (this.backfilling) await this.backfilling;
    while (this.backfillCursor()) await this.backfillPage(true);
    await this.outbox.handOver((batch) => account.adoptWebhookMessages(accountId, batch));
  }

  /** Resolves once no backfill, pass or request is running (tests and benchmarks). */
  async idle() {
    while (this.backfilling) await this.backfilling;
    await this.outbox.idle();
  }

  /** Read once and kept: the host asks on every arm, and only this class writes the row. */
  private backfillCursor(): BackfillCursor | null {
    if (this.cursor === undefined) {
      this.cursor = this.sql.exec<{ campaign_id: string; after_seq: number }>("SELECT campaign_id, after_seq FROM webhook_backfill").toArray()[0] ?? null;
    }
    return this.cursor;
  }

  private setBackfillCursor(cursor: BackfillCursor | null) {
    if (cursor)
      this.sql.exec("INSERT OR REPLACE INTO webhook_backfill (singleton, campaign_id, after_seq) VALUES (1, ?, ?)", cursor.campaign_id, cursor.after_seq);
    else this.sql.exec("DELETE FROM webhook_backfill");
    this.cursor = cursor;
  }

  private async backfillPage(unpaced = false) {
    const cursor = this.backfillCursor();
    const now = Date.now();
    if (!cursor) return;
    if (!unpaced && (this.outbox.pendingDeliveries() >= BACKFILL_BACKLOG || now < this.lastBackfillAt + BACKFILL_INTERVAL_MS)) return;
    this.lastBackfillAt = now;
    await this.outbox.refreshEndpoints();
    if (this.outbox.wants("contact.cancelled") === false) {
      this.setBackfillCursor(null);
      return;
    }
    // Cancelled by the stop and never dialled (outcome NULL): a contact cancelled for another reason has an outcome.
    const results = await database({ DB: this.db })
      .select()
      .from(contacts)
      .where(
        and(
          eq(contacts.campaignId, cursor.campaign_id),
          eq(contacts.status, "cancelled"),
          // The literal lets SQLite use the settled-status partial index, which holds no pending contact.
          sql`${contacts.status} <> 'pending'`,
          gt(contacts.seq, cursor.after_seq),
          isNull(contacts.outcome),
        ),
      )
      .orderBy(contacts.seq)
      .limit(BACKFILL_PAGE);
    const state = this.storage.campaign.get();
    const window = state ? windowOf(state) : null;
    const columns = customColumnsOfState(state);
    // The page's messages and the cursor move in one write: a crash repeats no page and skips none.
    for (const c of results) {
      const contact: LiveContact = {
        contact_id: c.id,
        seq: c.seq,
        row: c.row,
        phone: c.phoneNumber,
        custom_fields: fieldsObjectText(c.customFields, columns),
        status: c.status,
        attempts: c.attempts,
        outcome: c.outcome,
        last_error: c.lastError,
        call_id: c.callId,
        next_attempt_at: null,
        timezone: c.timezone,
        window_opens_at: null,
        policy_waits_until: null,
        expires_at: c.expiresAt === null ? null : Date.parse(c.expiresAt),
        created_at: c.createdAt,
        dirty: 0,
        result: c.result,
        disposition: c.disposition,
        callbacks: c.callbacks,
        callback_at: null,
      };
      this.outbox.enqueue({
        type: "contact.cancelled",
        data: contactWebhookView(cursor.campaign_id, contact, c.updatedAt, window),
        at: Date.parse(c.updatedAt),
      });
    }
    this.setBackfillCursor(results.length < BACKFILL_PAGE ? null : { campaign_id: cursor.campaign_id, after_seq: results.at(-1)?.seq ?? cursor.after_seq });
  }
}
