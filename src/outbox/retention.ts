import type { Env } from "../env";

/** The delivery log keeps finished deliveries this long. */
const DELIVERY_LOG_DAYS = 30;
/** Rows removed per run (the cron runs every 10 minutes), so one run stays far inside D1's limits. */
const PRUNE_BATCH = 10_000;

/** Drops delivered and failed log rows older than DELIVERY_LOG_DAYS; pending ones stay until they end. */
export async function pruneDeliveryLog(env: Pick<Env, "DB">, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - DELIVERY_LOG_DAYS * 86_400_000).toISOString();
  const result = await env.DB.prepare(
    `DELETE FROM webhook_deliveries WHERE rowid IN (
       SELECT rowid FROM webhook_deliveries WHERE created_at < ? AND status != 'pending' LIMIT ?)`,
  )
    .bind(cutoff, PRUNE_BATCH)
    .run();
  return result.meta.changes ?? 0;
}
