import type { ContactStatus } from "../../db/schema";

/** A pending contact as D1 pages it to the object (d1-sync.ts pendingPage). */
export interface PendingRow {
  id: string;
  seq: number;
  phone_number: string;
  custom_fields: string;
  attempts: number;
  timezone: string | null;
  row: number;
  created_at: string;
  callbacks: number;
  /** RFC 3339, or null for no expiry. */
  expires_at: string | null;
}

/** A settled contact read back from D1 for a result or a callback (d1-sync.ts contactAt). */
export interface SettledRow extends PendingRow {
  status: ContactStatus;
  outcome: string | null;
  last_error: string | null;
  call_id: string | null;
  result: string | null;
  disposition: string | null;
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
  /** The zone the upload gave this contact, or null (calling-window.ts contactZones applies the rest). */
  timezone: string | null;
  /** The window opening this contact was last set to wait for; it waits for it while next_attempt_at equals it. */
  window_opens_at: number | null;
  /** When the contact policy last said this contact's number may be dialled again; it waits for it while next_attempt_at equals it. */
  policy_waits_until: number | null;
  /** 0 when D1 has this row as it is; otherwise bumped on every change, so a flush clears only what it wrote. */
  dirty: number;
  /** The upload row and D1's created_at, carried for the webhook contact view (null in rows read before they were kept). */
  row: number | null;
  created_at: string | null;
  /** The agent's latest result as the API shows it (JSON), and its disposition. */
  result: string | null;
  disposition: string | null;
  /** Callbacks scheduled so far (their dials use no retry). */
  callbacks: number;
  /** A callback the agent asked for during the live call: applied when the call ends (epoch ms). */
  callback_at: number | null;
  /** Not dialled at or after this epoch ms (the upload's expires_at), or null. */
  expires_at: number | null;
}

export type ContactPatch = Partial<
  Omit<
    LiveContact,
    "contact_id" | "seq" | "phone" | "custom_fields" | "dirty" | "timezone" | "window_opens_at" | "policy_waits_until" | "row" | "created_at" | "expires_at"
  >
>;

/** Columns added after the table first shipped; objects created before get them on their next start. */
const ADDED_COLUMNS: [string, string][] = [
  ["timezone", "TEXT"],
  ["window_opens_at", "INTEGER"],
  ["row", "INTEGER"],
  ["created_at", "TEXT"],
  ["result", "TEXT"],
  ["disposition", "TEXT"],
  ["callbacks", "INTEGER NOT NULL DEFAULT 0"],
  ["callback_at", "INTEGER"],
  ["policy_waits_until", "INTEGER"],
  ["settled_at", "INTEGER"],
  ["expires_at", "INTEGER"],
];

/**
 * A settled contact stays here this long after D1 has it: the agent's result for a call that just
 * ended then finds the contact here instead of reading it back from D1.
 */
const SETTLED_KEPT_MS = 120_000;

type Row = Record<string, SqlStorageValue>;

const epochOrNull = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);

/**
 * The contacts this object is working on: pending ones read ahead from D1, live ones, and settled
 * ones until D1 has them. Rows only; counters and the event log move with them in transitions.ts.
 */
export class WorkingContacts {
  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS contacts (
      contact_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, phone TEXT NOT NULL, custom_fields TEXT NOT NULL,
      status TEXT NOT NULL, attempts INTEGER NOT NULL, outcome TEXT, last_error TEXT, call_id TEXT,
      next_attempt_at INTEGER, dirty INTEGER NOT NULL DEFAULT 0, timezone TEXT, window_opens_at INTEGER, row INTEGER, created_at TEXT,
      result TEXT, disposition TEXT, callbacks INTEGER NOT NULL DEFAULT 0, callback_at INTEGER, policy_waits_until INTEGER, settled_at INTEGER, expires_at INTEGER)`);
    const columns = new Set(
      this.sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('contacts')")
        .toArray()
        .map((c) => c.name),
    );
    for (const [name, definition] of ADDED_COLUMNS) if (!columns.has(name)) this.sql.exec(`ALTER TABLE contacts ADD COLUMN ${name} ${definition}`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS contacts_due ON contacts (status, next_attempt_at, seq)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS contacts_dirty ON contacts (dirty)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS contacts_settled ON contacts (settled_at)");
  }

  /** Pending contacts as D1 pages them (d1-sync.ts pendingPage); one already here is left as it is. */
  addPending(rows: PendingRow[]) {
    for (const row of rows) {
      this.sql.exec(
        `INSERT OR IGNORE INTO contacts (contact_id, seq, phone, custom_fields, status, attempts, timezone, row, created_at, callbacks, expires_at)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)`,
        row.id,
        row.seq,
        row.phone_number,
        row.custom_fields,
        row.attempts,
        row.timezone,
        row.row,
        row.created_at,
        row.callbacks,
        epochOrNull(row.expires_at),
      );
    }
  }

  /** A settled contact back in the working set, as D1 has it (clean until it changes); one already here is left as it is. */
  adoptSettled(row: SettledRow, nextAttemptAt: number | null) {
    this.sql.exec(
      `INSERT OR IGNORE INTO contacts (contact_id, seq, phone, custom_fields, status, attempts, outcome, last_error, call_id, next_attempt_at,
         timezone, row, created_at, result, disposition, callbacks, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.id,
      row.seq,
      row.phone_number,
      row.custom_fields,
      row.status,
      row.attempts,
      row.outcome,
      row.last_error,
      row.call_id,
      nextAttemptAt,
      row.timezone,
      row.row,
      row.created_at,
      row.result,
      row.disposition,
      row.callbacks,
      epochOrNull(row.expires_at),
    );
  }

  get(contactId: string): LiveContact | null {
    return (this.sql.exec<Row>("SELECT * FROM contacts WHERE contact_id = ?", contactId).toArray()[0] as LiveContact | undefined) ?? null;
  }

  /**
   * Pending contacts that may be dialled now: retries that are due first, then fresh ones in CSV order.
   * A contact whose expiry has come is due too, whatever it waits for, so the expiry stage ends it then.
   */
  due(now: number, limit: number): LiveContact[] {
    return this.sql
      .exec<Row>(
        `SELECT * FROM contacts WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?1 OR expires_at <= ?1)
         ORDER BY next_attempt_at IS NULL, seq LIMIT ?2`,
        now,
        limit,
      )
      .toArray() as unknown as LiveContact[];
  }

  countFreshPending(): number {
    return Number(this.sql.exec<Row>("SELECT count(*) AS n FROM contacts WHERE status = 'pending' AND next_attempt_at IS NULL").one().n);
  }

  /** When the next waiting contact falls due: its retry, callback or window, or its expiry if that comes first. */
  nextRetryAt(): number | null {
    const row = this.sql
      .exec<Row>(
        "SELECT min(min(next_attempt_at, coalesce(expires_at, next_attempt_at))) AS at FROM contacts WHERE status = 'pending' AND next_attempt_at IS NOT NULL",
      )
      .one();
    return row.at === null ? null : Number(row.at);
  }

  /** Pending contacts wait for their calling window to open at `opensAt`; D1 shows it as their next_attempt_at. */
  waitForWindow(contactIds: string[], opensAt: number) {
    this.sql.exec(
      `UPDATE contacts SET next_attempt_at = ?1, window_opens_at = ?1, dirty = dirty + 1
       WHERE status = 'pending' AND contact_id IN (SELECT value FROM json_each(?2))`,
      opensAt,
      JSON.stringify(contactIds),
    );
  }

  /** Pending contacts still waiting for a window after `now`, and the earliest opening among them. */
  windowWaits(now: number): { waiting: number; nextOpening: number | null } {
    const row = this.sql
      .exec<Row>(
        `SELECT count(*) AS n, min(next_attempt_at) AS at FROM contacts
         WHERE status = 'pending' AND next_attempt_at > ? AND next_attempt_at = window_opens_at`,
        now,
      )
      .one();
    return { waiting: Number(row.n), nextOpening: row.at === null ? null : Number(row.at) };
  }

  /** A pending contact waits until the account's contact policy allows its number again; D1 shows it as its next_attempt_at. */
  waitForPolicy(contactId: string, until: number) {
    this.sql.exec(
      "UPDATE contacts SET next_attempt_at = ?1, policy_waits_until = ?1, dirty = dirty + 1 WHERE status = 'pending' AND contact_id = ?2",
      Math.floor(until),
      contactId,
    );
  }

  /** Pending contacts still waiting for the contact policy after `now`, and the earliest of them. */
  policyWaits(now: number): { waiting: number; nextEligible: number | null } {
    const row = this.sql
      .exec<Row>(
        `SELECT count(*) AS n, min(next_attempt_at) AS at FROM contacts
         WHERE status = 'pending' AND next_attempt_at > ? AND next_attempt_at = policy_waits_until`,
        now,
      )
      .one();
    return { waiting: Number(row.n), nextEligible: row.at === null ? null : Number(row.at) };
  }

  /** Pending contacts waiting for a callback after `now`, and the earliest due among them. */
  callbackWaits(now: number): { waiting: number; nextDue: number | null } {
    const row = this.sql
      .exec<Row>(
        "SELECT count(*) AS n, min(next_attempt_at) AS at FROM contacts WHERE status = 'pending' AND outcome = 'callback' AND next_attempt_at > ?",
        now,
      )
      .one();
    return { waiting: Number(row.n), nextDue: row.at === null ? null : Number(row.at) };
  }

  /** Writes the contact as given and marks it for the next D1 flush. */
  write(next: LiveContact) {
    this.sql.exec(
      `UPDATE contacts SET status = ?, attempts = ?, outcome = ?, last_error = ?, call_id = ?, next_attempt_at = ?, result = ?, disposition = ?,
         callbacks = ?, callback_at = ?, dirty = dirty + 1, settled_at = NULL
       WHERE contact_id = ?`,
      next.status,
      next.attempts,
      next.outcome,
      next.last_error,
      next.call_id,
      next.next_attempt_at,
      next.result,
      next.disposition,
      next.callbacks,
      next.callback_at,
      next.contact_id,
    );
  }

  /** Every pending contact here becomes cancelled; D1 is told by the stop itself, so these need no flush. */
  cancelPending(): LiveContact[] {
    return this.sql
      .exec<Row>("UPDATE contacts SET status = 'cancelled', next_attempt_at = NULL, dirty = 0 WHERE status = 'pending' RETURNING *")
      .toArray() as unknown as LiveContact[];
  }

  dirty(limit: number): LiveContact[] {
    return this.sql.exec<Row>("SELECT * FROM contacts WHERE dirty > 0 LIMIT ?", limit).toArray() as unknown as LiveContact[];
  }

  /**
   * After a flush: rows unchanged since are clean again; settled ones stay a short while (a result
   * for a call that just ended reads them here), then leave the working set (D1 has them).
   */
  markFlushed(rows: { id: string; version: number }[], now = Date.now()) {
    for (const { id, version } of rows) {
      this.sql.exec(
        "UPDATE contacts SET dirty = 0, settled_at = CASE WHEN status IN ('completed', 'failed', 'cancelled') THEN ? END WHERE contact_id = ? AND dirty = ?",
        now,
        id,
        version,
      );
    }
    this.sql.exec("DELETE FROM contacts WHERE settled_at <= ? AND dirty = 0", now - SETTLED_KEPT_MS);
  }
}
