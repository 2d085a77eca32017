import type { DeliveryOutcome } from "./schedule";

/** A delivery leased for sending: its message and where it goes. */
export interface LeasedDelivery {
  message_id: string;
  endpoint_id: string;
  attempts: number;
  body: string;
}

/** One answered attempt, waiting to be written with the rest of its pass. */
export interface RecordedAttempt {
  delivery: LeasedDelivery;
  outcome: DeliveryOutcome;
  /** When to try again; null once delivered. */
  nextAttemptAt: number | null;
  at: number;
}

/** A delivery whose state D1 has not seen yet. */
export interface DirtyDelivery {
  message_id: string;
  endpoint_id: string;
  type: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
  dirty: number;
}

/** What this object saw of an endpoint's health since it last told D1. */
export interface DirtyHealth {
  endpoint_id: string;
  last_success_at: number | null;
  failing_since: number | null;
  last_error: string | null;
  dirty: number;
}

/** A message with its deliveries as they stand, for moving it to another object's outbox. */
export interface HandedOverMessage {
  id: string;
  type: string;
  body: string;
  created_at: number;
  routed: number;
  deliveries: (Omit<DirtyDelivery, "message_id" | "type" | "created_at"> & { due_at: number | null })[];
}

type Row = Record<string, SqlStorageValue>;

const HEALTH_WRITE_MS = 1_000;

/**
 * The outbox's tables in its host object's SQLite. Every method is synchronous, so a host writes a
 * message in the same storage transaction as the change it reports.
 */
export class OutboxStore {
  /** Endpoints whose health row says healthy, and when that was written. */
  private readonly healthyWrittenAt = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.sql.exec("CREATE TABLE IF NOT EXISTS outbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox_messages (
      id TEXT PRIMARY KEY, type TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL, routed INTEGER NOT NULL)`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS outbox_unrouted ON outbox_messages (id) WHERE routed = 0");
    // due_at is when to send next (a lease pushes it out while a request is in flight); next_attempt_at is what the log shows.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox_deliveries (
      message_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      due_at INTEGER, next_attempt_at INTEGER, last_status_code INTEGER, last_error TEXT,
      updated_at INTEGER NOT NULL, dirty INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (message_id, endpoint_id))`);
    this.sql.exec("CREATE INDEX IF NOT EXISTS outbox_due ON outbox_deliveries (due_at) WHERE status = 'pending'");
    this.sql.exec("CREATE INDEX IF NOT EXISTS outbox_dirty ON outbox_deliveries (dirty) WHERE dirty > 0");
    this.sql.exec("CREATE INDEX IF NOT EXISTS outbox_by_endpoint ON outbox_deliveries (endpoint_id, status)");
    this.sql.exec(`CREATE TABLE IF NOT EXISTS outbox_health (
      endpoint_id TEXT PRIMARY KEY, last_success_at INTEGER, failing_since INTEGER, last_error TEXT, dirty INTEGER NOT NULL DEFAULT 0)`);
  }

  accountId(): string | null {
    return (this.sql.exec<Row>("SELECT value FROM outbox_meta WHERE key = 'account_id'").toArray()[0]?.value as string | undefined) ?? null;
  }

  setAccountId(accountId: string) {
    if (this.accountId() !== accountId) this.sql.exec("INSERT OR REPLACE INTO outbox_meta (key, value) VALUES ('account_id', ?)", accountId);
  }

  /** `endpointIds` null: the subscribers are not known yet, a later pass routes the message. */
  insertMessage(id: string, type: string, body: string, createdAt: number, endpointIds: string[] | null) {
    this.sql.exec("INSERT INTO outbox_messages (id, type, body, created_at, routed) VALUES (?, ?, ?, ?, ?)", id, type, body, createdAt, endpointIds ? 1 : 0);
    if (endpointIds) this.insertDeliveries(id, endpointIds, createdAt);
  }

  unrouted(limit: number): { id: string; type: string }[] {
    return this.sql.exec<{ id: string; type: string }>("SELECT id, type FROM outbox_messages WHERE routed = 0 ORDER BY id LIMIT ?", limit).toArray();
  }

  /** Gives a message its deliveries; a message no endpoint wants is dropped. */
  route(messageId: string, endpointIds: string[], now: number) {
    if (endpointIds.length === 0) {
      this.sql.exec("DELETE FROM outbox_messages WHERE id = ?", messageId);
      return;
    }
    this.sql.exec("UPDATE outbox_messages SET routed = 1 WHERE id = ?", messageId);
    this.insertDeliveries(messageId, endpointIds, now);
  }

  private insertDeliveries(messageId: string, endpointIds: string[], now: number) {
    for (const endpointId of endpointIds) {
      this.sql.exec(
        `INSERT OR IGNORE INTO outbox_deliveries (message_id, endpoint_id, status, attempts, due_at, next_attempt_at, updated_at, dirty)
         VALUES (?, ?, 'pending', 0, ?, ?, ?, 1)`,
        messageId,
        endpointId,
        now,
        now,
        now,
      );
    }
  }

  hasUnrouted(): boolean {
    return this.sql.exec("SELECT 1 FROM outbox_messages WHERE routed = 0 LIMIT 1").toArray().length > 0;
  }

  pendingCount(): number {
    return Number(this.sql.exec<Row>("SELECT count(*) AS n FROM outbox_deliveries WHERE status = 'pending'").one().n);
  }

  earliestDue(): number | null {
    const row = this.sql.exec<Row>("SELECT min(due_at) AS at FROM outbox_deliveries WHERE status = 'pending'").one();
    return row.at === null ? null : Number(row.at);
  }

  hasDirty(): boolean {
    return (
      this.sql.exec("SELECT 1 FROM outbox_deliveries WHERE dirty > 0 LIMIT 1").toArray().length > 0 ||
      this.sql.exec("SELECT 1 FROM outbox_health WHERE dirty > 0 LIMIT 1").toArray().length > 0
    );
  }

  /** Takes up to `limit` due deliveries and pushes their due time out by `leaseMs`: a crash mid-request retries after the lease. */
  leaseDue(now: number, limit: number, leaseMs: number): LeasedDelivery[] {
    if (limit <= 0) return [];
    const rows = this.sql
      .exec<Row>(
        `SELECT d.message_id, d.endpoint_id, d.attempts, m.body FROM outbox_deliveries d JOIN outbox_messages m ON m.id = d.message_id
         WHERE d.status = 'pending' AND d.due_at <= ? ORDER BY d.due_at LIMIT ?`,
        now,
        limit,
      )
      .toArray() as unknown as LeasedDelivery[];
    if (rows.length === 0) return rows;
    // One statement for the whole lease, not one per delivery: a result's webhook pays for each statement on the campaign's thread.
    this.sql.exec(
      `UPDATE outbox_deliveries SET due_at = ? FROM json_each(?) AS f
       WHERE message_id = f.value ->> 'm' AND endpoint_id = f.value ->> 'e'`,
      now + leaseMs,
      JSON.stringify(rows.map((row) => ({ m: row.message_id, e: row.endpoint_id }))),
    );
    return rows;
  }

  /**
   * Applies a pass's attempts in one statement (a statement per attempt cost the host's thread for
   * every webhook); a delivery that is gone or already final is left alone.
   */
  recordAttempts(attempts: RecordedAttempt[]) {
    if (attempts.length === 0) return;
    const updated = new Set(
      this.sql
        .exec<{ message_id: string; endpoint_id: string }>(
          `UPDATE outbox_deliveries SET status = f.value ->> 's', attempts = attempts + 1, due_at = f.value ->> 'n', next_attempt_at = f.value ->> 'n',
             last_status_code = f.value ->> 'c', last_error = f.value ->> 'x', updated_at = f.value ->> 't', dirty = dirty + 1
           FROM json_each(?) AS f
           WHERE message_id = f.value ->> 'm' AND endpoint_id = f.value ->> 'e' AND status = 'pending' RETURNING message_id, endpoint_id`,
          JSON.stringify(
            attempts.map(({ delivery, outcome, nextAttemptAt, at }) => ({
              m: delivery.message_id,
              e: delivery.endpoint_id,
              s: outcome.ok ? "delivered" : "pending",
              n: nextAttemptAt,
              c: outcome.statusCode,
              x: outcome.ok ? null : outcome.error,
              t: at,
            })),
          ),
        )
        .toArray()
        .map((row) => `${row.message_id} ${row.endpoint_id}`),
    );
    // In the order they answered, so an endpoint's health ends as its last answer left it.
    for (const { delivery, outcome, at } of attempts) {
      if (updated.has(`${delivery.message_id} ${delivery.endpoint_id}`)) this.recordHealth(delivery.endpoint_id, outcome, at);
    }
  }

  private recordHealth(endpointId: string, outcome: DeliveryOutcome, now: number) {
    if (outcome.ok) {
      // A steady run of successes rewrites the health row at most once a second: the flush cadence anyway.
      const written = this.healthyWrittenAt.get(endpointId);
      if (written !== undefined && now >= written && now - written < HEALTH_WRITE_MS) return;
      this.healthyWrittenAt.set(endpointId, now);
      this.sql.exec(
        `INSERT INTO outbox_health (endpoint_id, last_success_at, failing_since, last_error, dirty) VALUES (?, ?, NULL, NULL, 1)
         ON CONFLICT (endpoint_id) DO UPDATE SET last_success_at = excluded.last_success_at, failing_since = NULL, dirty = dirty + 1`,
        endpointId,
        now,
      );
    } else {
      this.healthyWrittenAt.delete(endpointId);
      this.sql.exec(
        `INSERT INTO outbox_health (endpoint_id, last_success_at, failing_since, last_error, dirty) VALUES (?, NULL, ?, ?, 1)
         ON CONFLICT (endpoint_id) DO UPDATE SET failing_since = coalesce(failing_since, excluded.failing_since),
           last_error = excluded.last_error, dirty = dirty + 1`,
        endpointId,
        now,
        outcome.error,
      );
    }
  }

  /** A disabled endpoint gets nothing more: what it still had pending is failed with the reason. */
  failPendingOf(endpointId: string, reason: string, now: number) {
    this.sql.exec(
      `UPDATE outbox_deliveries SET status = 'failed', due_at = NULL, next_attempt_at = NULL, last_error = ?, updated_at = ?, dirty = dirty + 1
       WHERE endpoint_id = ? AND status = 'pending'`,
      reason,
      now,
      endpointId,
    );
  }

  /** A deleted endpoint: its deliveries go (D1 dropped its log with it). */
  dropEndpoint(endpointId: string) {
    const messageIds = this.sql
      .exec<{ message_id: string }>("DELETE FROM outbox_deliveries WHERE endpoint_id = ? RETURNING message_id", endpointId)
      .toArray()
      .map((r) => r.message_id);
    this.sql.exec("DELETE FROM outbox_health WHERE endpoint_id = ?", endpointId);
    this.healthyWrittenAt.delete(endpointId);
    this.pruneMessages(messageIds);
  }

  dirtyDeliveries(limit: number): DirtyDelivery[] {
    return this.sql
      .exec<Row>(
        `SELECT d.message_id, d.endpoint_id, m.type, d.status, d.attempts, d.last_status_code, d.last_error, d.next_attempt_at,
           m.created_at, d.updated_at, d.dirty
         FROM outbox_deliveries d JOIN outbox_messages m ON m.id = d.message_id WHERE d.dirty > 0 LIMIT ?`,
        limit,
      )
      .toArray() as unknown as DirtyDelivery[];
  }

  dirtyHealth(): DirtyHealth[] {
    return this.sql.exec<Row>("SELECT * FROM outbox_health WHERE dirty > 0").toArray() as unknown as DirtyHealth[];
  }

  /** D1 has these versions now; rows changed since keep their mark. Final rows D1 has are no longer needed here. */
  markFlushed(deliveries: DirtyDelivery[], health: DirtyHealth[]) {
    const marks = JSON.stringify(deliveries.map((d) => ({ m: d.message_id, e: d.endpoint_id, v: d.dirty })));
    this.sql.exec(
      `UPDATE outbox_deliveries SET dirty = 0 FROM json_each(?) AS f
       WHERE message_id = f.value ->> 'm' AND endpoint_id = f.value ->> 'e' AND dirty = f.value ->> 'v'`,
      marks,
    );
    for (const h of health) this.sql.exec("UPDATE outbox_health SET dirty = 0 WHERE endpoint_id = ? AND dirty = ?", h.endpoint_id, h.dirty);
    this.sql.exec(
      `DELETE FROM outbox_deliveries WHERE status != 'pending' AND dirty = 0
         AND (message_id, endpoint_id) IN (SELECT f.value ->> 'm', f.value ->> 'e' FROM json_each(?) AS f)`,
      marks,
    );
    this.pruneMessages([...new Set(deliveries.map((d) => d.message_id))]);
  }

  private pruneMessages(messageIds: string[]) {
    if (messageIds.length === 0) return;
    this.sql.exec(
      `DELETE FROM outbox_messages WHERE routed = 1 AND id IN (SELECT value FROM json_each(?))
         AND NOT EXISTS (SELECT 1 FROM outbox_deliveries WHERE message_id = outbox_messages.id)`,
      JSON.stringify(messageIds),
    );
  }

  /** The oldest `limit` messages with their deliveries, for a handover. */
  exportMessages(limit: number): HandedOverMessage[] {
    return this.sql
      .exec<Row>(
        `SELECT m.id, m.type, m.body, m.created_at, m.routed,
           (SELECT json_group_array(json_object('endpoint_id', d.endpoint_id, 'status', d.status, 'attempts', d.attempts, 'due_at', d.due_at,
              'next_attempt_at', d.next_attempt_at, 'last_status_code', d.last_status_code, 'last_error', d.last_error,
              'updated_at', d.updated_at, 'dirty', d.dirty))
            FROM outbox_deliveries d WHERE d.message_id = m.id) AS deliveries
         FROM outbox_messages m ORDER BY m.id LIMIT ?`,
        limit,
      )
      .toArray()
      .map((r) => ({ ...(r as unknown as HandedOverMessage), deliveries: JSON.parse(r.deliveries as string) }));
  }

  /** Takes messages handed over by another object; a message already here is left as it is. */
  importMessages(messages: HandedOverMessage[]) {
    for (const m of messages) {
      const inserted = this.sql
        .exec(
          "INSERT OR IGNORE INTO outbox_messages (id, type, body, created_at, routed) VALUES (?, ?, ?, ?, ?) RETURNING 1",
          m.id,
          m.type,
          m.body,
          m.created_at,
          m.routed,
        )
        .toArray();
      if (inserted.length === 0) continue;
      for (const d of m.deliveries) {
        this.sql.exec(
          `INSERT OR IGNORE INTO outbox_deliveries (message_id, endpoint_id, status, attempts, due_at, next_attempt_at, last_status_code, last_error, updated_at, dirty)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          m.id,
          d.endpoint_id,
          d.status,
          d.attempts,
          d.due_at,
          d.next_attempt_at,
          d.last_status_code,
          d.last_error,
          d.updated_at,
          Math.max(1, d.dirty),
        );
      }
    }
  }

  deleteMessages(ids: string[]) {
    const list = JSON.stringify(ids);
    this.sql.exec("DELETE FROM outbox_deliveries WHERE message_id IN (SELECT value FROM json_each(?))", list);
    this.sql.exec("DELETE FROM outbox_messages WHERE id IN (SELECT value FROM json_each(?))", list);
  }

  counts() {
    const row = this.sql
      .exec<Row>(
        `SELECT (SELECT count(*) FROM outbox_messages) AS messages, (SELECT count(*) FROM outbox_messages WHERE routed = 0) AS unrouted,
           (SELECT count(*) FROM outbox_deliveries WHERE status = 'pending') AS pending, (SELECT count(*) FROM outbox_deliveries) AS deliveries,
           (SELECT count(*) FROM outbox_deliveries WHERE dirty > 0) AS dirty`,
      )
      .one();
    return {
      messages: Number(row.messages),
      unrouted: Number(row.unrouted),
      pending: Number(row.pending),
      deliveries: Number(row.deliveries),
      dirty: Number(row.dirty),
    };
  }
}
