type AttemptState = "dialing" | "live" | "unknown" | "ended";

export interface Attempt {
  attempt_id: string;
  contact_id: string;
  lease_id: string;
  phone: string;
  created_at: number;
  call_id: string | null;
  /** The carrier's own call id where it differs from call_id (Plivo/Vobiz CallUUID), for lookups. */
  carrier_ref: string | null;
  /** The carrier's answering-machine verdict when it came before the final event (Plivo's machine-detection request). */
  answered_by: string | null;
  /** Consecutive status lookups that failed; bounded before the reconciler looks the call up by number instead. */
  lookup_errors: number;
  rank: number;
  state: AttemptState;
  last_event_at: number;
  outcome: string | null;
  talk_seconds: number;
  released: number;
}

type Row = Record<string, SqlStorageValue>;

const ADDED_COLUMNS: [string, string][] = [
  ["carrier_ref", "TEXT"],
  ["answered_by", "TEXT"],
  ["lookup_errors", "INTEGER NOT NULL DEFAULT 0"],
];

/** One record per dial, written before the carrier hears of it, and the origination log the pacing view reads. */
export class Attempts {
  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS attempts (
      attempt_id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, lease_id TEXT NOT NULL, phone TEXT NOT NULL,
      created_at INTEGER NOT NULL, call_id TEXT, carrier_ref TEXT, rank INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,
      last_event_at INTEGER NOT NULL, outcome TEXT, talk_seconds INTEGER NOT NULL DEFAULT 0, released INTEGER NOT NULL DEFAULT 0,
      answered_by TEXT, lookup_errors INTEGER NOT NULL DEFAULT 0)`);
    // Objects created before these columns existed get them on their next start.
    const columns = new Set(
      this.sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('attempts')")
        .toArray()
        .map((c) => c.name),
    );
    for (const [name, definition] of ADDED_COLUMNS) if (!columns.has(name)) this.sql.exec(`ALTER TABLE attempts ADD COLUMN ${name} ${definition}`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS attempts_state ON attempts (state)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS attempts_release ON attempts (state, released)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS originations (at INTEGER NOT NULL)");
  }

  create(attempt: Attempt) {
    this.sql.exec(
      `INSERT INTO attempts (attempt_id, contact_id, lease_id, phone, created_at, call_id, carrier_ref, rank, state, last_event_at)
       VALUES (?, ?, ?, ?, ?, NULL, NULL, 0, ?, ?)`,
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

  get(attemptId: string): Attempt | null {
    return (this.sql.exec<Row>("SELECT * FROM attempts WHERE attempt_id = ?", attemptId).toArray()[0] as Attempt | undefined) ?? null;
  }

  patch(attemptId: string, patch: Partial<Attempt>) {
    const entries = Object.entries(patch);
    if (entries.length === 0) return;
    this.sql.exec(
      `UPDATE attempts SET ${entries.map(([k]) => `${k} = ?`).join(", ")} WHERE attempt_id = ?`,
      ...entries.map(([, v]) => v as SqlStorageValue),
      attemptId,
    );
  }

  open(): Attempt[] {
    return this.sql.exec<Row>("SELECT * FROM attempts WHERE state != 'ended'").toArray() as unknown as Attempt[];
  }

  inFlight(): number {
    return Number(this.sql.exec<Row>("SELECT count(*) AS n FROM attempts WHERE state != 'ended'").one().n);
  }

  total(): number {
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
}
