import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { mintApiKey } from "../accounts/api-keys";
import { accountView, capsSchema, DEFAULT_LIMITS, loadAccount } from "../accounts/limits";
import { getCampaignStub } from "../campaigns/campaign-do";
import { rearmLiveCampaigns } from "../campaigns/maintenance";
import { database, nowIso } from "../db/client";
import { accountMembers, accounts } from "../db/schema";
import type { AppEnv } from "../env";
import { ACCOUNT_ID_PATTERN, RESERVED_ACCOUNT, requireAdmin } from "../http/auth";
import { conflict, notFound } from "../http/errors";
import { readJson } from "../http/validation";

const createAccountSchema = capsSchema.extend({
  id: z
    .string("is required")
    .regex(ACCOUNT_ID_PATTERN, "must be 1–63 characters of a-z, 0-9, `_` or `-`, starting with a letter or digit")
    .refine((id) => id !== RESERVED_ACCOUNT, `"${RESERVED_ACCOUNT}" is reserved`),
  name: z.string().max(200).optional(),
});

const keySchema = z.object({ name: z.string("is required").trim().min(1, "must not be empty").max(200) });
const memberSchema = z.object({ subject: z.string("is required").trim().min(1, "must not be empty").max(255) });

async function requireAccount(env: AppEnv["Bindings"], id: string) {
  const row = await loadAccount(env, id);
  if (!row) throw notFound("Account", id);
  return row;
}

export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdmin)
  .post("/accounts", async (c) => {
    const body = await readJson(c, createAccountSchema);
    const now = nowIso();
    const row = {
      id: body.id,
      name: body.name ?? null,
      concurrentMax: body.concurrent_max ?? DEFAULT_LIMITS.concurrent_max,
      callsPerMinute: body.calls_per_minute ?? DEFAULT_LIMITS.calls_per_minute,
      dailyCallsMax: body.daily_calls_max ?? DEFAULT_LIMITS.daily_calls_max,
      dailyMinutesMax: body.daily_minutes_max ?? DEFAULT_LIMITS.daily_minutes_max,
      createdAt: now,
      updatedAt: now,
    };
    const inserted = await database(c.env).insert(accounts).values(row).onConflictDoNothing().returning({ id: accounts.id });
    if (inserted.length === 0) throw conflict(`Account "${body.id}" already exists.`);
    return c.json(accountView(row), 201);
  })
  .get("/accounts/:id", async (c) => c.json(accountView(await requireAccount(c.env, c.req.param("id")))))
  .patch("/accounts/:id", async (c) => {
    const body = await readJson(c, capsSchema.extend({ name: z.string().max(200).optional() }));
    const id = c.req.param("id");
    const changes = {
      ...(body.name !== undefined && { name: body.name }),
      ...(body.concurrent_max !== undefined && { concurrentMax: body.concurrent_max }),
      ...(body.calls_per_minute !== undefined && { callsPerMinute: body.calls_per_minute }),
      ...(body.daily_calls_max !== undefined && { dailyCallsMax: body.daily_calls_max }),
      ...(body.daily_minutes_max !== undefined && { dailyMinutesMax: body.daily_minutes_max }),
      updatedAt: nowIso(),
    };
    const [row] = await database(c.env).update(accounts).set(changes).where(eq(accounts.id, id)).returning();
    if (!row) throw notFound("Account", id);
    return c.json(accountView(row));
  })
  .post("/accounts/:id/api-keys", async (c) => {
    const body = await readJson(c, keySchema);
    const account = await requireAccount(c.env, c.req.param("id"));
    return c.json(await mintApiKey(c.env, account.id, body.name, null), 201);
  })
  .post("/accounts/:id/members", async (c) => {
    const body = await readJson(c, memberSchema);
    const account = await requireAccount(c.env, c.req.param("id"));
    const row = { accountId: account.id, subject: body.subject, createdAt: nowIso() };
    const inserted = await database(c.env).insert(accountMembers).values(row).onConflictDoNothing().returning({ s: accountMembers.subject });
    if (inserted.length === 0) throw conflict(`"${body.subject}" is already a member of account "${account.id}".`);
    return c.json({ account_id: row.accountId, subject: row.subject, created_at: row.createdAt }, 201);
  })
  .post("/maintenance/rearm", async (c) => c.json({ rearmed: await rearmLiveCampaigns(c.env) }))
  /** The dispatcher's own view of a campaign: counters, in-flight, high-water mark, origination times, carrier requests received. */
  .get("/campaigns/:id/dispatch", async (c) => {
    const id = c.req.param("id");
    const view = await getCampaignStub(c.env, id).inspect(id);
    if (!view.state) throw notFound("Campaign", id);
    return c.json({
      campaign_id: id,
      status: view.state.status,
      status_reason: view.state.status_reason,
      stats: view.stats,
      in_flight: view.in_flight,
      high_water: view.state.high_water,
      started_at: view.state.started_at,
      originations: view.originations,
      carrier_kind: view.carrier_kind,
      carrier_requests: view.carrier_requests,
      webhooks: view.webhooks,
    });
  })
  .delete("/accounts/:id/members/:subject", async (c) => {
    const { id, subject } = c.req.param();
    const removed = await database(c.env)
      .delete(accountMembers)
      .where(and(eq(accountMembers.accountId, id), eq(accountMembers.subject, subject)))
      .returning({ s: accountMembers.subject });
    if (removed.length === 0) throw notFound("Member", subject);
    return c.body(null, 204);
  });
