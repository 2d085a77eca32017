/** How one dial ended, as the failure breaker judges it (dial/failure-breaker.ts). */
export interface DialEnding {
  /** The call's outcome (contact-machine.ts CallOutcome). */
  outcome: string;
  lastError: string | null;
}

/** The breaker never judges more dials than this (failure_window's upper bound); older endings are dropped. */
const KEPT_ENDINGS = 500;

/** How the campaign's latest dials ended, kept on disk so a restart does not forget them (the failure breaker reads them). */
export class DialEndings {
  /** Bumped by every change, so a reader can tell nothing new has ended since it last looked (memory only). */
  private changes = 0;

  constructor(private readonly sql: SqlStorage) {}

  get version(): number {
    return this.changes;
  }

  createSchema() {
    this.sql.exec("CREATE TABLE IF NOT EXISTS dial_endings (id INTEGER PRIMARY KEY AUTOINCREMENT, outcome TEXT NOT NULL, last_error TEXT)");
  }

  record(ending: DialEnding) {
    const { id } = this.sql
      .exec<{ id: number }>("INSERT INTO dial_endings (outcome, last_error) VALUES (?, ?) RETURNING id", ending.outcome, ending.lastError)
      .one();
    this.sql.exec("DELETE FROM dial_endings WHERE id <= ?", id - KEPT_ENDINGS);
    this.changes++;
  }

  /** The latest `count` endings, oldest first. */
  latest(count: number): DialEnding[] {
    return this.sql
      .exec<{ outcome: string; last_error: string | null }>("SELECT outcome, last_error FROM dial_endings ORDER BY id DESC LIMIT ?", count)
      .toArray()
      .reverse()
      .map((row) => ({ outcome: row.outcome, lastError: row.last_error }));
  }

  /** A resume starts a fresh window: the dials before the pause are not held against it. */
  clear() {
    this.sql.exec("DELETE FROM dial_endings");
    this.changes++;
  }
}
