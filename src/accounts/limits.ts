import { eq } from "drizzle-orm";
import { z } from "zod";
import { database } from "../db/client";
import { accounts } from "../db/schema";
import type { Env } from "../env";

export const DEFAULT_LIMITS = {
  concurrent_max: 10,
  calls_per_minute: 60,
  daily_calls_max: 10_000,
  daily_minutes_max: 100_000,
} as const;

export type CallLimits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

const cap = (max: number) => z.int("must be a whole number").min(0, "must be 0 or more (0 blocks that dimension)").max(max, `must be at most ${max}`);

export const capsSchema = z.object({
  concurrent_max: cap(100_000).optional(),
  calls_per_minute: cap(1_000_000).optional(),
  daily_calls_max: cap(100_000_000).optional(),
  daily_minutes_max: cap(100_000_000).optional(),
});

export type AccountRow = typeof accounts.$inferSelect;

export const limitsView = (row: AccountRow): CallLimits => ({
  concurrent_max: row.concurrentMax,
  calls_per_minute: row.callsPerMinute,
  daily_calls_max: row.dailyCallsMax,
  daily_minutes_max: row.dailyMinutesMax,
});

export const accountView = (row: AccountRow) => ({
  id: row.id,
  name: row.name,
  ...limitsView(row),
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

export async function loadAccount(env: Env, accountId: string): Promise<AccountRow | undefined> {
  return database(env).select().from(accounts).where(eq(accounts.id, accountId)).get();
}
