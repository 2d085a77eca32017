import type { ContactStatus } from "../../db/schema";

/** Contact transitions kept for SSE/WebSocket replay: the last 10,000, at most 24 h old. */
const EVENT_LOG_LIMIT = 10_000;
const EVENT_LOG_MAX_AGE_MS = 24 * 3_600_000;

type Row = Record<string, SqlStorageValue>;

/** One logged contact transition, as `event: contact` sends it. */
interface ContactEvent {
  id: number;
  kind: "contact";
  data: { contact_id: string; phone_number: string; status: ContactStatus; attempt: number; outcome: string | null; at: string };
}

/** One stored call result, as `event: result` sends it, in the same id sequence as the transitions. */
export interface ResultEvent {
  id: number;
  kind: "result";
  data: { contact_id: string; call_id: string; disposition: string; callback_at: string | null; opt_out: boolean; at: string };
}

export type LogEvent = ContactEvent | ResultEvent;

/** The contact transitions, numbered, that live streams replay from. */
export class EventLog {
  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS events (
      id INTEGER PRIMARY KEY AUTOINCREMENT, contact_id TEXT NOT NULL, phone TEXT NOT NULL, status TEXT NOT NULL,
      attempt INTEGER NOT NULL, outcome TEXT, at TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'contact', data TEXT)`);
    // Logs from before result events get the columns on their next start; their rows are all transitions.
    const has = this.sql.exec("SELECT 1 FROM pragma_table_info('events') WHERE name = 'kind'").toArray().length > 0;
    if (!has) {
      this.sql.exec("ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT 'contact'");
      this.sql.exec("ALTER TABLE events ADD COLUMN data TEXT");
    }
  }

  /** A stored call result, in the same sequence as the transitions so one Last-Event-ID resumes both. */
  appendResult(data: ResultEvent["data"]) {
    this.sql.exec(
      "INSERT INTO events (contact_id, phone, status, attempt, outcome, at, kind, data) VALUES (?, '', '', 0, NULL, ?, 'result', ?)",
      data.contact_id,
      data.at,
      JSON.stringify(data),
    );
  }

  append(contact: { contact_id: string; phone: string; status: ContactStatus; outcome: string | null }, attempt: number, at: string) {
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
  prune(now: number) {
    this.sql.exec(
      "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ? OR at < ?",
      EVENT_LOG_LIMIT,
      new Date(now - EVENT_LOG_MAX_AGE_MS).toISOString(),
    );
  }

  after(after: number, limit: number): LogEvent[] {
    return this.sql
      .exec<Row>("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", after, limit)
      .toArray()
      .map((r): LogEvent => {
        const id = Number(r.id);
        if (r.kind === "result") return { id, kind: "result", data: JSON.parse(String(r.data)) as ResultEvent["data"] };
        return {
          id,
          kind: "contact",
          data: {
            contact_id: String(r.contact_id),
            phone_number: String(r.phone),
            status: r.status as ContactStatus,
            attempt: Number(r.attempt),
            outcome: (r.outcome as string | null) ?? null,
            at: String(r.at),
          },
        };
      });
  }

  lastId(): number {
    return Number(this.sql.exec<Row>("SELECT coalesce(max(id), 0) AS id FROM events").one().id);
  }
}
