import { getCampaignStub } from "../campaign-object/stub";
import type { Env } from "../env";

/**
 * Asks every campaign that may still have work to re-arm its alarm. Production alarms survive on
 * their own; this covers a `wrangler dev` restart, which can lose them, and runs as a cron safety net.
 */
export async function rearmLiveCampaigns(env: Env): Promise<number> {
  let cursor = "";
  let count = 0;
  for (;;) {
    // Campaigns that ended in the last 3 days may still have webhook deliveries to retry.
    const { results } = await env.DB.prepare(
      `SELECT id FROM campaigns WHERE (status IN ('running', 'scheduled', 'paused') OR completed_at > ?) AND id > ? ORDER BY id LIMIT 200`,
    )
      .bind(new Date(Date.now() - 3 * 86_400_000).toISOString(), cursor)
      .all<{ id: string }>();
    await Promise.all(results.map(({ id }) => getCampaignStub(env, id).rearm(id)));
    count += results.length;
    if (results.length < 200) return count;
    cursor = results.at(-1)?.id ?? cursor;
  }
}
