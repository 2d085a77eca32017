/** A nonce is remembered this long: longer than any carrier's validity window for a signed request. */
const NONCE_TTL_MS = 24 * 3_600_000;

export type CarrierRequestKind = "callback" | "answer";

type Row = Record<string, SqlStorageValue>;

/** What the object knows of the requests carriers sent it: nonces already used, and how many came. */
export class CarrierRequests {
  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec("CREATE TABLE IF NOT EXISTS seen_nonces (nonce TEXT PRIMARY KEY, seen_at INTEGER NOT NULL)");
    this.sql.exec("CREATE INDEX IF NOT EXISTS seen_nonces_age ON seen_nonces (seen_at)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS carrier_requests (kind TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  }

  /** Records a nonce; false when it was seen within the last 24 h (a replay). */
  rememberNonce(nonce: string, now: number): boolean {
    this.sql.exec("DELETE FROM seen_nonces WHERE seen_at < ?", now - NONCE_TTL_MS);
    return (
      this.sql.exec("INSERT INTO seen_nonces (nonce, seen_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING RETURNING nonce", nonce, now).toArray().length > 0
    );
  }

  count(kind: CarrierRequestKind) {
    this.sql.exec("INSERT INTO carrier_requests (kind, n) VALUES (?, 1) ON CONFLICT (kind) DO UPDATE SET n = n + 1", kind);
  }

  counts(): Record<CarrierRequestKind, number> {
    const out: Record<CarrierRequestKind, number> = { callback: 0, answer: 0 };
    for (const row of this.sql.exec<Row>("SELECT kind, n FROM carrier_requests")) out[row.kind as CarrierRequestKind] = Number(row.n);
    return out;
  }
}
