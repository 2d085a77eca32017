import type { DirtyDelivery, DirtyHealth } from "./outbox-store";
import { DISABLE_AFTER_MS } from "./schedule";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function disabledReason(now: number, lastError: string | null): string {
  const last = lastError ? ` The last error was: ${lastError.replace(/\.$/, "")}.` : "";
  return `Disabled on ${iso(now)}: every delivery failed for ${DISABLE_AFTER_MS / 86_400_000} days.${last} Fix the receiver, then PATCH the endpoint with "enabled": true.`;
}

/**
 * One D1 batch: the delivery log rows, then each endpoint's health merged with what other objects
 * reported (last success wins over older failures), then the 3-day rule for endpoints that failed.
 * The disable statements come last and answer the ids they disabled.
 */
export function flushStatements(db: D1Database, accountId: string, deliveries: DirtyDelivery[], health: DirtyHealth[], now: number) {
  const statements: D1PreparedStatement[] = [];
  if (deliveries.length > 0) {
    const rows = deliveries.map((d) => ({
      e: d.endpoint_id,
      m: d.message_id,
      t: d.type,
      s: d.status,
      a: d.attempts,
      c: d.last_status_code,
      x: d.last_error,
      n: iso(d.next_attempt_at),
      at: iso(d.created_at),
    }));
    // Rows of an endpoint deleted meanwhile are not brought back.
    statements.push(
      db
        .prepare(
          `INSERT INTO webhook_deliveries (endpoint_id, message_id, account_id, type, status, attempts, last_status_code, last_error,
             next_attempt_at, created_at, updated_at)
           SELECT r.value ->> 'e', r.value ->> 'm', ?1, r.value ->> 't', r.value ->> 's', r.value ->> 'a', r.value ->> 'c', r.value ->> 'x',
             r.value ->> 'n', r.value ->> 'at', ?2
           FROM json_each(?3) AS r WHERE EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = r.value ->> 'e')
           ON CONFLICT (endpoint_id, message_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
             last_status_code = excluded.last_status_code, last_error = excluded.last_error, next_attempt_at = excluded.next_attempt_at,
             updated_at = excluded.updated_at`,
        )
        .bind(accountId, iso(now), JSON.stringify(rows)),
    );
  }
  const failing: DirtyHealth[] = [];
  for (const h of health) {
    if (h.last_success_at !== null) {
      statements.push(
        db
          .prepare(
            `UPDATE webhook_endpoints SET last_success_at = max(coalesce(last_success_at, 0), ?1),
               failing_since = CASE WHEN failing_since <= ?1 THEN NULL ELSE failing_since END WHERE id = ?2`,
          )
          .bind(h.last_success_at, h.endpoint_id),
      );
    }
    if (h.failing_since !== null) {
      failing.push(h);
      statements.push(
        db
          .prepare(
            `UPDATE webhook_endpoints SET failing_since = CASE WHEN failing_since IS NULL OR failing_since > ?1 THEN ?1 ELSE failing_since END
             WHERE id = ?2 AND coalesce(last_success_at, 0) < ?1`,
          )
          .bind(h.failing_since, h.endpoint_id),
      );
    }
  }
  const disableFrom = statements.length;
  for (const h of failing) {
    statements.push(
      db
        .prepare(
          `UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?1, updated_at = ?2
           WHERE id = ?3 AND enabled = 1 AND failing_since IS NOT NULL AND failing_since <= ?4 RETURNING id, disabled_reason`,
        )
        .bind(disabledReason(now, h.last_error), iso(now), h.endpoint_id, now - DISABLE_AFTER_MS),
    );
  }
  return { statements, disableFrom };
}
