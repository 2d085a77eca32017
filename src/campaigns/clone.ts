import { getTableColumns } from "drizzle-orm";
import type { CampaignRow } from "../db/campaign-rows";
import { database } from "../db/client";
import { type ContactOutcome, type ContactStatus, campaigns, contacts } from "../db/schema";
import { suppressListedContacts } from "../dnc/check";
import type { Env } from "../env";
import { contactIdStem } from "../ids";

/** Contact columns that record identity or dialling: a copy gives them fresh values (or leaves them null). */
const DIALLING_COLUMNS: ReadonlySet<string> = new Set([
  "id",
  "campaign_id",
  "account_id",
  "seq",
  "status",
  "attempts",
  "outcome",
  "last_error",
  "call_id",
  "next_attempt_at",
  "result",
  "disposition",
  "callbacks",
  // A copy is dialled afresh: its source's expiry has usually passed (docs/contacts.md).
  "expires_at",
  "created_at",
  "updated_at",
]);

/** Every other contact column describes the person (row, number, custom fields, and any added later): a clone copies it as it is. */
export const CONTACT_DATA_COLUMNS: readonly string[] = Object.values(getTableColumns(contacts))
  .map((column) => column.name)
  .filter((name) => !DIALLING_COLUMNS.has(name));

/** Which source contacts a clone takes; null means any. */
export interface ContactSelection {
  statuses: readonly ContactStatus[] | null;
  outcomes: readonly ContactOutcome[] | null;
}

const quoted = (name: string) => `"${name}"`;

/**
 * Writes the clone in one D1 batch (one transaction): the campaign row, its contacts copied inside
 * D1 by INSERT … SELECT (no contact passes through the Worker, so 100k copy in one statement),
 * DNC suppression and the counters. A selection that matches nothing removes the new row again in
 * the same transaction, so nothing is ever visible; `copied` is then 0.
 */
export async function insertClone(
  env: Env,
  campaign: CampaignRow,
  sourceId: string,
  selection: ContactSelection,
): Promise<{ copied: number; dncSuppressed: number }> {
  const data = CONTACT_DATA_COLUMNS.map(quoted).join(", ");
  // Dense seq in source order keeps CSV order and the (campaign_id, seq) seek that pages contacts.
  const copy = env.DB.prepare(
    `INSERT INTO contacts (id, campaign_id, account_id, seq, status, attempts, created_at, updated_at, ${data})
     SELECT 'ctc_' || ?1 || printf('%06x', n - 1), ?2, ?3, n - 1, 'pending', 0, ?4, ?4, ${data}
     FROM (SELECT row_number() OVER (ORDER BY seq) AS n, ${data} FROM contacts
           WHERE campaign_id = ?5 AND account_id = ?3
             AND (?6 IS NULL OR status IN (SELECT value FROM json_each(?6)))
             AND (?7 IS NULL OR outcome IN (SELECT value FROM json_each(?7))))`,
  ).bind(
    contactIdStem(),
    campaign.id,
    campaign.accountId,
    campaign.createdAt,
    sourceId,
    selection.statuses && JSON.stringify(selection.statuses),
    selection.outcomes && JSON.stringify(selection.outcomes),
  );
  const campaignInsert = database(env).insert(campaigns).values(campaign).toSQL();
  const results = await env.DB.batch([
    env.DB.prepare(campaignInsert.sql).bind(...campaignInsert.params),
    copy,
    ...suppressListedContacts(env.DB, campaign.id, campaign.accountId, campaign.createdAt),
    env.DB.prepare("DELETE FROM campaigns WHERE id = ? AND total = 0").bind(campaign.id),
  ]);
  const copied = results[1]?.meta.changes ?? 0;
  return { copied, dncSuppressed: copied === 0 ? 0 : (results[2]?.meta.changes ?? 0) };
}
