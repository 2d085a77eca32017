import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, count, desc, eq, gt, isNull, or } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { apiKeyView, mintApiKey } from "../accounts/api-keys";
import { limitsView, loadAccount } from "../accounts/limits";
import { database, nowIso } from "../db/client";
import { apiKeys } from "../db/schema";
import type { AppEnv } from "../env";
import { forbidden, notFound } from "../http/errors";
import { errors, idParam, json, jsonBody, listEnvelopeSchema, noContent, pageQuery, requireJsonBody, TENANT_ERRORS, validationHook } from "../http/openapi";
import { listEnvelope } from "../http/validation";

const EXPIRY_DAYS = { never: null, "30d": 30, "90d": 90, "1y": 365 } as const;

const createKeySchema = z.object({
  name: z.string("is required").trim().min(1, "must not be empty").max(200),
  expiry: z.enum(["never", "30d", "90d", "1y"], 'must be one of "never", "30d", "90d", "1y"').default("never"),
});

const callLimitsSchema = z
  .object({
    concurrent_max: z.int().describe("Calls in flight at once across the account's campaigns."),
    calls_per_minute: z.int().describe("Originations per minute."),
    daily_calls_max: z.int().describe("Dials per UTC day."),
    daily_minutes_max: z.int().describe("Talk minutes per UTC day."),
  })
  .openapi("CallLimits", { description: "The account's caps; 0 blocks that dimension." });

const apiKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_01jz3k4m5n6p7q8r9s0t1v2w3x" }),
    name: z.string(),
    last8: z.string().describe("The key's last eight characters, to tell keys apart."),
    created_at: z.string(),
    expires_at: z.string().nullable(),
  })
  .openapi("ApiKey");

export const newApiKeySchema = apiKeySchema
  .extend({ key: z.string().describe("The key itself, `sk_live_<account>_<secret>`: shown this once and never again.") })
  .openapi("NewApiKey");

const apiKeyListSchema = listEnvelopeSchema("api_keys", apiKeySchema, "ApiKeyList");

/** A leaked API key must not be able to mint or revoke keys: only interactive sessions may. */
const requireSession = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.caller.kind !== "session") throw forbidden("API keys cannot create or revoke API keys; sign in with a session token to manage keys.");
  await next();
});

const activeKey = (accountId: string) =>
  and(eq(apiKeys.accountId, accountId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, nowIso())));

const sessionOnly = "API keys cannot create or revoke keys (a leaked key cannot mint another); sign in with a session token.";

export const accountRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(
    createRoute({
      method: "get",
      path: "/call-limits",
      tags: ["Account"],
      summary: "The account's call caps (read-only)",
      responses: { 200: json(callLimitsSchema, "The caps."), ...errors([...TENANT_ERRORS, 404]) },
    }),
    async (c) => {
      const account = await loadAccount(c.env, c.var.caller.accountId);
      if (!account) throw notFound("Account", c.var.caller.accountId);
      return c.json(limitsView(account), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/api-keys",
      tags: ["Account"],
      summary: "List the account's active API keys",
      description: "Any credential may list keys; only `last8` of each is shown.",
      request: { query: z.object(pageQuery({ limit: 50, maxLimit: 100 })) },
      responses: { 200: json(apiKeyListSchema, "Active (not revoked, not expired) keys, newest first."), ...errors(TENANT_ERRORS) },
    }),
    async (c) => {
      const { limit = 50, offset = 0 } = c.req.valid("query");
      const db = database(c.env);
      const where = activeKey(c.var.caller.accountId);
      const [rows, [totals]] = await db.batch([
        db.select().from(apiKeys).where(where).orderBy(desc(apiKeys.id)).limit(limit).offset(offset),
        db.select({ n: count() }).from(apiKeys).where(where),
      ]);
      return c.json(listEnvelope("api_keys", rows.map(apiKeyView), totals?.n ?? 0, { limit, offset }), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/api-keys",
      tags: ["Account"],
      summary: "Create an API key (session tokens only)",
      middleware: [requireSession, requireJsonBody] as const,
      request: { body: jsonBody(createKeySchema) },
      responses: { 201: json(newApiKeySchema, "The new key, with the key itself shown once."), ...errors([...TENANT_ERRORS, 415], { 403: sessionOnly }) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const days = EXPIRY_DAYS[body.expiry];
      const expiresAt = days === null ? null : nowIso(Date.now() + days * 86_400_000);
      return c.json(await mintApiKey(c.env, c.var.caller.accountId, body.name, expiresAt), 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/api-keys/{id}",
      tags: ["Account"],
      summary: "Revoke an API key (session tokens only)",
      middleware: requireSession,
      request: { params: idParam("The key's id, `key_…`.") },
      responses: { 204: noContent("Revoked: the key is refused from now on."), ...errors([...TENANT_ERRORS, 404], { 403: sessionOnly }) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const revoked = await database(c.env)
        .update(apiKeys)
        .set({ revokedAt: nowIso() })
        .where(and(eq(apiKeys.id, id), activeKey(c.var.caller.accountId)))
        .returning({ id: apiKeys.id });
      if (revoked.length === 0) throw notFound("API key", id);
      return c.body(null, 204);
    },
  );
