import { resultSettingsOf } from "../call-results/settings";
import { callingWindowOf } from "../calling-window/calling-window";
import { contactStatsOf, loadCampaignRow } from "../db/campaign-rows";
import { nowIso } from "../db/client";
import { insertContactStatements } from "../db/contact-inserts";
import { fieldsObjectText } from "../db/custom-fields";
import type { CampaignStatus } from "../db/schema";
import { SUPPRESS_APPENDED_SQL } from "../dnc/check";
import type { Env } from "../env";
import { contactIdStem } from "../ids";
import { type CampaignState, customColumnsOfState } from "./storage/campaign-state";
import type { ObjectStorage } from "./storage/object-storage";
import type { PendingRow, SettledRow } from "./storage/working-contacts";

/** Numbers per duplicate-finding statement: ~16 bytes each keeps the bound JSON near 800 KB. */
const NUMBERS_PER_STATEMENT = 50_000;

/** The campaign's contacts whose number is among a bound JSON array; SQLite builds the array's set once and walks the campaign. */
const CAMPAIGN_NUMBERS_AMONG_SQL = "SELECT phone_number FROM contacts WHERE campaign_id = ?1 AND phone_number IN (SELECT value FROM json_each(?2))";

/** How long an agent's stream URL is reused before D1 is asked again: a PATCH reaches running campaigns within this. */
export const AGENT_URL_TTL_MS = 15_000;

/** Contact rows per flush; a longer backlog flushes again at once. */
const FLUSH_BATCH = 5_000;

/**
 * Changed contacts, each named by (campaign, seq) from the JSON alone: SQLite can then only walk the
 * changed rows and seek each contact. A bound campaign id would let it walk the whole campaign instead.
 */
export const FLUSH_CONTACTS_SQL = `UPDATE contacts SET status = u.value ->> 's', attempts = u.value ->> 'a', outcome = u.value ->> 'o',
    last_error = u.value ->> 'e', call_id = u.value ->> 'c', next_attempt_at = u.value ->> 'n', result = u.value ->> 'r',
    disposition = u.value ->> 'd', callbacks = u.value ->> 'b', updated_at = ?1
  FROM json_each(?2) AS u WHERE contacts.campaign_id = u.value ->> 'k' AND contacts.seq = u.value ->> 'q'`;

/** Pending contacts after a seq, along (campaign_id, seq): the settled-status index holds no pending contact. */
export const PENDING_PAGE_SQL = `SELECT id, seq, phone_number, custom_fields, attempts, timezone, row, created_at, callbacks, expires_at FROM contacts
  WHERE campaign_id = ? AND seq > ? AND status = 'pending' ORDER BY seq LIMIT ?`;

/**
 * Everything the campaign object reads from or writes to D1, the system of record: its campaign
 * the first time it is touched, pages of pending contacts, status changes, and the batched flush
 * of contact changes and counters.
 */
export class D1Sync {
  /** Counters and reason as this instance last wrote them to D1: an alarm with nothing new writes nothing. */
  private flushedKey: string | null = null;
  /** The agent's stream URL as last read, so an answered call does not wait on a D1 read each time. */
  private agentUrl: { agentId: string; url: Promise<string | null>; readAt: number } | null = null;

  constructor(
    private readonly env: Env,
    private readonly storage: ObjectStorage,
  ) {}

  /** The campaign as this object knows it, read from D1 the first time (null when D1 has no such campaign). */
  async load(campaignId: string): Promise<CampaignState | null> {
    const known = this.storage.campaign.get();
    if (known) return known;
    const row = await loadCampaignRow(this.env, campaignId);
    if (!row) return null;
    const state: CampaignState = {
      campaign_id: row.id,
      account_id: row.accountId,
      name: row.name,
      status: row.status,
      status_reason: row.statusReason,
      max_concurrent_calls: row.maxConcurrentCalls,
      retries_per_contact: row.retriesPerContact,
      retry_delay_seconds: row.retryDelaySeconds,
      agent_id: row.agentId,
      phone_number_id: row.phoneNumberId,
      scheduled_at: row.scheduledAt,
      started_at: row.startedAt,
      cursor_seq: -1,
      exhausted: 0,
      backoff_ms: 0,
      dial_after: 0,
      high_water: 0,
      calling_window: ((window) => (window ? JSON.stringify(window) : null))(callingWindowOf(row)),
      custom_columns: row.customColumns,
      result_settings: JSON.stringify(resultSettingsOf(row)),
      pause_on_failure_rate: row.pauseOnFailureRate,
      failure_window: row.failureWindow,
      ramp_up_seconds: row.rampUpSeconds,
      ramp_started_at: 0,
    };
    // Another call may have loaded it while we awaited D1: the first one wins.
    const raced = this.storage.campaign.get();
    if (raced) return raced;
    this.storage.campaign.save(state);
    this.storage.campaign.initStats(contactStatsOf(row));
    this.storage.calls.initDispositions(JSON.parse(row.dispositionStats) as Record<string, number>);
    return state;
  }

  /** All contact changes since the last flush, and the counters, in one D1 batch. */
  async flush() {
    const state = this.storage.campaign.get();
    if (!state) return;
    const dirty = this.storage.contacts.dirty(FLUSH_BATCH);
    const stats = this.storage.campaign.stats();
    const dispositions = JSON.stringify(this.storage.calls.dispositions());
    const key = JSON.stringify([stats, state.status_reason, dispositions]);
    if (dirty.length === 0 && key === this.flushedKey) return;
    const now = nowIso();
    const statements: D1PreparedStatement[] = [];
    if (dirty.length > 0) {
      const rows = dirty.map((c) => ({
        k: state.campaign_id,
        q: c.seq,
        s: c.status,
        a: c.attempts,
        o: c.outcome,
        e: c.last_error,
        c: c.call_id,
        n: c.next_attempt_at === null ? null : nowIso(c.next_attempt_at),
        r: c.result,
        d: c.disposition,
        b: c.callbacks,
      }));
      statements.push(this.env.DB.prepare(FLUSH_CONTACTS_SQL).bind(now, JSON.stringify(rows)));
    }
    statements.push(
      this.env.DB.prepare(
        `UPDATE campaigns SET stat_pending = ?, stat_originated = ?, stat_connected = ?, stat_completed = ?, stat_failed = ?, stat_cancelled = ?,
           status_reason = ?, disposition_stats = ?, updated_at = ? WHERE id = ?`,
      ).bind(
        stats.pending,
        stats.originated,
        stats.connected,
        stats.completed,
        stats.failed,
        stats.cancelled,
        state.status_reason,
        dispositions,
        now,
        state.campaign_id,
      ),
    );
    await this.env.DB.batch(statements);
    this.flushedKey = key;
    this.storage.contacts.markFlushed(dirty.map((c) => ({ id: c.contact_id, version: c.dirty })));
    this.storage.events.prune(Date.now());
    if (dirty.length === FLUSH_BATCH) this.storage.timers.setNoLater("flush", Date.now());
  }

  /**
   * A lifecycle action's new status; a stop also cancels, in the same transaction, every contact
   * still waiting. Returns the D1 bookmark of the write, so the API's answer can include it.
   */
  async persistTransition(
    campaignId: string,
    status: CampaignStatus,
    startedAt: string | null,
    finishing: boolean,
    now: string,
    reason: string | null = null,
  ): Promise<string | null> {
    const db = this.env.DB.withSession("first-primary");
    const update = db
      .prepare(
        `UPDATE campaigns SET status = ?, status_reason = ?, started_at = ?, updated_at = ?,
           completed_at = CASE WHEN ? THEN ? ELSE completed_at END
         WHERE id = ?`,
      )
      .bind(status, reason, startedAt, now, finishing ? 1 : 0, now, campaignId);
    const cancelWaiting = [
      db
        .prepare("UPDATE contacts SET status = 'cancelled', next_attempt_at = NULL, updated_at = ? WHERE campaign_id = ? AND status = 'pending'")
        .bind(now, campaignId),
      db.prepare("UPDATE campaigns SET stat_cancelled = stat_cancelled + stat_pending, stat_pending = 0 WHERE id = ?").bind(campaignId),
    ];
    await db.batch(finishing ? [update, ...cancelWaiting] : [update]);
    return db.getBookmark();
  }

  /** Completed or failed, with completed_at. */
  async persistFinish(campaignId: string, status: "completed" | "failed", reason: string | null) {
    const now = nowIso();
    await this.env.DB.prepare("UPDATE campaigns SET status = ?, status_reason = ?, completed_at = ?, updated_at = ? WHERE id = ?")
      .bind(status, reason, now, now, campaignId)
      .run();
  }

  async persistReason(campaignId: string, reason: string | null) {
    await this.env.DB.prepare("UPDATE campaigns SET status_reason = ?, updated_at = ? WHERE id = ?").bind(reason, nowIso(), campaignId).run();
  }

  /** Returns the D1 bookmark of the delete. */
  async deleteCampaign(campaignId: string): Promise<string | null> {
    const db = this.env.DB.withSession("first-primary");
    await db.batch([
      db.prepare("DELETE FROM contacts WHERE campaign_id = ?").bind(campaignId),
      db.prepare("DELETE FROM campaigns WHERE id = ?").bind(campaignId),
    ]);
    return db.getBookmark();
  }

  /** Pending contacts after `cursorSeq`, in CSV order, their custom fields named (the working set keeps them so). */
  async pendingPage(campaignId: string, cursorSeq: number, limit: number): Promise<PendingRow[]> {
    const { results } = await this.env.DB.prepare(PENDING_PAGE_SQL).bind(campaignId, cursorSeq, limit).all<PendingRow>();
    const columns = customColumnsOfState(this.storage.campaign.get());
    for (const row of results) row.custom_fields = fieldsObjectText(row.custom_fields, columns);
    return results;
  }

  /** How many contacts the campaign holds and the seq the next one takes, as D1 has them (an append starts there). */
  async appendBase(campaignId: string): Promise<{ total: number; nextSeq: number }> {
    const row = await this.env.DB.prepare(
      "SELECT total, (SELECT coalesce(max(seq) + 1, 0) FROM contacts WHERE campaign_id = ?1) AS next_seq FROM campaigns WHERE id = ?1",
    )
      .bind(campaignId)
      .first<{ total: number; next_seq: number }>();
    return { total: row?.total ?? 0, nextSeq: row?.next_seq ?? 0 };
  }

  /**
   * Which of `phones` the campaign already holds. No index leads from a number to its campaigns, so
   * each statement walks the campaign's contacts once against up to 50k numbers; one round trip in all.
   */
  async numbersAmong(campaignId: string, phones: Iterable<string>): Promise<Set<string>> {
    const batches: string[][] = [[]];
    for (const phone of phones) {
      let batch = batches.at(-1) as string[];
      if (batch.length === NUMBERS_PER_STATEMENT) {
        batch = [];
        batches.push(batch);
      }
      batch.push(phone);
    }
    if (batches[0]?.length === 0) return new Set();
    const statement = this.env.DB.prepare(CAMPAIGN_NUMBERS_AMONG_SQL);
    const results = await this.env.DB.batch<{ phone_number: string }>(batches.map((batch) => statement.bind(campaignId, JSON.stringify(batch))));
    return new Set(results.flatMap((result) => result.results.map((row) => row.phone_number)));
  }

  /**
   * An append's contacts, their DNC suppression and the campaign's counters in one D1 batch (one
   * transaction: a failure writes none of it). Returns how many were suppressed.
   */
  async appendContacts(state: CampaignState, chunks: readonly { json: string }[], added: number, firstSeq: number, duplicates: number): Promise<number> {
    const db = this.env.DB;
    const now = nowIso();
    const insert = { stem: contactIdStem(), campaignId: state.campaign_id, accountId: state.account_id, createdAt: now, firstSeq };
    const inserts = insertContactStatements(db, insert, chunks);
    const suppress = db.prepare(SUPPRESS_APPENDED_SQL).bind(state.campaign_id, state.account_id, now, firstSeq);
    const counters = db
      .prepare(
        `UPDATE campaigns SET total = total + ?2, stat_pending = stat_pending + ?2 - suppressed.n, stat_cancelled = stat_cancelled + suppressed.n,
           duplicates_skipped = duplicates_skipped + ?4, updated_at = ?5
         FROM (SELECT count(*) AS n FROM contacts WHERE campaign_id = ?1 AND status = 'cancelled' AND status <> 'pending' AND seq >= ?3) AS suppressed
         WHERE id = ?1`,
      )
      .bind(state.campaign_id, added, firstSeq, duplicates, now);
    const results = await db.batch([...inserts, suppress, counters]);
    return results[inserts.length]?.meta.changes ?? 0;
  }

  /** One contact as D1 has it, by its place in the campaign (a settled contact a result or a callback brings back). */
  async contactAt(campaignId: string, seq: number): Promise<SettledRow | null> {
    const row = await this.env.DB.prepare(
      `SELECT id, seq, phone_number, custom_fields, attempts, timezone, row, created_at, callbacks, expires_at, status, outcome, last_error, call_id,
         next_attempt_at, result, disposition FROM contacts WHERE campaign_id = ? AND seq = ?`,
    )
      .bind(campaignId, seq)
      .first<SettledRow & { next_attempt_at: string | null }>();
    if (!row) return null;
    row.custom_fields = fieldsObjectText(row.custom_fields, customColumnsOfState(this.storage.campaign.get()));
    return row;
  }

  /** Only an active agent on an outbound-enabled number may originate calls (checked at start and resume). */
  async readinessProblem(state: CampaignState): Promise<string | null> {
    const row = await this.env.DB.prepare(
      "SELECT (SELECT status FROM agents WHERE id = ?) AS agent_status, (SELECT outbound_enabled FROM phone_numbers WHERE id = ?) AS outbound",
    )
      .bind(state.agent_id, state.phone_number_id)
      .first<{ agent_status: string | null; outbound: number | null }>();
    if (!row?.agent_status) return `Agent ${state.agent_id} no longer exists; create the campaign again with an existing agent.`;
    if (row.agent_status !== "active")
      return `Agent ${state.agent_id} is ${row.agent_status}; only an active agent can place calls. PATCH it to status "active" first.`;
    if (row.outbound === null) return `Phone number ${state.phone_number_id} no longer exists; create the campaign again with an existing number.`;
    if (!row.outbound) return `Phone number ${state.phone_number_id} is not enabled for outbound calls; PATCH it with outbound_enabled: true first.`;
    return null;
  }

  async agentStreamUrl(agentId: string, now = Date.now()): Promise<string | null> {
    const known = this.agentUrl;
    if (known && known.agentId === agentId && now - known.readAt < AGENT_URL_TTL_MS) return known.url;
    // The promise is kept, so the answers that arrive while the read is under way share it.
    const url = this.env.DB.prepare("SELECT stream_url FROM agents WHERE id = ?")
      .bind(agentId)
      .first<{ stream_url: string | null }>()
      .then((agent) => agent?.stream_url ?? null);
    this.agentUrl = { agentId, url, readAt: now };
    url.catch(() => {
      if (this.agentUrl?.url === url) this.agentUrl = null;
    });
    return url;
  }

  /** The number's E.164 and its provider's kind and sealed credentials. */
  async numberCarrier(phoneNumberId: string) {
    return this.env.DB.prepare(
      `SELECT n.e164 AS e164, p.provider AS provider, p.credentials AS credentials
       FROM phone_numbers n JOIN telephony_providers p ON p.id = n.credentials_id WHERE n.id = ?`,
    )
      .bind(phoneNumberId)
      .first<{ e164: string; provider: string; credentials: string }>();
  }
}
