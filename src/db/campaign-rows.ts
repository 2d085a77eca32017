import { and, eq } from "drizzle-orm";
import type { Env } from "../env";
import { database } from "./client";
import { type ContactStatus, campaigns } from "./schema";

/** A campaign as D1 keeps it. */
export type CampaignRow = typeof campaigns.$inferSelect;

export async function loadCampaignRow(env: Env, campaignId: string, accountId?: string): Promise<CampaignRow | undefined> {
  const where = accountId ? and(eq(campaigns.id, campaignId), eq(campaigns.accountId, accountId)) : eq(campaigns.id, campaignId);
  return database(env).select().from(campaigns).where(where).get();
}

/** The upload's custom-field columns, in upload order. */
export const customColumnsOf = (row: CampaignRow): string[] => JSON.parse(row.customColumns) as string[];

/** The per-status contact counters kept on the campaign row. */
export const contactStatsOf = (row: CampaignRow): Record<ContactStatus, number> => ({
  pending: row.pending,
  originated: row.originated,
  connected: row.connected,
  completed: row.completed,
  failed: row.failed,
  cancelled: row.cancelled,
});
