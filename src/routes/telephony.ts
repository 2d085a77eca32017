import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { SIMULATOR_DIALECTS, type SimulatorDialect, simulatorCredentials } from "../carriers/registry";
import { database, nowIso } from "../db/client";
import { findInAccount, liveCampaignsUsing, pageByAccount } from "../db/queries";
import { agents, phoneNumbers, providers } from "../db/schema";
import type { AppEnv, Env } from "../env";
import { encryptSecret } from "../http/crypto";
import { badRequest, conflict, notFound } from "../http/errors";
import { listEnvelope, parsePage, readJson } from "../http/validation";
import { newId } from "../ids";

const PROVIDERS = ["twilio", "plivo", "vobiz", "simulator"] as const;
type ProviderKind = (typeof PROVIDERS)[number];

const REQUIRED_CREDENTIALS: Record<ProviderKind, readonly string[]> = {
  twilio: ["account_sid", "auth_token"],
  plivo: ["auth_id", "auth_token"],
  vobiz: ["auth_id", "auth_token"],
  simulator: [],
};

export const simulatorEnabled = (env: Env) => env.SIMULATOR_ENABLED === "true";

const createProviderSchema = z.object({
  provider: z.enum(PROVIDERS, `must be one of ${PROVIDERS.join(", ")}`),
  name: z.string().trim().max(200).optional(),
  credentials: z.record(z.string(), z.string("values must be strings")).default({}),
});

type ProviderRow = typeof providers.$inferSelect;

// Credentials are write-only: no view ever includes them.
const providerView = (row: ProviderRow) => ({
  id: row.id,
  provider: row.provider,
  name: row.name,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

const E164 = /^\+[1-9]\d{6,14}$/;

const numberFlags = {
  agent_id: z.string().nullable().optional(),
  inbound_enabled: z.boolean("must be true or false").optional(),
  outbound_enabled: z.boolean("must be true or false").optional(),
};

const createNumberSchema = z.object({
  e164: z.string("is required").regex(E164, "must be E.164: + then 7 to 15 digits, e.g. +14155550100"),
  credentials_id: z.string("is required"),
  provider: z.enum(PROVIDERS, `must be one of ${PROVIDERS.join(", ")}`),
  ...numberFlags,
});

type NumberRow = typeof phoneNumbers.$inferSelect;

const numberView = (row: NumberRow) => ({
  id: row.id,
  e164: row.e164,
  credentials_id: row.credentialsId,
  provider: row.provider,
  agent_id: row.agentId,
  inbound_enabled: row.inboundEnabled,
  outbound_enabled: row.outboundEnabled,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

async function requireAgentIfGiven(env: Env, accountId: string, agentId: string | null | undefined) {
  if (!agentId) return;
  if (!(await findInAccount(database(env), agents, accountId, agentId))) throw badRequest(`agent_id ${agentId} is not an agent of this account.`);
}

export const telephonyRoutes = new Hono<AppEnv>()
  .post("/providers", async (c) => {
    const body = await readJson(c, createProviderSchema);
    if (body.provider === "simulator" && !simulatorEnabled(c.env)) {
      throw badRequest("The simulator carrier is not enabled on this deployment; use twilio, plivo or vobiz.");
    }
    const missing = REQUIRED_CREDENTIALS[body.provider].filter((field) => !body.credentials[field]?.trim());
    if (missing.length > 0) throw badRequest(`${body.provider} credentials need ${missing.join(" and ")}.`);
    // The simulator needs no credentials from the caller: it gets its own pair in the wire format of its dialect.
    const dialect = body.credentials.dialect ?? "twilio";
    if (body.provider === "simulator" && !(SIMULATOR_DIALECTS as readonly string[]).includes(dialect)) {
      throw badRequest(`credentials.dialect "${dialect}" is not a simulator dialect; use one of ${SIMULATOR_DIALECTS.join(", ")} (default twilio).`);
    }
    const credentials = body.provider === "simulator" ? await simulatorCredentials(c.env, dialect as SimulatorDialect) : body.credentials;
    const now = nowIso();
    const row: ProviderRow = {
      id: newId("prov"),
      accountId: c.var.caller.accountId,
      provider: body.provider,
      name: body.name ?? null,
      credentials: await encryptSecret(JSON.stringify(credentials), c.env.SECRETS_KEY),
      createdAt: now,
      updatedAt: now,
    };
    await database(c.env).insert(providers).values(row);
    return c.json(providerView(row), 201);
  })
  .get("/providers", async (c) => {
    const page = parsePage(c, { limit: 50, maxLimit: 100 });
    const { rows, total } = await pageByAccount(database(c.env), providers, c.var.caller.accountId, page);
    return c.json(listEnvelope("providers", rows.map(providerView), total, page));
  })
  .get("/providers/:id", async (c) => {
    const row = await findInAccount(database(c.env), providers, c.var.caller.accountId, c.req.param("id"));
    if (!row) throw notFound("Provider", c.req.param("id"));
    return c.json(providerView(row));
  })
  .delete("/providers/:id", async (c) => {
    const db = database(c.env);
    const id = c.req.param("id");
    if (!(await findInAccount(db, providers, c.var.caller.accountId, id))) throw notFound("Provider", id);
    const used = await db.select({ id: phoneNumbers.id }).from(phoneNumbers).where(eq(phoneNumbers.credentialsId, id)).limit(5);
    if (used.length > 0) throw conflict(`Provider ${id} is used by number ${used.map((n) => n.id).join(", ")}; delete those numbers first.`);
    await db.delete(providers).where(eq(providers.id, id));
    return c.body(null, 204);
  })
  .post("/numbers", async (c) => {
    const body = await readJson(c, createNumberSchema);
    const accountId = c.var.caller.accountId;
    const db = database(c.env);
    const provider = await findInAccount(db, providers, accountId, body.credentials_id);
    if (!provider) throw badRequest(`credentials_id ${body.credentials_id} is not a provider of this account.`);
    if (provider.provider !== body.provider) {
      throw badRequest(`provider is "${body.provider}" but credentials ${provider.id} are for "${provider.provider}".`);
    }
    await requireAgentIfGiven(c.env, accountId, body.agent_id);
    const now = nowIso();
    const row: NumberRow = {
      id: newId("pn"),
      accountId,
      e164: body.e164,
      credentialsId: provider.id,
      provider: provider.provider,
      agentId: body.agent_id ?? null,
      inboundEnabled: body.inbound_enabled ?? true,
      outboundEnabled: body.outbound_enabled ?? true,
      createdAt: now,
      updatedAt: now,
    };
    const inserted = await db.insert(phoneNumbers).values(row).onConflictDoNothing().returning({ id: phoneNumbers.id });
    if (inserted.length === 0) throw badRequest(`${body.e164} is already registered in this account.`);
    return c.json(numberView(row), 201);
  })
  .get("/numbers", async (c) => {
    const page = parsePage(c, { limit: 50, maxLimit: 100 });
    const { rows, total } = await pageByAccount(database(c.env), phoneNumbers, c.var.caller.accountId, page);
    return c.json(listEnvelope("numbers", rows.map(numberView), total, page));
  })
  .get("/numbers/:id", async (c) => {
    const row = await findInAccount(database(c.env), phoneNumbers, c.var.caller.accountId, c.req.param("id"));
    if (!row) throw notFound("Phone number", c.req.param("id"));
    return c.json(numberView(row));
  })
  .patch("/numbers/:id", async (c) => {
    const body = await readJson(c, z.object(numberFlags));
    const id = c.req.param("id");
    const accountId = c.var.caller.accountId;
    await requireAgentIfGiven(c.env, accountId, body.agent_id);
    const [row] = await database(c.env)
      .update(phoneNumbers)
      .set({
        ...(body.agent_id !== undefined && { agentId: body.agent_id }),
        ...(body.inbound_enabled !== undefined && { inboundEnabled: body.inbound_enabled }),
        ...(body.outbound_enabled !== undefined && { outboundEnabled: body.outbound_enabled }),
        updatedAt: nowIso(),
      })
      .where(and(eq(phoneNumbers.id, id), eq(phoneNumbers.accountId, accountId)))
      .returning();
    if (!row) throw notFound("Phone number", id);
    return c.json(numberView(row));
  })
  .delete("/numbers/:id", async (c) => {
    const db = database(c.env);
    const id = c.req.param("id");
    if (!(await findInAccount(db, phoneNumbers, c.var.caller.accountId, id))) throw notFound("Phone number", id);
    const users = await liveCampaignsUsing(db, "phoneNumberId", id);
    if (users.length > 0) throw conflict(`Number ${id} is used by campaign ${users.map((u) => u.id).join(", ")}; stop or delete those campaigns first.`);
    await db.delete(phoneNumbers).where(eq(phoneNumbers.id, id));
    return c.body(null, 204);
  });
