import { and, count, desc, eq, inArray, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database, ReadBatch } from "./client";
import { campaigns } from "./schema";

/** One page of a list: `limit` items after skipping `offset`. */
export interface Page {
  limit: number;
  offset: number;
}

type AccountScoped = SQLiteTable & { id: SQLiteColumn; accountId: SQLiteColumn };

/** One page of an account's rows, newest first, with the total for the list envelope: one D1 round trip for both. */
export async function pageByAccount<T extends AccountScoped>(db: Database, batch: ReadBatch, table: T, accountId: string, page: Page, filter?: SQL) {
  const where = and(eq(table.accountId, accountId), filter);
  const [rows, [totals]] = await batch([
    db
      .select()
      .from(table as SQLiteTable)
      .where(where)
      .orderBy(desc(table.id))
      .limit(page.limit)
      .offset(page.offset),
    db
      .select({ n: count() })
      .from(table as SQLiteTable)
      .where(where),
  ]);
  return { rows: rows as T["$inferSelect"][], total: totals?.n ?? 0 };
}

export async function findInAccount<T extends AccountScoped>(db: Database, table: T, accountId: string, id: string) {
  const row = await db
    .select()
    .from(table as SQLiteTable)
    .where(and(eq(table.id, id), eq(table.accountId, accountId)))
    .get();
  return row as T["$inferSelect"] | undefined;
}

/** Campaigns that still need their agent or number (not completed or failed). */
export async function liveCampaignsUsing(db: Database, column: "agentId" | "phoneNumberId", id: string) {
  return db
    .select({ id: campaigns.id, name: campaigns.name })
    .from(campaigns)
    .where(and(eq(campaigns[column], id), inArray(campaigns.status, ["draft", "scheduled", "running", "paused"])))
    .limit(5);
}
