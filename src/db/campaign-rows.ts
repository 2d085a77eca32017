import { and, eq, sql } from "drizzle-orm";
import type { Env } from "../env";
import { type Database, database, preparedQuery } from "./client";
import { type ContactStatus, campaigns } from "./schema";

/** A campaign as D1 keeps it. */
export type CampaignRow = typeof campaigns.$inferSelect;

type Value = string | ReturnType<typeof sql.placeholder>;

/** A campaign of the account, as a query to send alone or in a batch with others (values or placeholders). */
export const campaignOfAccountQuery = (db: Database, campaignId: Value, accountId: Value) =>
  db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.id, campaignId), eq(campaigns.accountId, accountId)));

/** Most tenant routes start with this lookup, so it is built once. */
const campaignOfAccount = preparedQuery((db) => campaignOfAccountQuery(db, sql.placeholder("id"), sql.placeholder("account")).prepare());

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
