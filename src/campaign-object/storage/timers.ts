export type TimerName = "dispatch" | "stale" | "scheduled_start" | "flush";

type Row = Record<string, SqlStorageValue>;

/**
 * Named timers as rows; the object's one alarm is always armed at the earliest (see alarm-clock.ts).
 * The few rows are mirrored in memory, read once per instance: every call event and result asks
 * for a timer no later than some time, and the alarm asks for the earliest, far more often than a
 * row changes. Only this class writes the table, and a failed storage write resets the object
 * (memory with it), so the mirror cannot drift from the rows.
 */
export class Timers {
  private mirror: Map<TimerName, number> | null = null;

  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec("CREATE TABLE IF NOT EXISTS timers (name TEXT PRIMARY KEY, due_at INTEGER NOT NULL)");
    // The table may have been wiped (a deleted campaign): read it again on next use.
    this.mirror = null;
  }

  set(name: TimerName, dueAt: number) {
    const at = Math.floor(dueAt);
    this.sql.exec("INSERT OR REPLACE INTO timers (name, due_at) VALUES (?, ?)", name, at);
    this.rows().set(name, at);
  }

  /** Sets the timer unless it is already due as soon or sooner. */
  setNoLater(name: TimerName, dueAt: number) {
    const at = Math.floor(dueAt);
    const current = this.rows().get(name);
    if (current !== undefined && current <= at) return;
    this.set(name, at);
  }

  clear(name: TimerName) {
    if (!this.rows().delete(name)) return;
    this.sql.exec("DELETE FROM timers WHERE name = ?", name);
  }

  takeDue(now: number): TimerName[] {
    const rows = this.rows();
    if (![...rows.values()].some((at) => at <= now)) return [];
    const names = this.sql
      .exec<{ name: TimerName }>("DELETE FROM timers WHERE due_at <= ? RETURNING name", now)
      .toArray()
      .map((r) => r.name);
    for (const name of names) rows.delete(name);
    return names;
  }

  earliest(): number | null {
    let earliest: number | null = null;
    for (const at of this.rows().values()) if (earliest === null || at < earliest) earliest = at;
    return earliest;
  }

  /** When the named timer is due, or null when it is not set. */
  dueAt(name: TimerName): number | null {
    return this.rows().get(name) ?? null;
  }

  private rows(): Map<TimerName, number> {
    this.mirror ??= new Map(
      this.sql
        .exec<Row>("SELECT name, due_at FROM timers")
        .toArray()
        .map((r) => [r.name as TimerName, Number(r.due_at)]),
    );
    return this.mirror;
  }
}
