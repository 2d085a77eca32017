/** How long a finished request's answer is replayed for its key (SPEC "Safe operations"). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** A request still marked running after this long died with its Worker; its key is free again. */
export const ABANDONED_AFTER_MS = 10 * 60_000;
/** Keys kept per account; past it the oldest are dropped first. */
const MAX_KEPT_KEYS = 10_000;
/** A larger answer is not kept (its key is released), which bounds the table at MAX_KEPT_KEYS × this. */
export const MAX_KEPT_BODY_BYTES = 64 * 1024;

/** A finished request's answer, as replayed: status, the headers that matter, the body's bytes. */
export interface KeptResponse {
  status: number;
  headers: Record<string, string>;
  body: ArrayBuffer;
}

export type IdempotencyClaim =
  | { outcome: "run"; claim: string }
  | { outcome: "replay"; response: KeptResponse }
  | { outcome: "in_progress" }
  | { outcome: "mismatch" };

interface KeyRow extends Record<string, SqlStorageValue> {
  fingerprint: string;
  state: "running" | "done";
  status: number | null;
  headers: string | null;
  body: ArrayBuffer | null;
}

/**
 * The account's Idempotency-Key table inside its AccountDO. Each method reads and writes with no
 * await between, so of two concurrent requests with one key exactly one is told to run.
 */
export class IdempotencyStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly limits: { maxKeys: number } = { maxKeys: MAX_KEPT_KEYS },
  ) {}

  createSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS idempotency_keys (
      key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL, claim TEXT NOT NULL,
      status INTEGER, headers TEXT, body BLOB, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_at)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS idempotency_keys_age ON idempotency_keys (created_at)");
  }

  /** Before the handler: run it (the key is now held), replay the kept answer, or refuse. */
  claim(key: string, fingerprint: string, claim: string, now: number): IdempotencyClaim {
    // Expired rows go on write, so the account object needs no timer of its own for them.
    this.sql.exec("DELETE FROM idempotency_keys WHERE expires_at <= ?", now);
    const row = this.sql.exec<KeyRow>("SELECT fingerprint, state, status, headers, body FROM idempotency_keys WHERE key = ?", key).toArray()[0];
    if (row) {
      if (row.fingerprint !== fingerprint) return { outcome: "mismatch" };
      if (row.state === "running") return { outcome: "in_progress" };
      return {
        outcome: "replay",
        response: { status: Number(row.status), headers: JSON.parse(row.headers ?? "{}") as KeptResponse["headers"], body: row.body ?? new ArrayBuffer(0) },
      };
    }
    this.sql.exec(
      "INSERT INTO idempotency_keys (key, fingerprint, state, claim, created_at, expires_at) VALUES (?, ?, 'running', ?, ?, ?)",
      key,
      fingerprint,
      claim,
      now,
      now + ABANDONED_AFTER_MS,
    );
    this.dropOldest(key);
    return { outcome: "run", claim };
  }

  /** After the handler: keeps its answer for 24 h, unless the key was meanwhile taken over or dropped. */
  keep(key: string, claim: string, response: KeptResponse, now: number) {
    if (response.body.byteLength > MAX_KEPT_BODY_BYTES) return this.release(key, claim);
    this.sql.exec(
      "UPDATE idempotency_keys SET state = 'done', status = ?, headers = ?, body = ?, expires_at = ? WHERE key = ? AND claim = ? AND state = 'running'",
      response.status,
      JSON.stringify(response.headers),
      response.body,
      now + IDEMPOTENCY_TTL_MS,
      key,
      claim,
    );
  }

  /** After a handler whose answer is not kept (a 5xx, too large): the next request with the key runs. */
  release(key: string, claim: string) {
    this.sql.exec("DELETE FROM idempotency_keys WHERE key = ? AND claim = ? AND state = 'running'", key, claim);
  }

  /** For tests and operators: how many keys the account holds. */
  size(): number {
    return Number(this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM idempotency_keys").one().n);
  }

  private dropOldest(justAdded: string) {
    const excess = this.size() - this.limits.maxKeys;
    if (excess <= 0) return;
    this.sql.exec(
      "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE key != ? ORDER BY created_at, rowid LIMIT ?)",
      justAdded,
      excess,
    );
  }
}
