export type TimerName = "dispatch" | "stale" | "scheduled_start" | "flush";

type Row = Record<string, SqlStorageValue>;

/** Named timers as rows; the object's one alarm is always armed at the earliest (see alarm-clock.ts). */
export class Timers {
  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec("CREATE TABLE IF NOT EXISTS timers (name TEXT PRIMARY KEY, due_at INTEGER NOT NULL)");
  }

  set(name: TimerName, dueAt: number) {
    this.sql.exec("INSERT OR REPLACE INTO timers (name, due_at) VALUES (?, ?)", name, Math.floor(dueAt));
  }

  /** Sets the timer unless it is already due sooner. */
  setNoLater(name: TimerName, dueAt: number) {
    this.sql.exec(
      "INSERT INTO timers (name, due_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET due_at = min(due_at, excluded.due_at)",
      name,
      Math.floor(dueAt),
    );
  }

  clear(name: TimerName) {
    this.sql.exec("DELETE FROM timers WHERE name = ?", name);
  }

  takeDue(now: number): TimerName[] {
    return this.sql
      .exec<{ name: TimerName }>("DELETE FROM timers WHERE due_at <= ? RETURNING name", now)
      .toArray()
      .map((r) => r.name);
  }

  earliest(): number | null {
    const row = this.sql.exec<Row>("SELECT min(due_at) AS at FROM timers").one();
    return row.at === null ? null : Number(row.at);
  }

  /** When the named timer is due, or null when it is not set. */
  dueAt(name: TimerName): number | null {
    const row = this.sql.exec<Row>("SELECT due_at FROM timers WHERE name = ?", name).toArray()[0];
    return row ? Number(row.due_at) : null;
  }
}
