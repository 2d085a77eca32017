import type { Page } from "../db/queries";
import type { DncUpload } from "./upload";

export interface DncEntry {
  phone_number: string;
  reason: string | null;
  created_at: string;
}

/**
 * Adds an upload's numbers in one D1 batch (one transaction), one statement per ~1 MB chunk that
 * expands a bound JSON array with json_each. A number already listed keeps its reason and date;
 * `added` is exactly the rows written, so a repeat inside the upload counts as already listed.
 */
export async function addNumbers(db: D1Database, accountId: string, upload: DncUpload, reason: string | null, now: string): Promise<{ added: number }> {
  if (upload.chunks.length === 0) return { added: 0 };
  const insert = db.prepare(
    // The WHERE makes ON CONFLICT parse as the upsert clause rather than as a join constraint.
    `INSERT INTO dnc_numbers (account_id, phone_number, reason, created_at)
     SELECT ?1, value, ?2, ?3 FROM json_each(?4) WHERE true
     ON CONFLICT (account_id, phone_number) DO NOTHING`,
  );
  const results = await db.batch(upload.chunks.map((chunk) => insert.bind(accountId, reason, now, chunk.json)));
  return { added: results.reduce((sum, r) => sum + (r.meta.changes ?? 0), 0) };
}

/** The E.164 numbers starting with `prefix` sort in [prefix, prefix + ":"): ':' follows '9', so this is a primary-key range scan. */
const prefixRange = (prefix: string): [string, string] => [prefix, `${prefix}:`];

export async function listNumbers(db: D1Database, accountId: string, prefix: string, page: Page): Promise<{ rows: DncEntry[]; total: number }> {
  const [from, to] = prefixRange(prefix);
  const [rows, counted] = await db.batch<DncEntry & { n: number }>([
    db
      .prepare(
        `SELECT phone_number, reason, created_at FROM dnc_numbers
         WHERE account_id = ?1 AND phone_number >= ?2 AND phone_number < ?3 ORDER BY phone_number LIMIT ?4 OFFSET ?5`,
      )
      .bind(accountId, from, to, page.limit, page.offset),
    db.prepare("SELECT count(*) AS n FROM dnc_numbers WHERE account_id = ?1 AND phone_number >= ?2 AND phone_number < ?3").bind(accountId, from, to),
  ]);
  return { rows: (rows?.results ?? []) as DncEntry[], total: counted?.results[0]?.n ?? 0 };
}

export async function findNumber(db: D1Database, accountId: string, phone: string): Promise<DncEntry | null> {
  return db
    .prepare("SELECT phone_number, reason, created_at FROM dnc_numbers WHERE account_id = ? AND phone_number = ?")
    .bind(accountId, phone)
    .first<DncEntry>();
}

/** True when the number was listed (and now is not). */
export async function removeNumber(db: D1Database, accountId: string, phone: string): Promise<boolean> {
  const result = await db.prepare("DELETE FROM dnc_numbers WHERE account_id = ? AND phone_number = ?").bind(accountId, phone).run();
  return (result.meta.changes ?? 0) > 0;
}

/** Lists one number (an opt-out); a number already listed keeps its reason and date. True when it was added now. */
export async function addNumber(db: D1Database, accountId: string, phone: string, reason: string, now: string): Promise<boolean> {
  const result = await db
    .prepare("INSERT INTO dnc_numbers (account_id, phone_number, reason, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (account_id, phone_number) DO NOTHING")
    .bind(accountId, phone, reason, now)
    .run();
  return (result.meta.changes ?? 0) > 0;
}
