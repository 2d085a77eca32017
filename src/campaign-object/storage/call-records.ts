import type { LiveContact } from "./working-contacts";

/** One dial as results find it: which contact and which of its attempts, and whether a result of it scheduled a callback. */
export interface CallRecord {
  call_id: string;
  contact_id: string;
  seq: number;
  /** The contact's attempt number this dial was (1 for its first dial). */
  attempt: number;
  dialled_at: number;
  callback_scheduled: number;
}

type Row = Record<string, SqlStorageValue>;

const CALL_COLUMNS = ["call_id", "contact_id", "seq", "attempt", "dialled_at", "callback_scheduled"] as const;

/**
 * The object's record of its dials by `call_…` id (kept while a result may still come for them) and
 * the count of contacts by the disposition of their latest result (SPEC `stats.dispositions`).
 */
export class CallRecords {
  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS calls (
      call_id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, seq INTEGER NOT NULL, attempt INTEGER NOT NULL, dialled_at INTEGER NOT NULL,
      callback_scheduled INTEGER NOT NULL DEFAULT 0)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS calls_age ON calls (dialled_at)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS disposition_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  }

  record(call: Omit<CallRecord, "callback_scheduled">) {
    this.sql.exec(
      "INSERT OR REPLACE INTO calls (call_id, contact_id, seq, attempt, dialled_at) VALUES (?, ?, ?, ?, ?)",
      call.call_id,
      call.contact_id,
      call.seq,
      call.attempt,
      call.dialled_at,
    );
  }

  /**
   * The call with its contact when the contact is in the working set, in one statement: a result
   * reads both first, and each statement costs the campaign's thread.
   */
  getWithContact(callId: string): { call: CallRecord; live: LiveContact | null } | null {
    const row = this.sql
      .exec<Row>(
        `SELECT ${CALL_COLUMNS.map((c) => `k.${c} AS k_${c}`).join(", ")}, c.* FROM calls k LEFT JOIN contacts c ON c.contact_id = k.contact_id WHERE k.call_id = ?`,
        callId,
      )
      .toArray()[0];
    if (!row) return null;
    const call = Object.fromEntries(CALL_COLUMNS.map((c) => [c, row[`k_${c}`]])) as unknown as CallRecord;
    if (row.contact_id === null) return { call, live: null };
    for (const c of CALL_COLUMNS) delete row[`k_${c}`];
    return { call, live: row as unknown as LiveContact };
  }

  markCallbackScheduled(callId: string) {
    this.sql.exec("UPDATE calls SET callback_scheduled = 1 WHERE call_id = ?", callId);
  }

  /** Dials older than `before` no longer take results. */
  prune(before: number) {
    this.sql.exec("DELETE FROM calls WHERE dialled_at < ?", before);
  }

  initDispositions(counts: Record<string, number>) {
    this.sql.exec("DELETE FROM disposition_counts");
    for (const [name, n] of Object.entries(counts)) this.sql.exec("INSERT INTO disposition_counts (name, n) VALUES (?, ?)", name, n);
  }

  /** A contact's latest result changed disposition (from null: its first result). */
  moveDisposition(from: string | null, to: string) {
    if (from === to) return;
    if (from !== null) this.sql.exec("UPDATE disposition_counts SET n = n - 1 WHERE name = ?", from);
    this.sql.exec("INSERT INTO disposition_counts (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1", to);
  }

  dispositions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const row of this.sql.exec<{ name: string; n: number }>("SELECT name, n FROM disposition_counts WHERE n > 0 ORDER BY name")) out[row.name] = row.n;
    return out;
  }
}
