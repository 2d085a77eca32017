/** Where a reservation stands with the account's contact ledger: what the ledger should hold, and what it last confirmed. */
type LedgerState = "reserved" | "counted" | "ended" | "released";

export interface LedgerMark {
  reservation_id: string;
  contact_id: string;
  phone: string;
  shard: number;
  at: number;
  attempt_id: string | null;
  want: LedgerState;
  /** What the ledger answered last; `none` while the first request is out (its answer may be lost). */
  told: LedgerState | "none";
  voicemail: number;
}

/**
 * This campaign's side of its reservations in the contact ledger, written before each request
 * leaves, so a crash at any point leaves a row saying what the ledger may hold. Rows go once the
 * ledger has confirmed their final state (ended or released).
 */
export class LedgerMarks {
  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS ledger_marks (
      reservation_id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, phone TEXT NOT NULL, shard INTEGER NOT NULL, at INTEGER NOT NULL,
      attempt_id TEXT, want TEXT NOT NULL, told TEXT NOT NULL, voicemail INTEGER NOT NULL DEFAULT 0)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS ledger_marks_pending ON ledger_marks (want, told)");
  }

  /** Reservations about to be asked for. */
  ask(rows: { reservation_id: string; contact_id: string; phone: string; shard: number; at: number }[]) {
    for (const r of rows) {
      this.sql.exec(
        "INSERT INTO ledger_marks (reservation_id, contact_id, phone, shard, at, want, told) VALUES (?, ?, ?, ?, ?, 'reserved', 'none')",
        r.reservation_id,
        r.contact_id,
        r.phone,
        r.shard,
        r.at,
      );
    }
  }

  /** The ledger answered: granted ones are held there; refused ones were never written. */
  answered(granted: string[], refused: string[]) {
    for (const id of granted) this.sql.exec("UPDATE ledger_marks SET told = 'reserved' WHERE reservation_id = ? AND told = 'none'", id);
    for (const id of refused) this.sql.exec("DELETE FROM ledger_marks WHERE reservation_id = ?", id);
  }

  /** The contact's granted reservation now belongs to this attempt (same write as the attempt record). */
  attach(contactId: string, attemptId: string) {
    this.sql.exec("UPDATE ledger_marks SET attempt_id = ? WHERE contact_id = ? AND attempt_id IS NULL AND want = 'reserved'", attemptId, contactId);
  }

  /**
   * Brings every mark in line with its attempt: a call the carrier took counts, one that ended
   * gives the number back, one it never took is released; a reservation that no attempt took
   * (not dialled this tick, or left by a crash) is released.
   */
  capture() {
    this.sql.exec(
      `UPDATE ledger_marks SET
         want = CASE WHEN a.state = 'ended' AND a.call_id IS NULL THEN 'released'
                     WHEN a.state = 'ended' THEN 'ended'
                     WHEN a.call_id IS NOT NULL THEN 'counted' ELSE ledger_marks.want END,
         voicemail = CASE WHEN a.outcome = 'voicemail' THEN 1 ELSE 0 END
       FROM attempts AS a WHERE a.attempt_id = ledger_marks.attempt_id AND ledger_marks.want IN ('reserved', 'counted')`,
    );
    this.sql.exec("UPDATE ledger_marks SET want = 'released' WHERE attempt_id IS NULL AND want = 'reserved'");
  }

  /** Changes the ledger has not confirmed yet. */
  unsent(): LedgerMark[] {
    return this.sql.exec("SELECT * FROM ledger_marks WHERE want != told AND want != 'reserved'").toArray() as unknown as LedgerMark[];
  }

  /** The ledger took these changes; marks whose final state it has are done. */
  confirmed(sent: { reservation_id: string; want: LedgerState }[]) {
    for (const s of sent) this.sql.exec("UPDATE ledger_marks SET told = ? WHERE reservation_id = ? AND want = ?", s.want, s.reservation_id, s.want);
    this.sql.exec("DELETE FROM ledger_marks WHERE told IN ('ended', 'released')");
  }

  /** Marks whose number the ledger may still hold for a live call: for inspection and tests. */
  count(): number {
    return Number(this.sql.exec("SELECT count(*) AS n FROM ledger_marks").one().n);
  }
}
