import { and, asc, count, eq, gte, isNotNull, sql } from "drizzle-orm";
import type { ContactResultView } from "../call-results/result-view";
import { resultSettingsOf, resultSettingsView } from "../call-results/settings";
import { type CallingWindow, callingWindowOf, callingWindowView, contactTimezone } from "../calling-window/calling-window";
import { type CampaignRow, campaignOfAccountQuery, contactStatsOf } from "../db/campaign-rows";
import { type Database, database, type ReadBatch } from "../db/client";
import { insertContactStatements } from "../db/contact-inserts";
import { fieldsObject } from "../db/custom-fields";
import type { Page } from "../db/queries";
import { type ContactStatus, campaigns, contacts } from "../db/schema";
import { suppressListedContacts } from "../dnc/check";
import type { Env } from "../env";
import { contactIdStem } from "../ids";
import type { IngestResult } from "../uploads/ingest";

type ContactRow = typeof contacts.$inferSelect;

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
  stats: { total: row.total, ...contactStatsOf(row), dispositions: JSON.parse(row.dispositionStats) as Record<string, number> },
  calling_window: callingWindowView(callingWindowOf(row)),
  ...resultSettingsView(resultSettingsOf(row)),
  pause_on_failure_rate: row.pauseOnFailureRate,
  failure_window: row.failureWindow,
  ramp_up_seconds: row.rampUpSeconds,
  source_campaign_id: row.sourceCampaignId,
});

/** The window is the campaign's (callingWindowOf): the contact's timezone depends on its explicit zone. Columns: customColumnsOf. */
export const contactView = (row: ContactRow, window: CallingWindow | null, columns: readonly string[]) => ({
  id: row.id,
  campaign_id: row.campaignId,
  row: row.row,
  phone_number: row.phoneNumber,
  custom_fields: fieldsObject(row.customFields, columns),
  status: row.status,
  attempts: row.attempts,
  outcome: row.outcome,
  last_error: row.lastError,
  call_id: row.callId,
  next_attempt_at: row.nextAttemptAt,
  timezone: contactTimezone(window, { phone: row.phoneNumber, timezone: row.timezone }),
  result: row.result === null ? null : (JSON.parse(row.result) as ContactResultView),
  callbacks: row.callbacks,
  expires_at: row.expiresAt,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

/**
 * Writes the campaign and all its contacts in one D1 batch (one transaction): a failure leaves
 * neither. Numbers on the account's do-not-call list are suppressed in the same batch.
 */
export async function insertCampaign(env: Env, campaign: CampaignRow, ingest: IngestResult): Promise<{ dncSuppressed: number }> {
  const db = database(env);
  const insert = { stem: contactIdStem(), campaignId: campaign.id, accountId: campaign.accountId, createdAt: campaign.createdAt, firstSeq: 0 };
  const statements = insertContactStatements(env.DB, insert, ingest.chunks);
  const campaignInsert = db.insert(campaigns).values(campaign).toSQL();
  const suppress = suppressListedContacts(env.DB, campaign.id, campaign.accountId, campaign.createdAt);
  const results = await env.DB.batch([env.DB.prepare(campaignInsert.sql).bind(...campaignInsert.params), ...statements, ...suppress]);
  return { dncSuppressed: results[statements.length + 1]?.meta.changes ?? 0 };
}

/** The term that lets SQLite use the partial index `contacts_campaign_settled`, which holds no pending contact. */
const settled = sql`${contacts.status} <> 'pending'`;

/** Which contacts a list shows: by status, by the disposition of their latest result, or both. */
export interface ContactFilter {
  status?: ContactStatus;
  disposition?: string;
}

/**
 * A campaign of the account and one page of its contacts in CSV order, read in one D1 round trip
 * (the page is thrown away when the campaign is not the account's). Without a filter, offset is a
 * seek on the (campaign_id, seq) key, not a scan. A settled status reads the settled-status index;
 * pending contacts are read along the key; a disposition reads the disposition index, which holds
 * only contacts with a result. The total comes from the campaign's counters, or, for a
 * disposition, from a count in the same round trip.
 */
export async function campaignContactsPage(db: Database, batch: ReadBatch, campaignId: string, accountId: string, filter: ContactFilter, page: Page) {
  const { status, disposition } = filter;
  const campaignRow = campaignOfAccountQuery(db, campaignId, accountId);
  if (disposition !== undefined) {
    const where = and(
      eq(contacts.campaignId, campaignId),
      eq(contacts.disposition, disposition),
      isNotNull(contacts.disposition),
      status === undefined ? undefined : eq(contacts.status, status),
    );
    const [[campaign], rows, [counted]] = await batch([
      campaignRow,
      db.select().from(contacts).where(where).orderBy(asc(contacts.seq)).limit(page.limit).offset(page.offset),
      db.select({ n: count() }).from(contacts).where(where),
    ]);
    return campaign ? { campaign, rows, total: counted?.n ?? 0 } : null;
  }
  const where = status
    ? and(eq(contacts.campaignId, campaignId), eq(contacts.status, status), status === "pending" ? undefined : settled)
    : and(eq(contacts.campaignId, campaignId), gte(contacts.seq, page.offset));
  const pageQuery = db.select().from(contacts).where(where).orderBy(asc(contacts.seq)).limit(page.limit);
  const [[campaign], rows] = await batch([campaignRow, status ? pageQuery.offset(page.offset) : pageQuery]);
  if (!campaign) return null;
  return { campaign, rows, total: status ? campaign[status] : campaign.total };
}
