/**
 * The do-not-call list as campaigns meet it: once for all contacts when a campaign is written
 * (create, clone) or contacts are appended, and once per dispatch tick for the batch about to be dialled.
 */

/** One primary-key seek per number of the batch. (A JOIN lets the planner walk the whole list instead.) */
export const LISTED_AMONG_SQL = "SELECT phone_number FROM dnc_numbers WHERE account_id = ?1 AND phone_number IN (SELECT value FROM json_each(?2))";

/**
 * The numbers among `phones` that are on the account's list: one D1 query for the whole batch,
 * never one per contact.
 */
export async function listedAmong(db: D1Database, accountId: string, phones: readonly string[]): Promise<Set<string>> {
  if (phones.length === 0) return new Set();
  const { results } = await db.prepare(LISTED_AMONG_SQL).bind(accountId, JSON.stringify(phones)).all<{ phone_number: string }>();
  return new Set(results.map((r) => r.phone_number));
}

/**
 * Walks the campaign's pending contacts and seeks each number in the list: cost follows the campaign,
 * not the list. The first EXISTS does not depend on the row, so SQLite tests it once before the walk:
 * an account with an empty list skips the walk.
 */
export const SUPPRESS_LISTED_SQL = `UPDATE contacts SET status = 'cancelled', outcome = 'dnc', updated_at = ?3
  WHERE campaign_id = ?1 AND status = 'pending'
    AND EXISTS (SELECT 1 FROM dnc_numbers WHERE account_id = ?2)
    AND EXISTS (SELECT 1 FROM dnc_numbers AS d WHERE d.account_id = ?2 AND d.phone_number = contacts.phone_number)`;

/** The same for the contacts an append added (seq from ?4 on): the campaign's earlier contacts are its object's to change. */
export const SUPPRESS_APPENDED_SQL = `${SUPPRESS_LISTED_SQL} AND seq >= ?4`;

/** A new campaign's total and counters: seq is dense, so the total is the last seq + 1 (one seek); the cancelled are a range of the settled-status index. */
export const RECOUNT_SQL = `UPDATE campaigns SET total = counted.total, stat_pending = counted.total - counted.cancelled, stat_cancelled = counted.cancelled
  FROM (SELECT (SELECT coalesce(max(seq) + 1, 0) FROM contacts WHERE campaign_id = ?1) AS total,
               (SELECT count(*) FROM contacts WHERE campaign_id = ?1 AND status = 'cancelled' AND status <> 'pending') AS cancelled) AS counted
  WHERE campaigns.id = ?1`;

/**
 * Statements to run in the same D1 batch that wrote a campaign's contacts: listed numbers become
 * cancelled with outcome `dnc` (a seek per contact, whatever the list's size), then the campaign's
 * total and counters are recounted from the contacts. The first statement's `meta.changes` is the
 * number suppressed.
 */
export function suppressListedContacts(db: D1Database, campaignId: string, accountId: string, now: string): [D1PreparedStatement, D1PreparedStatement] {
  return [db.prepare(SUPPRESS_LISTED_SQL).bind(campaignId, accountId, now), db.prepare(RECOUNT_SQL).bind(campaignId)];
}

/** Numbers per counting statement: ~16 bytes each keeps the bound JSON near 800 KB. */
const COUNT_BATCH = 50_000;

/** How many of `phones` are on the account's list: one seek per number, one D1 round trip for the lot (preflight writes nothing). */
export async function countListed(db: D1Database, accountId: string, phones: Iterable<string>): Promise<number> {
  const batches: string[][] = [];
  let batch: string[] = [];
  for (const phone of phones) {
    if (batch.length === COUNT_BATCH) {
      batches.push(batch);
      batch = [];
    }
    batch.push(phone);
  }
  if (batch.length > 0) batches.push(batch);
  if (batches.length === 0) return 0;
  const count = db.prepare(`SELECT count(*) AS n FROM (${LISTED_AMONG_SQL})`);
  const results = await db.batch<{ n: number }>(batches.map((numbers) => count.bind(accountId, JSON.stringify(numbers))));
  return results.reduce((sum, result) => sum + (result.results[0]?.n ?? 0), 0);
}
