import { and, count, desc, eq, gt, isNull, or } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { apiKeyView, mintApiKey } from "../accounts/api-keys";
import { limitsView, loadAccount } from "../accounts/limits";
import { database, nowIso } from "../db/client";
import { apiKeys } from "../db/schema";
import type { AppEnv, Caller } from "../env";
import { forbidden, notFound } from "../http/errors";
import { listEnvelope, parsePage, readJson } from "../http/validation";

const EXPIRY_DAYS = { never: null, "30d": 30, "90d": 90, "1y": 365 } as const;

const createKeySchema = z.object({
  name: z.string("is required").trim().min(1, "must not be empty").max(200),
  expiry: z.enum(["never", "30d", "90d", "1y"], 'must be one of "never", "30d", "90d", "1y"').default("never"),
});

/** A leaked API key must not be able to mint or revoke keys: only interactive sessions may. */
function requireSession(caller: Caller) {
  if (caller.kind !== "session") throw forbidden("API keys cannot create or revoke API keys; sign in with a session token to manage keys.");
}

const activeKey = (accountId: string) =>
  and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, nowIso())));

export const accountRoutes = new Hono<AppEnv>()
  .get("/call-limits", async (c) => {
    const account = await loadAccount(c.env, c.var.caller.accountId);
    if (!account) throw notFound("Account", c.var.caller.accountId);
    return c.json(limitsView(account));
  })
  .get("/api-keys", async (c) => {
    const page = parsePage(c, { limit: 50, maxLimit: 100 });
    const db = database(c.env);
    const where = activeKey(c.var.caller.accountId);
    const [rows, [totals]] = await Promise.all([
      db.select().from(apiKeys).where(where).orderBy(desc(apiKeys.id)).limit(page.limit).offset(page.offset),
      db.select({ n: count() }).from(apiKeys).where(where),
    ]);
    return c.json(listEnvelope("api_keys", rows.map(apiKeyView), totals?.n ?? 0, page));
  })
  .post("/api-keys", async (c) => {
    requireSession(c.var.caller);
    const body = await readJson(c, createKeySchema);
    const days = EXPIRY_DAYS[body.expiry];
    const expiresAt = days === null ? null : nowIso(Date.now() + days * 86_400_000);
    return c.json(await mintApiKey(c.env, c.var.caller.accountId, body.name, expiresAt), 201);
  })
  .delete("/api-keys/:id", async (c) => {
    requireSession(c.var.caller);
    const id = c.req.param("id");
    const revoked = await database(c.env)
      .update(apiKeys)
      .set({ revokedAt: nowIso() })
      .where(and(eq(apiKeys.id, id), activeKey(c.var.caller.accountId)))
      .returning({ id: apiKeys.id });
    if (revoked.length === 0) throw notFound("API key", id);
    return c.body(null, 204);
  });
