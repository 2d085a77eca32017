import type { CampaignStatus, ContactStatus } from "../db/schema";
import type { ContactEvent } from "./events";

/** The campaign as its Durable Object tracks it; D1 mirrors status and counters. */
export interface CampaignState {
  campaign_id: string;
  account_id: string;
  name: string;
  status: CampaignStatus;
  status_reason: string | null;
  max_concurrent_calls: number;
  retries_per_contact: number;
  retry_delay_seconds: number;
  agent_id: string;
  phone_number_id: string;
  scheduled_at: string | null;
  started_at: string | null;
  /** Highest contact seq already read from D1 into the working set. */
  cursor_seq: number;
  exhausted: number;
  backoff_ms: number;
  /** No new dials before this epoch ms (carrier back-off); slots are still returned meanwhile. */
  dial_after: number;
  high_water: number;
}

export interface LiveContact {
  contact_id: string;
  seq: number;
  phone: string;
  custom_fields: string;
  status: ContactStatus;
  attempts: number;
  outcome: string | null;
  last_error: string | null;
  call_id: string | null;
  next_attempt_at: number | null;
  /** 0 when D1 has this row as it is; otherwise bumped on every change, so a flush clears only what it wrote. */
  dirty: number;
}

export type AttemptState = "dialing" | "live" | "unknown" | "ended";

export interface Attempt {
  attempt_id: string;
  contact_id: string;
  lease_id: string;
  phone: string;
  created_at: number;
  call_id: string | null;
  rank: number;
  state: AttemptState;
  last_event_at: number;
  outcome: string | null;
  talk_seconds: number;
  released: number;
}

export type TimerName = "dispatch" | "stale" | "scheduled_start" | "flush";

const STATS: readonly ContactStatus[] = ["pending", "originated", "connected", "completed", "failed", "cancelled"];
/** Contact transitions kept for SSE/WebSocket replay: the last 10,000, at most 24 h old. */
export const EVENT_LOG_LIMIT = 10_000;
export const EVENT_LOG_MAX_AGE_MS = 24 * 3_600_000;

type Row = Record<string, SqlStorageValue>;

/** Typed access to one CampaignDO's SQLite storage. Every method is synchronous: callers compose them atomically. */
export class CampaignStore {
  /** Write-through copy of the one-row state table: it is read on nearly every call. */
  private cachedState: CampaignState | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.cachedState = undefined;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS campaign_state (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      campaign_id TEXT NOT NULL, account_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT,
      max_concurrent_calls INTEGER NOT NULL, retries_per_contact INTEGER NOT NULL, retry_delay_seconds INTEGER NOT NULL,
      agent_id TEXT NOT NULL, phone_number_id TEXT NOT NULL, scheduled_at TEXT, started_at TEXT,
      cursor_seq INTEGER NOT NULL DEFAULT -1, exhausted INTEGER NOT NULL DEFAULT 0,
      backoff_ms INTEGER NOT NULL DEFAULT 0, dial_after INTEGER NOT NULL DEFAULT 0, high_water INTEGER NOT NULL DEFAULT 0)`);
    this.sql.exec("CREATE TABLE IF NOT EXISTS stats (status TEXT PRIMARY KEY, n INTEGER NOT NULL)");
    this.sql.exec(`CREATE TABLE IF NOT EXISTS contacts (
      contact_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, phone TEXT NOT NULL, custom_fields TEXT NOT NULL,
      status TEXT NOT NULL, attempts INTEGER NOT NULL, outcome TEXT, last_error TEXT, call_id TEXT,
      next_attempt_at INTEGER, dirty INTEGER NOT NULL DEFAULT 0)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS contacts_due ON contacts (status, next_attempt_at, seq)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS contacts_dirty ON contacts (dirty)");
    this.sql.exec(`CREATE TABLE IF NOT EXISTS attempts (
      attempt_id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, lease_id TEXT NOT NULL, phone TEXT NOT NULL,
      created_at INTEGER NOT NULL, call_id TEXT, rank INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,
      last_event_at INTEGER NOT NULL, outcome TEXT, talk_seconds INTEGER NOT NULL DEFAULT 0, released INTEGER NOT NULL DEFAULT 0)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS attempts_state ON attempts (state)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS attempts_release ON attempts (state, released)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS timers (name TEXT PRIMARY KEY, due_at INTEGER NOT NULL)");
    this.sql.exec(`CREATE TABLE IF NOT EXISTS events (
      id INTEGER PRIMARY KEY AUTOINCREMENT, contact_id TEXT NOT NULL, phone TEXT NOT NULL, status TEXT NOT NULL,
      attempt INTEGER NOT NULL, outcome TEXT, at TEXT NOT NULL)`);
    this.sql.exec("CREATE TABLE IF NOT EXISTS originations (at INTEGER NOT NULL)");
  }

  // --- campaign state -------------------------------------------------------------------------

  state(): CampaignState | null {
    this.cachedState ??= (this.sql.exec<Row>("SELECT * FROM campaign_state").toArray()[0] as CampaignState | undefined) ?? null;
    return this.cachedState ? { ...this.cachedState } : null;
  }

  saveState(state: CampaignState) {
    this.cachedState = { ...state };
    const columns = Object.keys(state) as (keyof CampaignState)[];
    this.sql.exec(
      `INSERT OR REPLACE INTO campaign_state (singleton, ${columns.join(", ")}) VALUES (1, ${columns.map(() => "?").join(", ")})`,
      ...columns.map((c) => state[c]),
    );
  }

  patchState(patch: Partial<CampaignState>) {
    const current = this.state();
    if (current) this.saveState({ ...current, ...patch });
  }

  // --- counters -------------------------------------------------------------------------------

  initStats(stats: Record<ContactStatus, number>) {
    for (const status of STATS) this.sql.exec("INSERT OR REPLACE INTO stats (status, n) VALUES (?, ?)", status, stats[status]);
  }

  stats(): Record<ContactStatus, number> {
    const out = Object.fromEntries(STATS.map((s) => [s, 0])) as Record<ContactStatus, number>;
    for (const row of this.sql.exec<{ status: ContactStatus; n: number }>("SELECT status, n FROM stats")) out[row.status] = row.n;
    return out;
  }

  private moveStat(from: ContactStatus, to: ContactStatus, count = 1) {
    if (from === to || count === 0) return;
    this.sql.exec("UPDATE stats SET n = n - ? WHERE status = ?", count, from);
    this.sql.exec("UPDATE stats SET n = n + ? WHERE status = ?", count, to);
  }

  // --- contacts -------------------------------------------------------------------------------

  addPending(rows: { id: string; seq: number; phone_number: string; custom_fields: string; attempts: number }[]) {
    for (const row of rows) {
      this.sql.exec(
        "INSERT OR IGNORE INTO contacts (contact_id, seq, phone, custom_fields, status, attempts) VALUES (?, ?, ?, ?, 'pending', ?)",
        row.id,
        row.seq,
        row.phone_number,
        row.custom_fields,
        row.attempts,
      );
    }
  }

  contact(contactId: string): LiveContact | null {
    return (this.sql.exec<Row>("SELECT * FROM contacts WHERE contact_id = ?", contactId).toArray()[0] as LiveContact | undefined) ?? null;
  }

  /** Pending contacts that may be dialled now: retries that are due first, then fresh ones in CSV order. */
  dueContacts(now: number, limit: number): LiveContact[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM contacts WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
         ORDER BY next_attempt_at IS NULL, seq LIMIT ?`,
        now,
        limit,
      )
      .toArray() as unknown as LiveContact[];
  }

  countFreshPending(): number {
    return Number(this.sql.exec<Row>("SELECT count(*) AS n FROM contacts WHERE status = 'pending' AND next_attempt_at IS NULL").one().n);
  }

  nextRetryAt(): number | null {
    const row = this.sql.exec<Row>("SELECT min(next_attempt_at) AS at FROM contacts WHERE status = 'pending' AND next_attempt_at IS NOT NULL").one();
    return row.at === null ? null : Number(row.at);
  }

  /** Changes a contact and its counters together, marks it for the next D1 flush and logs the transition. */
  updateContact(contact: LiveContact, patch: Partial<Omit<LiveContact, "contact_id" | "seq" | "phone">>, attempt: number, at: string) {
    const next = { ...contact, ...patch };
    this.sql.exec(
      `UPDATE contacts SET status = ?, attempts = ?, outcome = ?, last_error = ?, call_id = ?, next_attempt_at = ?, dirty = dirty + 1
       WHERE contact_id = ?`,
      next.status,
      next.attempts,
      next.outcome,
      next.last_error,
      next.call_id,
      next.next_attempt_at,
      contact.contact_id,
    );
    this.moveStat(contact.status, next.status);
    if (contact.status !== next.status || patch.outcome !== undefined) this.logEvent(next, attempt, at);
    return next;
  }

  /** Stop: every pending contact here is cancelled (D1 does the same for those not loaded yet). */
  cancelPending(): number {
    const cancelled = this.sql
      .exec("UPDATE contacts SET status = 'cancelled', next_attempt_at = NULL, dirty = 0 WHERE status = 'pending' RETURNING contact_id")
      .toArray().length;
    const pendingInD1 = this.stats().pending;
    this.moveStat("pending", "cancelled", pendingInD1);
    return cancelled;
  }

  dirtyContacts(limit: number): LiveContact[] {
    return this.sql.exec<Row>("SELECT * FROM contacts WHERE dirty > 0 LIMIT ?", limit).toArray() as unknown as LiveContact[];
  }

  /** After a flush: rows unchanged since are clean again, and settled ones leave the working set (D1 has them). */
  markFlushed(rows: { id: string; version: number }[]) {
    for (const { id, version } of rows) {
      this.sql.exec("UPDATE contacts SET dirty = 0 WHERE contact_id = ? AND dirty = ?", id, version);
      this.sql.exec("DELETE FROM contacts WHERE contact_id = ? AND dirty = 0 AND status IN ('completed', 'failed', 'cancelled')", id);
    }
  }

  // --- attempts -------------------------------------------------------------------------------

  createAttempt(attempt: Attempt) {
    this.sql.exec(
      `INSERT INTO attempts (attempt_id, contact_id, lease_id, phone, created_at, call_id, rank, state, last_event_at)
       VALUES (?, ?, ?, ?, ?, NULL, 0, ?, ?)`,
      attempt.attempt_id,
      attempt.contact_id,
      attempt.lease_id,
      attempt.phone,
      attempt.created_at,
      attempt.state,
      attempt.last_event_at,
    );
    this.sql.exec("INSERT INTO originations (at) VALUES (?)", attempt.created_at);
  }

  attempt(attemptId: string): Attempt | null {
    return (this.sql.exec<Row>("SELECT * FROM attempts WHERE attempt_id = ?", attemptId).toArray()[0] as Attempt | undefined) ?? null;
  }

  patchAttempt(attemptId: string, patch: Partial<Attempt>) {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    this.sql.exec(
      `UPDATE attempts SET ${entries.map(([k]) => `${k} = ?`).join(", ")} WHERE attempt_id = ?`,
      ...entries.map(([, v]) => v as SqlStorageValue),
      attemptId,
    );
  }

  /** An attempt that never reached the carrier is not an attempt: forget it. */
  deleteAttempt(attemptId: string) {
    this.sql.exec("DELETE FROM attempts WHERE attempt_id = ?", attemptId);
  }

  openAttempts(): Attempt[] {
    return this.sql.exec<Row>("SELECT * FROM attempts WHERE state != 'ended'").toArray() as unknown as Attempt[];
  }

  inFlight(): number {
    return Number(this.sql.exec<Row>("SELECT count(*) AS n FROM attempts WHERE state != 'ended'").one().n);
  }

  totalAttempts(): number {
    return Number(this.sql.exec<Row>("SELECT count(*) AS n FROM originations").one().n);
  }

  /** Slots of ended calls not yet handed back to the AccountDO. */
  unreleased(): { attempt_id: string; lease_id: string; talk_seconds: number }[] {
    return this.sql
      .exec<{ attempt_id: string; lease_id: string; talk_seconds: number }>(
        "SELECT attempt_id, lease_id, talk_seconds FROM attempts WHERE state = 'ended' AND released = 0",
      )
      .toArray();
  }

  markReleased(attemptIds: string[]) {
    for (const id of attemptIds) this.sql.exec("DELETE FROM attempts WHERE attempt_id = ?", id);
  }

  originationTimes(): number[] {
    return this.sql
      .exec<{ at: number }>("SELECT at FROM originations ORDER BY at")
      .toArray()
      .map((r) => r.at);
  }

  // --- timers ---------------------------------------------------------------------------------

  setTimer(name: TimerName, dueAt: number) {
    this.sql.exec("INSERT OR REPLACE INTO timers (name, due_at) VALUES (?, ?)", name, Math.floor(dueAt));
  }

  /** Sets the timer unless it is already due sooner. */
  setTimerNoLater(name: TimerName, dueAt: number) {
    this.sql.exec(
      "INSERT INTO timers (name, due_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET due_at = min(due_at, excluded.due_at)",
      name,
      Math.floor(dueAt),
    );
  }

  clearTimer(name: TimerName) {
    this.sql.exec("DELETE FROM timers WHERE name = ?", name);
  }

  takeDueTimers(now: number): TimerName[] {
    return this.sql
      .exec<{ name: TimerName }>("DELETE FROM timers WHERE due_at <= ? RETURNING name", now)
      .toArray()
      .map((r) => r.name);
  }

  earliestTimer(): number | null {
    const row = this.sql.exec<Row>("SELECT min(due_at) AS at FROM timers").one();
    return row.at === null ? null : Number(row.at);
  }

  // --- event log ------------------------------------------------------------------------------

  private logEvent(contact: LiveContact, attempt: number, at: string) {
    this.sql.exec(
      "INSERT INTO events (contact_id, phone, status, attempt, outcome, at) VALUES (?, ?, ?, ?, ?, ?)",
      contact.contact_id,
      contact.phone,
      contact.status,
      attempt,
      contact.outcome,
      at,
    );
  }

  /** The replay log keeps the last 10,000 transitions, and none older than 24 h. */
  pruneEvents(now: number) {
    this.sql.exec(
      "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ? OR at < ?",
      EVENT_LOG_LIMIT,
      new Date(now - EVENT_LOG_MAX_AGE_MS).toISOString(),
    );
  }

  eventsAfter(after: number, limit: number): ContactEvent[] {
    return this.sql
      .exec<Row>("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", after, limit)
      .toArray()
      .map((r) => ({
        id: Number(r.id),
        data: {
          contact_id: String(r.contact_id),
          phone_number: String(r.phone),
          status: r.status as ContactStatus,
          attempt: Number(r.attempt),
          outcome: (r.outcome as string | null) ?? null,
          at: String(r.at),
        },
      }));
  }

  lastEventId(): number {
    return Number(this.sql.exec<Row>("SELECT coalesce(max(id), 0) AS id FROM events").one().id);
  }
}
