import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { SIMULATOR_DIALECTS, type SimulatorDialect, simulatorCredentials } from "../carriers/registry";
import { database, nowIso } from "../db/client";
import { findInAccount, liveCampaignsUsing, pageByAccount } from "../db/queries";
import { agents, phoneNumbers, providers } from "../db/schema";
import type { AppEnv, Env } from "../env";
import { encryptSecret } from "../http/crypto";
import { badRequest, conflict, notFound, quoted, shortened } from "../http/errors";
import { tenantBatch } from "../http/key-check";
import { errors, idParam, json, jsonBody, listEnvelopeSchema, noContent, pageQuery, requireJsonBody, TENANT_ERRORS, validationHook } from "../http/openapi";
import { listEnvelope } from "../http/validation";
import { newId } from "../ids";
import { E164 } from "../uploads/phone";

const PROVIDERS = ["twilio", "plivo", "vobiz", "simulator"] as const;
type ProviderKind = (typeof PROVIDERS)[number];

const REQUIRED_CREDENTIALS: Record<ProviderKind, readonly string[]> = {
  twilio: ["account_sid", "auth_token"],
  plivo: ["auth_id", "auth_token"],
  vobiz: ["auth_id", "auth_token"],
  simulator: [],
};

const simulatorEnabled = (env: Env) => env.SIMULATOR_ENABLED === "true";

const createProviderSchema = z.object({
  provider: z.enum(PROVIDERS, `must be one of ${PROVIDERS.join(", ")}`),
  name: z.string().trim().max(200).optional(),
  credentials: z
    .record(z.string(), z.string("values must be strings"))
    .default({})
    .describe(
      "Write-only, encrypted at rest, never returned. twilio: account_sid, auth_token; plivo and vobiz: auth_id, auth_token; simulator: none (optionally dialect: twilio, plivo or vobiz).",
    ),
});

const providerSchema = z
  .object({
    id: z.string().openapi({ example: "prov_01jz3k4m5n6p7q8r9s0t1v2w3x" }),
    provider: z.enum(PROVIDERS),
    name: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Provider", { description: "Telephony credentials; the credentials themselves are never returned." });

type ProviderRow = typeof providers.$inferSelect;

// Credentials are write-only: no view ever includes them.
const providerView = (row: ProviderRow) => ({
  id: row.id,
  provider: row.provider,
  name: row.name,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

const numberFlags = {
  agent_id: z.string().nullable().optional().describe("An agent of this account that answers inbound calls, or null."),
  inbound_enabled: z.boolean("must be true or false").optional().openapi({ default: true }),
  outbound_enabled: z.boolean("must be true or false").optional().openapi({ default: true, description: "Campaigns dial only from outbound-enabled numbers." }),
};

const createNumberSchema = z.object({
  e164: z.string("is required").regex(E164, "must be E.164: + then 7 to 15 digits, e.g. +14155550100").openapi({ example: "+14155550100" }),
  credentials_id: z.string("is required").describe("The provider (`prov_…`) whose credentials dial from this number."),
  provider: z.enum(PROVIDERS, `must be one of ${PROVIDERS.join(", ")}`),
  ...numberFlags,
});

const phoneNumberSchema = z
  .object({
    id: z.string().openapi({ example: "pn_01jz3k4m5n6p7q8r9s0t1v2w3x" }),
    e164: z.string(),
    credentials_id: z.string(),
    provider: z.enum(PROVIDERS),
    agent_id: z.string().nullable(),
    inbound_enabled: z.boolean(),
    outbound_enabled: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("PhoneNumber");

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
  if (!(await findInAccount(database(env), agents, accountId, agentId))) throw badRequest(`agent_id ${shortened(agentId)} is not an agent of this account.`);
}

const providerId = idParam("The provider's id, `prov_…`.");
const numberId = idParam("The number's id, `pn_…`.");
const tags = ["Telephony"];

export const telephonyRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(
    createRoute({
      method: "post",
      path: "/providers",
      tags,
      summary: "Add telephony credentials",
      middleware: requireJsonBody,
      request: { body: jsonBody(createProviderSchema) },
      responses: {
        201: json(providerSchema, "The provider, without its credentials."),
        ...errors([...TENANT_ERRORS, 415], { 400: "Invalid body, a credential the carrier needs is missing, or simulator on a deployment without it." }),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      if (body.provider === "simulator" && !simulatorEnabled(c.env)) {
        throw badRequest("The simulator carrier is not enabled on this deployment; use twilio, plivo or vobiz.");
      }
      const missing = REQUIRED_CREDENTIALS[body.provider].filter((field) => !body.credentials[field]?.trim());
      if (missing.length > 0) throw badRequest(`${body.provider} credentials need ${missing.join(" and ")}.`);
      // The simulator needs no credentials from the caller: it gets its own pair in the wire format of its dialect.
      const dialect = body.credentials.dialect ?? "twilio";
      if (body.provider === "simulator" && !(SIMULATOR_DIALECTS as readonly string[]).includes(dialect)) {
        throw badRequest(`credentials.dialect ${quoted(dialect)} is not a simulator dialect; use one of ${SIMULATOR_DIALECTS.join(", ")} (default twilio).`);
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
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/providers",
      tags,
      summary: "List telephony providers",
      request: { query: z.object(pageQuery({ limit: 50, maxLimit: 100 })) },
      responses: { 200: json(listEnvelopeSchema("providers", providerSchema, "ProviderList"), "Providers, newest first."), ...errors(TENANT_ERRORS) },
    }),
    async (c) => {
      const { limit = 50, offset = 0 } = c.req.valid("query");
      const page = { limit, offset };
      const { rows, total } = await pageByAccount(database(c.env), tenantBatch(c), providers, c.var.caller.accountId, page);
      return c.json(listEnvelope("providers", rows.map(providerView), total, page), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/providers/{id}",
      tags,
      summary: "Get a telephony provider",
      request: { params: providerId },
      responses: { 200: json(providerSchema, "The provider, without its credentials."), ...errors([...TENANT_ERRORS, 404]) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await findInAccount(database(c.env), providers, c.var.caller.accountId, id);
      if (!row) throw notFound("Provider", id);
      return c.json(providerView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/providers/{id}",
      tags,
      summary: "Delete a telephony provider",
      request: { params: providerId },
      responses: {
        204: noContent("Deleted, with its credentials."),
        ...errors([...TENANT_ERRORS, 404, 409], { 409: "Phone numbers use the provider; delete them first." }),
      },
    }),
    async (c) => {
      const db = database(c.env);
      const { id } = c.req.valid("param");
      if (!(await findInAccount(db, providers, c.var.caller.accountId, id))) throw notFound("Provider", id);
      const used = await db.select({ id: phoneNumbers.id }).from(phoneNumbers).where(eq(phoneNumbers.credentialsId, id)).limit(5);
      if (used.length > 0) throw conflict(`Provider ${id} is used by number ${used.map((n) => n.id).join(", ")}; delete those numbers first.`);
      await db.delete(providers).where(eq(providers.id, id));
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/numbers",
      tags,
      summary: "Register a phone number",
      middleware: requireJsonBody,
      request: { body: jsonBody(createNumberSchema) },
      responses: {
        201: json(phoneNumberSchema, "The number."),
        ...errors([...TENANT_ERRORS, 415], { 400: "Invalid body, unknown provider or agent, provider kind mismatch, or the number is already registered." }),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const accountId = c.var.caller.accountId;
      const db = database(c.env);
      const provider = await findInAccount(db, providers, accountId, body.credentials_id);
      if (!provider) throw badRequest(`credentials_id ${shortened(body.credentials_id)} is not a provider of this account.`);
      if (provider.provider !== body.provider) {
        throw badRequest(`provider is ${quoted(body.provider)} but credentials ${provider.id} are for "${provider.provider}".`);
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
      if (inserted.length === 0) throw badRequest(`${shortened(body.e164)} is already registered in this account.`);
      return c.json(numberView(row), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/numbers",
      tags,
      summary: "List phone numbers",
      request: { query: z.object(pageQuery({ limit: 50, maxLimit: 100 })) },
      responses: { 200: json(listEnvelopeSchema("numbers", phoneNumberSchema, "PhoneNumberList"), "Numbers, newest first."), ...errors(TENANT_ERRORS) },
    }),
    async (c) => {
      const { limit = 50, offset = 0 } = c.req.valid("query");
      const page = { limit, offset };
      const { rows, total } = await pageByAccount(database(c.env), tenantBatch(c), phoneNumbers, c.var.caller.accountId, page);
      return c.json(listEnvelope("numbers", rows.map(numberView), total, page), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/numbers/{id}",
      tags,
      summary: "Get a phone number",
      request: { params: numberId },
      responses: { 200: json(phoneNumberSchema, "The number."), ...errors([...TENANT_ERRORS, 404]) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await findInAccount(database(c.env), phoneNumbers, c.var.caller.accountId, id);
      if (!row) throw notFound("Phone number", id);
      return c.json(numberView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/numbers/{id}",
      tags,
      summary: "Change a phone number's agent or directions",
      middleware: requireJsonBody,
      request: { params: numberId, body: jsonBody(z.object(numberFlags), "Only the fields given change.") },
      responses: { 200: json(phoneNumberSchema, "The number as it now is."), ...errors([...TENANT_ERRORS, 404, 415]) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { id } = c.req.valid("param");
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
      return c.json(numberView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/numbers/{id}",
      tags,
      summary: "Delete a phone number",
      request: { params: numberId },
      responses: {
        204: noContent("Deleted."),
        ...errors([...TENANT_ERRORS, 404, 409], { 409: "A campaign that is not finished dials from the number; stop or delete it first." }),
      },
    }),
    async (c) => {
      const db = database(c.env);
      const { id } = c.req.valid("param");
      if (!(await findInAccount(db, phoneNumbers, c.var.caller.accountId, id))) throw notFound("Phone number", id);
      const users = await liveCampaignsUsing(db, "phoneNumberId", id);
      if (users.length > 0) throw conflict(`Number ${id} is used by campaign ${users.map((u) => u.id).join(", ")}; stop or delete those campaigns first.`);
      await db.delete(phoneNumbers).where(eq(phoneNumbers.id, id));
      return c.body(null, 204);
    },
  );
