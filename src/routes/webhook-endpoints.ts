import { and, count, desc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { getAccountStub } from "../accounts/account-do";
import { database, nowIso } from "../db/client";
import { findInAccount, pageByAccount } from "../db/queries";
import { webhookDeliveries, webhookDeliveryStatuses, webhookEndpoints } from "../db/schema";
import type { AppEnv, Env } from "../env";
import { encryptSecret } from "../http/crypto";
import { badRequest, conflict, notFound } from "../http/errors";
import { listEnvelope, parseEnum, parsePage, readJson } from "../http/validation";
import { newId } from "../ids";
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from "../outbox/event-types";
import { newWebhookSecret } from "../outbox/signing";
import { checkWebhookUrl, MAX_URL_LENGTH, urlPolicyFor } from "../outbox/url-policy";

/** Every endpoint multiplies each message; a bound keeps one account's fan-out predictable. */
export const MAX_ENDPOINTS_PER_ACCOUNT = 20;

const endpointFields = {
  url: z.string("is required").trim().min(1, "must not be empty").max(MAX_URL_LENGTH),
  events: z.array(z.string(), "must be an array of event types"),
  description: z.string().trim().max(500).nullable(),
  enabled: z.boolean("must be true or false"),
};

type EndpointRow = typeof webhookEndpoints.$inferSelect;

const endpointView = (row: EndpointRow) => ({
  id: row.id,
  url: row.url,
  events: JSON.parse(row.events) as string[],
  description: row.description,
  enabled: row.enabled,
  disabled_reason: row.disabledReason,
  created_at: row.createdAt,
});

/** The subscribed types in their canonical order; an unknown name is a 400 that names it. */
function parseEvents(events: string[]): string[] {
  const unknown = events.filter((e) => !isWebhookEventType(e));
  if (unknown.length > 0) {
    throw badRequest(`events: ${unknown.map((e) => `"${e}"`).join(", ")} is not an event type; use any of ${WEBHOOK_EVENT_TYPES.join(", ")}.`);
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

export const webhookEndpointRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJson(
      c,
      z.object({
        url: endpointFields.url,
        events: endpointFields.events.optional(),
        description: endpointFields.description.optional(),
        enabled: endpointFields.enabled.optional(),
      }),
    );
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
  })
  .get("/", async (c) => {
    const page = parsePage(c, { limit: 50, maxLimit: 100 });
    const { rows, total } = await pageByAccount(database(c.env), webhookEndpoints, c.var.caller.accountId, page);
    return c.json(listEnvelope("webhooks", rows.map(endpointView), total, page));
  })
  .get("/:id", async (c) => c.json(endpointView(await endpointInAccount(c.env, c.var.caller.accountId, c.req.param("id")))))
  .patch("/:id", async (c) => {
    const body = await readJson(c, z.object(endpointFields).partial());
    const current = await endpointInAccount(c.env, c.var.caller.accountId, c.req.param("id"));
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
    return c.json(endpointView(row));
  })
  .delete("/:id", async (c) => {
    const current = await endpointInAccount(c.env, c.var.caller.accountId, c.req.param("id"));
    const db = database(c.env);
    await db.batch([
      db.delete(webhookDeliveries).where(eq(webhookDeliveries.endpointId, current.id)),
      db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, current.id)),
    ]);
    return c.body(null, 204);
  })
  .post("/:id/test", async (c) => {
    const accountId = c.var.caller.accountId;
    const endpoint = await endpointInAccount(c.env, accountId, c.req.param("id"));
    if (!endpoint.enabled) {
      throw conflict(`Webhook endpoint ${endpoint.id} is disabled (${endpoint.disabledReason ?? "no reason given"}); PATCH it with "enabled": true first.`);
    }
    const messageId = await getAccountStub(c.env, accountId).sendWebhookPing(accountId, endpoint.id);
    return c.json({ message_id: messageId }, 202);
  })
  .get("/:id/deliveries", async (c) => {
    const endpoint = await endpointInAccount(c.env, c.var.caller.accountId, c.req.param("id"));
    const page = parsePage(c, { limit: 50, maxLimit: 500 });
    const status = parseEnum("status", c.req.query("status"), webhookDeliveryStatuses);
    const db = database(c.env);
    const where = and(eq(webhookDeliveries.endpointId, endpoint.id), status && eq(webhookDeliveries.status, status));
    const [rows, [totals]] = await Promise.all([
      db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.messageId)).limit(page.limit).offset(page.offset),
      db.select({ n: count() }).from(webhookDeliveries).where(where),
    ]);
    const deliveries = rows.map((r) => ({
      message_id: r.messageId,
      type: r.type,
      status: r.status,
      attempts: r.attempts,
      last_status_code: r.lastStatusCode,
      last_error: r.lastError,
      next_attempt_at: r.nextAttemptAt,
      created_at: r.createdAt,
    }));
    return c.json(listEnvelope("deliveries", deliveries, totals?.n ?? 0, page));
  });
