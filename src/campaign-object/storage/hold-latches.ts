/** A held call lasts seconds; a latch is kept a day, like a nonce, then dropped. */
const LATCH_TTL_MS = 24 * 3_600_000;

/** Latches kept as nonces in seen_nonces before this table existed, under these prefixes. */
const RELEASED_NONCE = "hold-released:";
const REFUSED_NONCE = "hold-transfer-failed:";

type Row = Record<string, SqlStorageValue>;

/**
 * One row per Plivo-family call held for its machine verdict (carrier-callbacks.ts): whichever of
 * the verdict's transfer and the hold's own redirect comes first releases the call, once; and
 * whether the carrier refused that transfer, so the redirect brings the agent after all.
 */
export class HoldLatches {
  constructor(private readonly sql: SqlStorage) {}

  /** Needs seen_nonces (CarrierRequests) to exist: latches an older version kept there move here once. */
  createSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS hold_latches (
      attempt_id TEXT PRIMARY KEY, released_at INTEGER NOT NULL, transfer_refused INTEGER NOT NULL DEFAULT 0)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS hold_latches_age ON hold_latches (released_at)");
    const legacy = `SELECT nonce, seen_at FROM seen_nonces WHERE substr(nonce, 1, ${RELEASED_NONCE.length}) = ?1 OR substr(nonce, 1, ${REFUSED_NONCE.length}) = ?2`;
    const rows = this.sql.exec<Row>(legacy, RELEASED_NONCE, REFUSED_NONCE).toArray();
    if (rows.length === 0) return;
    for (const { nonce, seen_at } of rows) {
      const key = String(nonce);
      const refused = key.startsWith(REFUSED_NONCE);
      const attemptId = key.slice(refused ? REFUSED_NONCE.length : RELEASED_NONCE.length);
      this.sql.exec(
        `INSERT INTO hold_latches (attempt_id, released_at, transfer_refused) VALUES (?1, ?2, ?3)
         ON CONFLICT (attempt_id) DO UPDATE SET transfer_refused = max(transfer_refused, excluded.transfer_refused)`,
        attemptId,
        Number(seen_at),
        refused ? 1 : 0,
      );
      this.sql.exec("DELETE FROM seen_nonces WHERE nonce = ?", key);
    }
  }

  /** True for the first caller only: the one that may move the held call. */
  release(attemptId: string, now: number): boolean {
    this.sql.exec("DELETE FROM hold_latches WHERE released_at < ?", now - LATCH_TTL_MS);
    return (
      this.sql
        .exec("INSERT INTO hold_latches (attempt_id, released_at) VALUES (?, ?) ON CONFLICT (attempt_id) DO NOTHING RETURNING attempt_id", attemptId, now)
        .toArray().length > 0
    );
  }

  /** The carrier refused the verdict's transfer: the call is still held, and its redirect must bring the agent. */
  markTransferRefused(attemptId: string) {
    this.sql.exec("UPDATE hold_latches SET transfer_refused = 1 WHERE attempt_id = ?", attemptId);
  }

  transferRefused(attemptId: string): boolean {
    return this.sql.exec<Row>("SELECT 1 FROM hold_latches WHERE attempt_id = ? AND transfer_refused = 1", attemptId).toArray().length > 0;
  }
}
