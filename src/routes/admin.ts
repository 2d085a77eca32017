import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { mintApiKey } from "../accounts/api-keys";
import { accountView, capsSchema, DEFAULT_LIMITS, loadAccount } from "../accounts/limits";
import { getCampaignStub } from "../campaign-object/stub";
import { rearmLiveCampaigns } from "../campaigns/maintenance";
import { database, nowIso } from "../db/client";
import { accountMembers, accounts, campaignStatuses, contactStatuses } from "../db/schema";
import type { AppEnv } from "../env";
import { ACCOUNT_ID_PATTERN, RESERVED_ACCOUNT, requireAdmin } from "../http/auth";
import { conflict, notFound, quoted } from "../http/errors";
import { ADMIN_ERRORS, ADMIN_SECURITY, errors, json, jsonBody, noContent, requireJsonBody, validationHook } from "../http/openapi";
import { newApiKeySchema } from "./account";

const createAccountSchema = capsSchema.extend({
  id: z
    .string("is required")
    .regex(ACCOUNT_ID_PATTERN, "must be 1–63 characters of a-z, 0-9, `_` or `-`, starting with a letter or digit")
    .refine((id) => id !== RESERVED_ACCOUNT, `"${RESERVED_ACCOUNT}" is reserved`),
  name: z.string().max(200).optional(),
});

const updateAccountSchema = capsSchema.extend({ name: z.string().max(200).optional() });

const accountSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    concurrent_max: z.int(),
    calls_per_minute: z.int(),
    daily_calls_max: z.int(),
    daily_minutes_max: z.int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Account");

const memberSchema = z.object({ account_id: z.string(), subject: z.string(), created_at: z.string() }).openapi("Member");

const dispatchViewSchema = z
  .object({
    campaign_id: z.string(),
    status: z.enum(campaignStatuses),
    status_reason: z.string().nullable(),
    stats: z.record(z.enum(contactStatuses), z.int()),
    in_flight: z.int().describe("Attempts the object holds open now."),
    high_water: z.int().describe("Most attempts ever in flight at once."),
    started_at: z.string().nullable(),
    originations: z.array(z.number()).describe("Epoch milliseconds of recent originations."),
    carrier_kind: z.enum(["twilio", "plivo", "vobiz"]).nullable(),
    carrier_requests: z.record(z.enum(["callback", "answer"]), z.int()).describe("Carrier requests received, by kind."),
    dnc_check: z
      .object({
        checks: z.int(),
        numbers_checked: z.int(),
        listed_found: z.int(),
        total_ms: z.number(),
        max_ms: z.number(),
        last: z.object({ at: z.string(), numbers: z.int(), listed: z.int(), ms: z.number() }).nullable(),
      })
      .describe("The dial-time do-not-call check's cost since the object started (one query a tick)."),
    contact_ledger: z
      .object({
        requests: z.int().describe("Requests to the account's contact ledger shards (one per shard asked per tick)."),
        reserved: z.int().describe("Dials the ledger granted."),
        held_back: z.int().describe("Contacts the contact policy made wait."),
        open_reservations: z.int().describe("Reservations whose final state the ledger has not confirmed yet."),
      })
      .describe("The account contact policy's ledger as this campaign used it since the object started."),
    eligibility_check: z
      .object({
        requests: z.int(),
        failures: z.int().describe("Requests that timed out, answered non-2xx or a malformed body."),
        contacts_checked: z.int(),
        p50_ms: z.number().nullable(),
        p99_ms: z.number().nullable().describe("Over the last 1,000 requests."),
        max_ms: z.number(),
      })
      .describe("The account's pre-dial eligibility check as this campaign made it since its object started."),
    webhooks: z
      .object({
        messages: z.int().describe("Messages the object's outbox holds."),
        unrouted: z.int().describe("Messages not yet matched to the account's endpoints."),
        pending: z.int().describe("Deliveries still to be sent or retried."),
        deliveries: z.int(),
        dirty: z.int().describe("Deliveries whose state D1 does not have yet."),
        in_flight: z.int(),
        sent: z.int().describe("Requests sent since the object started."),
        runs: z.int(),
        passes: z.int(),
        mean_send_ms: z.number().nullable(),
        next_due_at: z.number().nullable().describe("Epoch milliseconds of the next due delivery, or null."),
        backfill: z
          .object({ campaign_id: z.string(), after_seq: z.int() })
          .nullable()
          .describe("Where a stop's cancellation reports continue from (contacts only in D1), or null."),
      })
      .describe("The campaign object's webhook outbox."),
  })
  .openapi("DispatchView");

const keySchema = z.object({ name: z.string("is required").trim().min(1, "must not be empty").max(200) });
const addMemberSchema = z.object({ subject: z.string("is required").trim().min(1, "must not be empty").max(255) });

async function requireAccount(env: AppEnv["Bindings"], id: string) {
  const row = await loadAccount(env, id);
  if (!row) throw notFound("Account", id);
  return row;
}

const accountId = z.object({ id: z.string().openapi({ param: { description: "The account's id." } }) });
const adminRoute = { tags: ["Platform admin"], security: ADMIN_SECURITY };

const admin = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
admin.use(requireAdmin);

export const adminRoutes = admin
  .openapi(
    createRoute({
      ...adminRoute,
      method: "post",
      path: "/accounts",
      summary: "Create an account",
      middleware: requireJsonBody,
      request: { body: jsonBody(createAccountSchema, "Caps left out take the defaults: 10, 60, 10000, 100000. A cap of 0 blocks that dimension.") },
      responses: { 201: json(accountSchema, "The account."), ...errors([...ADMIN_ERRORS, 400, 409, 415], { 409: "The account already exists." }) },
    }),
    async (c) => {
      const body = c.req.valid("json");
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
      if (inserted.length === 0) throw conflict(`Account ${quoted(body.id)} already exists.`);
      return c.json(accountView(row), 201);
    },
  )
  .openapi(
    createRoute({
      ...adminRoute,
      method: "get",
      path: "/accounts/{id}",
      summary: "Get an account",
      request: { params: accountId },
      responses: { 200: json(accountSchema, "The account."), ...errors([...ADMIN_ERRORS, 404]) },
    }),
    async (c) => c.json(accountView(await requireAccount(c.env, c.req.valid("param").id)), 200),
  )
  .openapi(
    createRoute({
      ...adminRoute,
      method: "patch",
      path: "/accounts/{id}",
      summary: "Change an account's name or caps",
      middleware: requireJsonBody,
      request: { params: accountId, body: jsonBody(updateAccountSchema, "Only the fields given change.") },
      responses: { 200: json(accountSchema, "The account as it now is."), ...errors([...ADMIN_ERRORS, 400, 404, 415]) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { id } = c.req.valid("param");
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
      return c.json(accountView(row), 200);
    },
  )
  .openapi(
    createRoute({
      ...adminRoute,
      method: "post",
      path: "/accounts/{id}/api-keys",
      summary: "Mint an API key for an account",
      middleware: requireJsonBody,
      request: { params: accountId, body: jsonBody(keySchema) },
      responses: { 201: json(newApiKeySchema, "The key, shown once; it never expires."), ...errors([...ADMIN_ERRORS, 400, 404, 415]) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const account = await requireAccount(c.env, c.req.valid("param").id);
      return c.json(await mintApiKey(c.env, account.id, body.name, null), 201);
    },
  )
  .openapi(
    createRoute({
      ...adminRoute,
      method: "post",
      path: "/accounts/{id}/members",
      summary: "Let a session subject act on an account",
      description: "A session JWT whose `sub` is a member may use the account with `X-Account-ID`.",
      middleware: requireJsonBody,
      request: { params: accountId, body: jsonBody(addMemberSchema) },
      responses: { 201: json(memberSchema, "The membership."), ...errors([...ADMIN_ERRORS, 400, 404, 409, 415], { 409: "The subject is already a member." }) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const account = await requireAccount(c.env, c.req.valid("param").id);
      const row = { accountId: account.id, subject: body.subject, createdAt: nowIso() };
      const inserted = await database(c.env).insert(accountMembers).values(row).onConflictDoNothing().returning({ s: accountMembers.subject });
      if (inserted.length === 0) throw conflict(`${quoted(body.subject)} is already a member of account ${quoted(account.id)}.`);
      return c.json({ account_id: row.accountId, subject: row.subject, created_at: row.createdAt }, 201);
    },
  )
  .openapi(
    createRoute({
      ...adminRoute,
      method: "post",
      path: "/maintenance/rearm",
      summary: "Re-arm the alarms of every live campaign",
      description: "The same safety net the cron runs every ten minutes.",
      responses: { 200: json(z.object({ rearmed: z.int() }).openapi("Rearmed"), "How many campaigns were re-armed."), ...errors(ADMIN_ERRORS) },
    }),
    async (c) => c.json({ rearmed: await rearmLiveCampaigns(c.env) }, 200),
  )
  .openapi(
    createRoute({
      ...adminRoute,
      method: "get",
      path: "/campaigns/{id}/dispatch",
      summary: "The dispatcher's own view of a campaign",
      description:
        "Counters, in-flight, high-water mark, origination times, carrier requests received, DNC and eligibility check times and the webhook outbox, as the campaign's object holds them.",
      request: { params: z.object({ id: z.string().openapi({ param: { description: "The campaign's id, `cmp_…`." } }) }) },
      responses: { 200: json(dispatchViewSchema, "The object's view."), ...errors([...ADMIN_ERRORS, 404]) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const view = await getCampaignStub(c.env, id).inspect(id);
      if (!view.state) throw notFound("Campaign", id);
      return c.json(
        {
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
          dnc_check: view.dnc_check,
          contact_ledger: view.contact_ledger,
          eligibility_check: view.eligibility_check,
          webhooks: view.webhooks,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      ...adminRoute,
      method: "delete",
      path: "/accounts/{id}/members/{subject}",
      summary: "Remove a member from an account",
      request: {
        params: z.object({
          id: z.string().openapi({ param: { description: "The account's id." } }),
          subject: z.string().openapi({ param: { description: "The session subject (JWT `sub`)." } }),
        }),
      },
      responses: { 204: noContent("Removed."), ...errors([...ADMIN_ERRORS, 404]) },
    }),
    async (c) => {
      const { id, subject } = c.req.valid("param");
      const removed = await database(c.env)
        .delete(accountMembers)
        .where(and(eq(accountMembers.accountId, id), eq(accountMembers.subject, subject)))
        .returning({ s: accountMembers.subject });
      if (removed.length === 0) throw notFound("Member", subject);
      return c.body(null, 204);
    },
  );
