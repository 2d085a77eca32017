import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { routePath } from "hono/route";
import { type Database, database, type ReadBatch } from "../db/client";
import { apiKeys } from "../db/schema";
import type { AppEnv, Caller } from "../env";
import { type ApiError, unauthorized } from "./errors";
import { API_MOUNTS } from "./mounts";

type KeyRow = typeof apiKeys.$inferSelect;

/**
 * The reads whose first D1 access is one `tenantBatch`: with an API key, the key's check rides in
 * that batch instead of costing a round trip of its own. Only plain reads are here: nothing they
 * do before that batch changes anything or leaves the Worker.
 */
const BATCHED_READS = ["/campaigns", "/campaigns/:id", "/campaigns/:id/contacts", "/agents", "/telephony/providers", "/telephony/numbers", "/webhooks"];
const literally = (path: string) => path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const BATCHED_READ_PATH = new RegExp(`^(?:${API_MOUNTS.map(literally).join("|")})(?:${BATCHED_READS.map(literally).join("|")})$`);

export const invalidKey = () => unauthorized("The API key is invalid, revoked or expired.");

/** The key's row, if it is one that may be used now by the account the key names; otherwise the 401. */
export function acceptedKey(row: KeyRow | undefined, claimedAccount: string, now = Date.now()): KeyRow {
  if (!row || row.accountId !== claimedAccount || row.revokedAt) throw invalidKey();
  if (row.expiresAt && Date.parse(row.expiresAt) <= now) throw invalidKey();
  return row;
}

/**
 * An API key not looked up yet: the caller holds the account the key names. The route's first
 * batch reads for that account with the key's row in front, and hands nothing back until that row
 * has been accepted (`settle`); a route that made no such batch has the key looked up after it
 * (`finish`), before its answer leaves.
 */
class PendingKeyCheck {
  private verdict: "pending" | "accepted" | ApiError = "pending";

  constructor(
    private readonly hash: string,
    readonly caller: Caller,
  ) {}

  get accepted() {
    return this.verdict === "accepted";
  }

  query(db: Database) {
    return db.select().from(apiKeys).where(eq(apiKeys.hash, this.hash));
  }

  /** Judges the key's row as the batch found it; throws the 401 for a key that may not be used. */
  settle(rows: KeyRow[]) {
    try {
      this.caller.actor = acceptedKey(rows[0], this.caller.accountId).id;
      this.verdict = "accepted";
    } catch (error) {
      this.verdict = error as ApiError;
      throw error;
    }
  }

  /** After the route: looks the key up if no batch did, and throws its 401 if it was refused. */
  async finish(db: Database) {
    if (this.verdict === "pending") this.settle(await this.query(db).all());
    if (this.verdict !== "accepted") throw this.verdict;
  }
}

const pending = new WeakMap<Request, PendingKeyCheck>();

/**
 * Whether this request's API key may be checked with the route's first read: a GET of one of the
 * batched reads, on the primary (a session may read a replica that has not seen a revocation yet),
 * not a WebSocket, and with no X-Account-ID that would need answering first.
 */
export function mayBatchKeyCheck(c: Context<AppEnv>, claimedAccount: string, headerAccount: string | undefined): boolean {
  if (c.req.method !== "GET" || c.req.header("x-d1-bookmark") !== undefined || c.req.header("Upgrade") !== undefined) return false;
  if (headerAccount !== undefined && headerAccount !== claimedAccount) return false;
  return BATCHED_READ_PATH.test(routePath(c, -1));
}

/** Registers the key to be checked with the route's first batch; answers the check, to finish after the route. */
export function deferKeyCheck(c: Context<AppEnv>, hash: string, accountId: string): PendingKeyCheck {
  const check = new PendingKeyCheck(hash, { accountId, actor: "api_key", kind: "api_key" });
  pending.set(c.req.raw, check);
  return check;
}

/**
 * A tenant read's D1 batch: `db.batch`, with the caller's API key check in front while it is still
 * to be made. The route's rows are only handed back once the key has been accepted.
 */
export function tenantBatch(c: Context<AppEnv>): ReadBatch {
  const db = database(c.env);
  const check = pending.get(c.req.raw);
  if (!check || check.accepted) return db.batch.bind(db);
  const withCheck = async (queries: Parameters<ReadBatch>[0]) => {
    const [keyRows, ...rows] = await db.batch([check.query(db), ...queries]);
    check.settle(keyRows as KeyRow[]);
    return rows;
  };
  return withCheck as unknown as ReadBatch;
}
