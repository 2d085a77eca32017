import { getCampaignStub } from "../campaign-object/stub";
import { nowIso } from "../db/client";
import type { Env } from "../env";

/** A campaign that finished this recently may still have a tick under way (its carrier requests time out within seconds). */
const RECENTLY_FINISHED_MS = 5 * 60_000;

/**
 * Called after an add has committed: waits until every tick of the account's campaigns that was
 * under way (and so may have read the list before the add) has finished. Ticks that start later
 * read the list after the add. So once the add returns, no dial of a number it listed can start.
 */
export async function waitOutDialsInProgress(env: Env, accountId: string): Promise<void> {
  const { results } = await env.DB.prepare(
    `SELECT id FROM campaigns WHERE account_id = ?1
       AND (status IN ('running', 'paused') OR (status IN ('completed', 'failed') AND completed_at >= ?2))`,
  )
    .bind(accountId, nowIso(Date.now() - RECENTLY_FINISHED_MS))
    .all<{ id: string }>();
  await Promise.all(
    results.map(({ id }) =>
      getCampaignStub(env, id)
        .fenceDials()
        // An object that cannot answer has lost its ticks with its instance; the numbers are listed either way.
        .catch((error: unknown) => console.error("dnc fence failed", id, error)),
    ),
  );
}
