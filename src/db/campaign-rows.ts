import { and, eq, sql } from "drizzle-orm";
import type { Env } from "../env";
import { type Database, database, preparedQuery } from "./client";
import { type ContactStatus, campaigns } from "./schema";

/** A campaign as D1 keeps it. */
export type CampaignRow = typeof campaigns.$inferSelect;

/** Most tenant routes start with this lookup, so it is built once. */
const campaignOfAccount = preparedQuery((db) =>
  db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.id, sql.placeholder("id")), eq(campaigns.accountId, sql.placeholder("account"))))
    .prepare(),
);

/** The same lookup as a query to send in a batch with others. */
export const campaignOfAccountQuery = (db: Database, campaignId: string, accountId: string) =>
  db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.accountId, accountId)));

export async function loadCampaignRow(env: Env, campaignId: string, accountId?: string): Promise<CampaignRow | undefined> {
  if (accountId !== undefined) return campaignOfAccount(database(env)).get({ id: campaignId, account: accountId });
  return database(env).select().from(campaigns).where(eq(campaigns.id, campaignId)).get();
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
