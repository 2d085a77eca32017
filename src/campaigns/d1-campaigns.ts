import { and, asc, eq, gte } from "drizzle-orm";
import { database } from "../db/client";
import { type ContactStatus, campaigns, contacts } from "../db/schema";
import type { Env } from "../env";
import type { Page } from "../http/validation";
import { contactIdStem } from "../ids";
import type { IngestResult } from "./ingest";

export type CampaignRow = typeof campaigns.$inferSelect;
type ContactRow = typeof contacts.$inferSelect;

export async function loadCampaignRow(env: Env, campaignId: string, accountId?: string): Promise<CampaignRow | undefined> {
  const where = accountId ? and(eq(campaigns.id, campaignId), eq(campaigns.accountId, accountId)) : eq(campaigns.id, campaignId);
  return database(env).select().from(campaigns).where(where).get();
}

/** The per-status contact counters kept on the campaign row. */
export const contactStatsOf = (row: CampaignRow): Record<ContactStatus, number> => ({
  pending: row.pending,
  originated: row.originated,
  connected: row.connected,
  completed: row.completed,
  failed: row.failed,
  cancelled: row.cancelled,
});

export const campaignView = (row: CampaignRow) => ({
  id: row.id,
  name: row.name,
  agent_id: row.agentId,
  phone_number_id: row.phoneNumberId,
  max_concurrent_calls: row.maxConcurrentCalls,
  retries_per_contact: row.retriesPerContact,
  retry_delay_seconds: row.retryDelaySeconds,
  default_country: row.defaultCountry,
  scheduled_at: row.scheduledAt,
  started_at: row.startedAt,
  completed_at: row.completedAt,
  created_at: row.createdAt,
  created_by: row.createdBy,
  status: row.status,
  status_reason: row.statusReason,
  stats: { total: row.total, ...contactStatsOf(row) },
});

export const contactView = (row: ContactRow) => ({
  id: row.id,
  campaign_id: row.campaignId,
  row: row.row,
  phone_number: row.phoneNumber,
  custom_fields: JSON.parse(row.customFields) as Record<string, string>,
  status: row.status,
  attempts: row.attempts,
  outcome: row.outcome,
  last_error: row.lastError,
  call_id: row.callId,
  next_attempt_at: row.nextAttemptAt,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

/**
 * Writes the campaign and all its contacts in one D1 batch (one transaction): a failure leaves
 * neither. Each chunk is one statement that binds a JSON array and expands it with json_each,
 * which keeps 100k contacts to a handful of statements with four bound parameters each.
 */
export async function insertCampaign(env: Env, campaign: CampaignRow, ingest: IngestResult): Promise<void> {
  const db = database(env);
  const stem = contactIdStem();
  const insertContacts = env.DB.prepare(
    `INSERT INTO contacts (id, campaign_id, account_id, seq, row, phone_number, custom_fields, status, attempts, created_at, updated_at)
     SELECT 'ctc_' || ?1 || printf('%06x', ?2 + key), ?3, ?4, ?2 + key, value ->> '$[0]', value ->> '$[1]', value -> '$[2]', 'pending', 0, ?5, ?5
     FROM json_each(?6)`,
  );
  let offset = 0;
  const statements = ingest.chunks.map((chunk) => {
    const statement = insertContacts.bind(stem, offset, campaign.id, campaign.accountId, campaign.createdAt, chunk.json);
    offset += chunk.count;
    return statement;
  });
  const campaignInsert = db.insert(campaigns).values(campaign).toSQL();
  await env.DB.batch([env.DB.prepare(campaignInsert.sql).bind(...campaignInsert.params), ...statements]);
}

/** Contacts in CSV order. Without a status filter, offset is a seek on (campaign_id, seq), not a scan. */
export async function listContacts(env: Env, campaign: CampaignRow, status: ContactStatus | undefined, page: Page) {
  const db = database(env);
  if (!status) {
    const rows = await db
      .select()
      .from(contacts)
      .where(and(eq(contacts.campaignId, campaign.id), gte(contacts.seq, page.offset)))
      .orderBy(asc(contacts.seq))
      .limit(page.limit);
    return { rows, total: campaign.total };
  }
  const rows = await db
    .select()
    .from(contacts)
    .where(and(eq(contacts.campaignId, campaign.id), eq(contacts.status, status)))
    .orderBy(asc(contacts.seq))
    .limit(page.limit)
    .offset(page.offset);
  return { rows, total: campaign[status] };
}
