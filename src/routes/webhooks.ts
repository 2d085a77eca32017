import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, count, desc, eq } from "drizzle-orm";
import { getAccountStub } from "../accounts/stub";
import { database, nowIso } from "../db/client";
import { findInAccount, pageByAccount } from "../db/queries";
import { webhookDeliveries, webhookDeliveryStatuses, webhookEndpoints } from "../db/schema";
import type { AppEnv, Env } from "../env";
import { encryptSecret } from "../http/crypto";
import { badRequest, conflict, notFound, quoted } from "../http/errors";
import { tenantBatch } from "../http/key-check";
import {
  enumQuery,
  errors,
  idParam,
  json,
  jsonBody,
  listEnvelopeSchema,
  noContent,
  pageQuery,
  requireJsonBody,
  TENANT_ERRORS,
  validationHook,
} from "../http/openapi";
import { listEnvelope } from "../http/validation";
import { newId } from "../ids";
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from "../outbox/event-types";
import { newWebhookSecret } from "../outbox/signing";
import { checkWebhookUrl, MAX_URL_LENGTH, urlPolicyFor } from "../outbox/url-policy";

/** Every endpoint multiplies each message; a bound keeps one account's fan-out predictable. */
export const MAX_ENDPOINTS_PER_ACCOUNT = 20;

const endpointFields = {
  url: z
    .string("is required")
    .trim()
    .min(1, "must not be empty")
    .max(MAX_URL_LENGTH)
    .describe("https to a public address; plain http only to loopback where the simulator is enabled. Redirects are not followed."),
  // Unknown names are checked by parseEvents, whose sentence names them and lists the types.
  events: z
    .array(z.string().openapi({ enum: [...WEBHOOK_EVENT_TYPES] }), "must be an array of event types")
    .describe("The event types to receive; leave it out to receive every type."),
  description: z.string().trim().max(500).nullable(),
  enabled: z.boolean("must be true or false"),
};

const createEndpointSchema = z.object({
  url: endpointFields.url,
  events: endpointFields.events.optional(),
  description: endpointFields.description.optional(),
  enabled: endpointFields.enabled.optional(),
});
const updateEndpointSchema = z.object(endpointFields).partial();

const endpointSchema = z
  .object({
    id: z.string().openapi({ example: "whk_01jz3k4m5n6p7q8r9s0t1v2w3x" }),
    url: z.string().describe("The URL as it was checked (normalised by the URL parser)."),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable().describe("Why the endpoint is disabled (by PATCH, at create, or after 3 days of failures), or null."),
    created_at: z.string(),
  })
  .openapi("WebhookEndpoint");

const createdEndpointSchema = endpointSchema
  .extend({ secret: z.string().describe("`whsec_…`, shown in this response only: keep it to verify deliveries.") })
  .openapi("NewWebhookEndpoint");

const deliverySchema = z
  .object({
    message_id: z.string().describe("The `webhook-id` the message arrives with."),
    type: z.enum(WEBHOOK_EVENT_TYPES),
    status: z.enum(webhookDeliveryStatuses),
    attempts: z.int(),
    last_status_code: z.int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable().describe("When a pending delivery is tried next; null once delivered or failed."),
    created_at: z.string(),
  })
  .openapi("WebhookDelivery");

const endpointId = idParam("The webhook endpoint's id, `whk_…`.");
const tags = ["Webhook endpoints"];

type EndpointRow = typeof webhookEndpoints.$inferSelect;

const endpointView = (row: EndpointRow) => ({
  id: row.id,
  url: row.url,
  events: JSON.parse(row.events) as (typeof WEBHOOK_EVENT_TYPES)[number][],
  description: row.description,
  enabled: row.enabled,
  disabled_reason: row.disabledReason,
  created_at: row.createdAt,
});

/** The subscribed types in their canonical order; an unknown name is a 400 that names it. */
function parseEvents(events: string[]): string[] {
  const unknown = events.filter((e) => !isWebhookEventType(e));
  if (unknown.length > 0) {
    throw badRequest(`events: ${unknown.slice(0, 5).map(quoted).join(", ")} is not an event type; use any of ${WEBHOOK_EVENT_TYPES.join(", ")}.`);
  }
  if (events.length === 0) throw badRequest("events must name at least one event type; leave it out to receive every type.");
  return WEBHOOK_EVENT_TYPES.filter((t) => events.includes(t));
}

function checkedUrl(env: Env, raw: string): string {
  const check = checkWebhookUrl(raw, urlPolicyFor(env));
  if (!check.ok) throw badRequest(check.reason);
  return check.url.href;
}

async function endpointInAccount(env: Env, accountId: string, id: string): Promise<EndpointRow> {
  const row = await findInAccount(database(env), webhookEndpoints, accountId, id);
  if (!row) throw notFound("Webhook endpoint", id);
  return row;
}

export const webhookRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Create a webhook endpoint",
      middleware: requireJsonBody,
      request: { body: jsonBody(createEndpointSchema) },
      responses: {
        201: json(createdEndpointSchema, "The new endpoint with its signing secret."),
        ...errors([...TENANT_ERRORS, 409, 415], { 409: `The account already has ${MAX_ENDPOINTS_PER_ACCOUNT} endpoints.` }),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const url = checkedUrl(c.env, body.url);
      const events = body.events === undefined ? [...WEBHOOK_EVENT_TYPES] : parseEvents(body.events);
      const db = database(c.env);
      const accountId = c.var.caller.accountId;
      const [existing] = await db.select({ n: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.accountId, accountId));
      if ((existing?.n ?? 0) >= MAX_ENDPOINTS_PER_ACCOUNT) {
        throw conflict(`This account already has ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints, the most it may have; delete one first.`);
      }
      const secret = newWebhookSecret();
      const now = nowIso();
      const row: EndpointRow = {
        id: newId("whk"),
        accountId,
        url,
        events: JSON.stringify(events),
        description: body.description ?? null,
        secret: await encryptSecret(secret, c.env.SECRETS_KEY),
        enabled: body.enabled ?? true,
        disabledReason: body.enabled === false ? "Created disabled." : null,
        failingSince: null,
        lastSuccessAt: null,
        createdAt: now,
        updatedAt: now,
      };
      await db.insert(webhookEndpoints).values(row);
      // The secret is shown in this response only; it is stored encrypted.
      return c.json({ ...endpointView(row), secret }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List webhook endpoints",
      request: { query: z.object(pageQuery({ limit: 50, maxLimit: 100 })) },
      responses: { 200: json(listEnvelopeSchema("webhooks", endpointSchema, "WebhookEndpointList"), "Endpoints, newest first."), ...errors(TENANT_ERRORS) },
    }),
    async (c) => {
      const { limit = 50, offset = 0 } = c.req.valid("query");
      const page = { limit, offset };
      const { rows, total } = await pageByAccount(database(c.env), tenantBatch(c), webhookEndpoints, c.var.caller.accountId, page);
      return c.json(listEnvelope("webhooks", rows.map(endpointView), total, page), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a webhook endpoint",
      request: { params: endpointId },
      responses: { 200: json(endpointSchema, "The endpoint (without its secret)."), ...errors([...TENANT_ERRORS, 404]) },
    }),
    async (c) => c.json(endpointView(await endpointInAccount(c.env, c.var.caller.accountId, c.req.valid("param").id)), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      summary: "Change a webhook endpoint",
      description: "`enabled: true` re-enables a disabled endpoint and restarts its 3-day failure clock; so does a new `url`.",
      middleware: requireJsonBody,
      request: { params: endpointId, body: jsonBody(updateEndpointSchema, "Only the fields given change.") },
      responses: { 200: json(endpointSchema, "The endpoint as it now is."), ...errors([...TENANT_ERRORS, 404, 415]) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const current = await endpointInAccount(c.env, c.var.caller.accountId, c.req.valid("param").id);
      const url = body.url === undefined ? undefined : checkedUrl(c.env, body.url);
      const events = body.events === undefined ? undefined : parseEvents(body.events);
      const enabling = body.enabled === true && !current.enabled;
      const disabling = body.enabled === false && current.enabled;
      const [row] = await database(c.env)
        .update(webhookEndpoints)
        .set({
          ...(url !== undefined && { url }),
          ...(events !== undefined && { events: JSON.stringify(events) }),
          ...(body.description !== undefined && { description: body.description }),
          ...(enabling && { enabled: true, disabledReason: null }),
          ...(disabling && { enabled: false, disabledReason: "Disabled with PATCH." }),
          // Re-enabling or moving the endpoint starts its 3-day failure clock again.
          ...((enabling || (url !== undefined && url !== current.url)) && { failingSince: null }),
          updatedAt: nowIso(),
        })
        .where(and(eq(webhookEndpoints.id, current.id), eq(webhookEndpoints.accountId, c.var.caller.accountId)))
        .returning();
      if (!row) throw notFound("Webhook endpoint", current.id);
      return c.json(endpointView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a webhook endpoint and its delivery log",
      request: { params: endpointId },
      responses: { 204: noContent("Deleted."), ...errors([...TENANT_ERRORS, 404]) },
    }),
    async (c) => {
      const current = await endpointInAccount(c.env, c.var.caller.accountId, c.req.valid("param").id);
      const db = database(c.env);
      await db.batch([
        db.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, current.id)),
        db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, current.id)),
      ]);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/test",
      tags,
      summary: "Send a ping to a webhook endpoint",
      description: "The ping goes through the outbox like any message, whatever types the endpoint subscribes to.",
      request: { params: endpointId },
      responses: {
        202: json(z.object({ message_id: z.string().describe("The `webhook-id` the ping arrives with.") }).openapi("WebhookTest"), "The ping is queued."),
        ...errors([...TENANT_ERRORS, 404, 409], { 409: "The endpoint is disabled; PATCH it with `enabled: true` first." }),
      },
    }),
    async (c) => {
      const accountId = c.var.caller.accountId;
      const endpoint = await endpointInAccount(c.env, accountId, c.req.valid("param").id);
      if (!endpoint.enabled) {
        throw conflict(`Webhook endpoint ${endpoint.id} is disabled (${endpoint.disabledReason ?? "no reason given"}); PATCH it with "enabled": true first.`);
      }
      const messageId = await getAccountStub(c.env, accountId).sendWebhookPing(accountId, endpoint.id);
      return c.json({ message_id: messageId }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/deliveries",
      tags,
      summary: "List an endpoint's deliveries",
      description: "Newest first. The outboxes update this log at most once a second while they work.",
      request: {
        params: endpointId,
        query: z.object({ ...pageQuery({ limit: 50, maxLimit: 500 }), status: enumQuery("status", webhookDeliveryStatuses) }),
      },
      responses: {
        200: json(listEnvelopeSchema("deliveries", deliverySchema, "WebhookDeliveryList"), "Deliveries, newest first."),
        ...errors([...TENANT_ERRORS, 404]),
      },
    }),
    async (c) => {
      const endpoint = await endpointInAccount(c.env, c.var.caller.accountId, c.req.valid("param").id);
      const { limit = 50, offset = 0, status } = c.req.valid("query");
      const page = { limit, offset };
      const db = database(c.env);
      const where = and(eq(webhookDeliveries.endpointId, endpoint.id), status && eq(webhookDeliveries.status, status));
      const [rows, [totals]] = await Promise.all([
        db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.messageId)).limit(page.limit).offset(page.offset),
        db.select({ n: count() }).from(webhookDeliveries).where(where),
      ]);
      const deliveries = rows.map((r) => ({
        message_id: r.messageId,
        type: r.type as (typeof WEBHOOK_EVENT_TYPES)[number],
        status: r.status,
        attempts: r.attempts,
        last_status_code: r.lastStatusCode,
        last_error: r.lastError,
        next_attempt_at: r.nextAttemptAt,
        created_at: r.createdAt,
      }));
      return c.json(listEnvelope("deliveries", deliveries, totals?.n ?? 0, page), 200);
    },
  );
