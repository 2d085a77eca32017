import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { resolveCallback } from "../call-results/result-input";
import { callingWindowOf } from "../calling-window/calling-window";
import { getCampaignStub, type LifecycleResult } from "../campaign-object/stub";
import {
  campaignListSchema,
  campaignSchema,
  cloneCampaignSchema,
  clonedCampaignSchema,
  contactListSchema,
  contactSchema,
  createCampaignBody,
  createdCampaignSchema,
  dispositionQuery,
  eventsTokenSchema,
  scheduleCallbackSchema,
} from "../campaigns/campaign-schemas";
import { readCreateInput } from "../campaigns/create-input";
import { campaignContactsPage, campaignView, contactView, insertCampaign } from "../campaigns/d1-campaigns";
import { armScheduledStart, checkSettingsInAccount, newCampaignRow, parseCampaignSettings } from "../campaigns/settings";
import { type CampaignRow, campaignOfAccountQuery, customColumnsOf, loadCampaignRow } from "../db/campaign-rows";
import { database } from "../db/client";
import { pageByAccount } from "../db/queries";
import { campaignStatuses, campaigns, contactStatuses } from "../db/schema";
import type { AppEnv } from "../env";
import { continueSessionFrom } from "../http/d1-session";
import { ApiError, conflict, notFound } from "../http/errors";
import { mintEventsToken, mintEventsTokenSchema } from "../http/events-token";
import { tenantBatch } from "../http/key-check";
import {
  EVENTS_SECURITY,
  enumQuery,
  errors,
  handParsedBody,
  idParam,
  json,
  jsonBody,
  noContent,
  pagedListQuery,
  pageOfQuery,
  requireJsonBody,
  TENANT_ERRORS,
  validationHook,
} from "../http/openapi";
import { listEnvelope, readJson } from "../http/validation";
import { seqOfContactId } from "../ids";
import { parseDefaultCountry } from "../uploads/phone";
import { cloneCampaign } from "./campaign-clone";
import { appendContacts, appendContactsRoute, cancelContact, cancelContactRoute } from "./campaign-contacts";
import { exportContacts, exportContactsRoute } from "./campaign-export";
import { preflightCampaign, preflightRoute } from "./campaign-preflight";

async function createCampaign(c: Context<AppEnv>) {
  const input = await readCreateInput(c);
  const settings = parseCampaignSettings(input.field);
  const { accountId, actor } = c.var.caller;
  await checkSettingsInAccount(c.env, accountId, settings);

  const read = await input.contacts({ window: settings.callingWindow, country: parseDefaultCountry(settings.defaultCountry ?? undefined) });
  if (read.refusal) throw read.refusal;
  const ingest = read.result;
  const row = newCampaignRow(settings, {
    accountId,
    createdBy: actor,
    total: ingest.count,
    duplicatesSkipped: ingest.duplicatesSkipped,
    sourceCampaignId: null,
    customColumns: ingest.columns,
  });
  const { dncSuppressed } = await insertCampaign(c.env, row, ingest);
  row.pending -= dncSuppressed;
  row.cancelled += dncSuppressed;
  await armScheduledStart(c.env, row);
  return c.json({ ...campaignView(row), duplicates_skipped: ingest.duplicatesSkipped, dnc_suppressed: dncSuppressed }, 201);
}

async function requireCampaign(c: Context<AppEnv>): Promise<CampaignRow> {
  const id = c.req.param("id") ?? "";
  const row = await loadCampaignRow(c.env, id, c.var.caller.accountId);
  if (!row) throw notFound("Campaign", id);
  return row;
}

/** Runs a lifecycle action in the campaign's Durable Object and answers with the campaign as it now is. */
async function lifecycle(c: Context<AppEnv>, run: (stub: ReturnType<typeof getCampaignStub>, id: string) => Promise<LifecycleResult>) {
  const campaign = await requireCampaign(c);
  const result = await run(getCampaignStub(c.env, campaign.id), campaign.id);
  if (!result.ok) throw result.reason === "not_found" ? notFound("Campaign", campaign.id) : conflict(result.message);
  continueSessionFrom(c.env, result.bookmark);
  const updated = await loadCampaignRow(c.env, campaign.id, c.var.caller.accountId);
  if (!updated) throw notFound("Campaign", campaign.id);
  return c.json(campaignView(updated), 200);
}

/** The streams are served by the campaign's object; the Worker only checks access and forwards. */
async function forwardEvents(c: Context<AppEnv>, path: "events" | "events/ws") {
  const campaign = await requireCampaign(c);
  const url = new URL(`https://campaign.internal/${path}`);
  url.searchParams.set("campaign_id", campaign.id);
  const lastEventId = c.req.header("Last-Event-ID") ?? c.req.query("last_event_id");
  if (lastEventId) url.searchParams.set("last_event_id", lastEventId);
  if (path === "events/ws" && c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("bad_request", "This URL is a WebSocket: connect with an Upgrade: websocket request.");
  }
  return getCampaignStub(c.env, campaign.id).fetch(new Request(url, { headers: c.req.raw.headers }));
}

const campaignId = idParam("The campaign's id, `cmp_…`.");
const tags = ["Campaigns"];
const lifecycleRoute = (action: "start" | "pause" | "resume" | "stop", summary: string, description: string, conflict?: string) =>
  createRoute({
    method: "post",
    path: `/{id}/${action}`,
    tags,
    summary,
    description,
    request: { params: campaignId },
    responses: {
      200: json(campaignSchema, "The campaign as it now is."),
      ...errors(conflict ? [...TENANT_ERRORS, 404, 409] : [...TENANT_ERRORS, 404], conflict ? { 409: conflict } : {}),
    },
  });

const eventsRoute = (path: "/{id}/events" | "/{id}/events/ws") =>
  createRoute({
    method: "get",
    path,
    tags: ["Campaign events"],
    security: EVENTS_SECURITY,
    request: {
      params: campaignId,
      query: z.object({
        token: z.string().optional().openapi({ description: "An events token (POST …/events/token), for pages that cannot send headers." }),
        last_event_id: z.string().optional().openapi({ description: "Replay from after this event id (the Last-Event-ID header does the same)." }),
      }),
    },
    ...(path === "/{id}/events"
      ? {
          summary: "Stream the campaign's events (SSE)",
          description:
            "A snapshot at once and every 2 s while running, `event: contact` per transition with an increasing id, `: heartbeat` every 15 s, and `event: end` with the final snapshot on a terminal status.",
          responses: {
            200: { description: "The event stream.", content: { "text/event-stream": { schema: z.string() } } },
            ...errors([...TENANT_ERRORS, 404], { 403: "A token bound to another origin than the page's." }),
          },
        }
      : {
          summary: "Stream the campaign's events over a WebSocket",
          description: "The same events as the SSE stream, one JSON message each. Connect with `Upgrade: websocket`.",
          responses: {
            101: { description: "Switching to the WebSocket." },
            ...errors([...TENANT_ERRORS, 404], {
              400: "Not a WebSocket upgrade request, or invalid credentials headers.",
              403: "A token bound to another origin than the page's.",
            }),
          },
        }),
  });

const campaignApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

export const campaignRoutes = campaignApp
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List campaigns",
      description: "Page with limit and offset, or with page (0-based, 20 per page).",
      request: { query: pagedListQuery({ limit: 20, maxLimit: 100 }, { status: enumQuery("status", campaignStatuses) }) },
      responses: { 200: json(campaignListSchema, "Campaigns, newest first."), ...errors(TENANT_ERRORS) },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const { status } = query;
      const page = pageOfQuery(query, 20);
      const { rows, total } = await pageByAccount(
        database(c.env),
        tenantBatch(c),
        campaigns,
        c.var.caller.accountId,
        page,
        status && eq(campaigns.status, status),
      );
      return c.json(listEnvelope("campaigns", rows.map(campaignView), total, page), 200);
    },
  )
  .openapi(
    handParsedBody(
      campaignApp,
      createRoute({
        method: "post",
        path: "/",
        tags,
        summary: "Create a campaign",
        description:
          "Multipart with a `contacts` CSV, or JSON with `contacts` as an array of objects. Creation is atomic: a failed create leaves nothing. Created without scheduled_at → draft; with it → scheduled.",
        request: { body: createCampaignBody },
        responses: {
          201: json(createdCampaignSchema, "The campaign, with what the upload skipped."),
          ...errors([...TENANT_ERRORS, 413, 415], { 400: "An invalid field, or contacts that cannot be read (the first 20 offending rows are named)." }),
        },
      }),
    ),
    createCampaign,
  )
  .openapi(preflightRoute(campaignApp), preflightCampaign)
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      summary: "Get a campaign",
      request: { params: campaignId },
      responses: { 200: json(campaignSchema, "The campaign."), ...errors([...TENANT_ERRORS, 404]) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const [[row]] = await tenantBatch(c)([campaignOfAccountQuery(database(c.env), id, c.var.caller.accountId)]);
      if (!row) throw notFound("Campaign", id);
      return c.json(campaignView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      summary: "Delete a campaign and its contacts",
      request: { params: campaignId },
      responses: { 204: noContent("Deleted, contacts too."), ...errors([...TENANT_ERRORS, 404, 409], { 409: "The campaign is running; stop it first." }) },
    }),
    async (c) => {
      const campaign = await requireCampaign(c);
      const result = await getCampaignStub(c.env, campaign.id).remove(campaign.id);
      if (!result.ok && result.reason === "conflict") throw conflict(result.message);
      if (result.ok) continueSessionFrom(c.env, result.bookmark);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/contacts",
      tags,
      summary: "List a campaign's contacts",
      description: "In upload order. Page with limit and offset, or with page (0-based, 100 per page).",
      request: {
        params: campaignId,
        query: pagedListQuery({ limit: 100, maxLimit: 1000 }, { status: enumQuery("status", contactStatuses), disposition: dispositionQuery }),
      },
      responses: { 200: json(contactListSchema, "Contacts in upload order."), ...errors([...TENANT_ERRORS, 404]) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const query = c.req.valid("query");
      const page = pageOfQuery(query, 100);
      const found = await campaignContactsPage(
        database(c.env),
        tenantBatch(c),
        id,
        c.var.caller.accountId,
        { status: query.status, disposition: query.disposition },
        page,
      );
      if (!found) throw notFound("Campaign", id);
      const { campaign, rows, total } = found;
      const window = callingWindowOf(campaign);
      const columns = customColumnsOf(campaign);
      return c.json(
        listEnvelope(
          "contacts",
          rows.map((row) => contactView(row, window, columns)),
          total,
          page,
        ),
        200,
      );
    },
  )
  .openapi(exportContactsRoute, exportContacts)
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/contacts/{contact_id}/callback",
      tags,
      summary: "Schedule a callback for a contact",
      description:
        "The contact becomes pending with outcome `callback`, due at `callback_at` (1 minute to 30 days ahead) moved into its calling window. A callback uses no retry; a contact gets at most 5.",
      middleware: requireJsonBody,
      request: {
        params: z.object({ id: z.string(), contact_id: z.string().openapi({ param: { description: "The contact's id, `ctc_…`." } }) }),
        body: jsonBody(scheduleCallbackSchema),
      },
      responses: {
        200: json(contactSchema, "The contact, waiting for its callback."),
        ...errors([...TENANT_ERRORS, 404, 409, 415], { 409: "The contact is in a call now, already has 5 callbacks, or the campaign has finished." }),
      },
    }),
    async (c) => {
      const campaign = await requireCampaign(c);
      const { contact_id: contactId } = c.req.valid("param");
      const seq = seqOfContactId(contactId);
      if (seq === null) throw notFound("Contact", contactId);
      const callbackAt = resolveCallback(c.req.valid("json"), Date.now()) as number;
      const result = await getCampaignStub(c.env, campaign.id).scheduleCallback(campaign.id, contactId, seq, callbackAt);
      if (!result.ok) throw result.reason === "not_found" ? notFound("Contact", contactId) : conflict(result.message);
      return c.json(result.contact as unknown as z.output<typeof contactSchema>, 200);
    },
  )
  .openapi(eventsRoute("/{id}/events"), (c) => forwardEvents(c, "events"))
  .openapi(eventsRoute("/{id}/events/ws"), (c) => forwardEvents(c, "events/ws"))
  .openapi(
    handParsedBody(
      campaignApp,
      createRoute({
        method: "post",
        path: "/{id}/events/token",
        tags: ["Campaign events"],
        summary: "Mint a short-lived events token",
        description:
          "A read-only capability for one campaign's events URLs, for a browser page that cannot send an Authorization header. With `origin`, the token is accepted only from pages on that origin.",
        request: {
          params: campaignId,
          body: { required: false, content: { "application/json": { schema: mintEventsTokenSchema } } },
        },
        responses: { 201: json(eventsTokenSchema, "The token and when it expires."), ...errors([...TENANT_ERRORS, 404, 415]) },
      }),
    ),
    async (c) => {
      const campaign = await requireCampaign(c);
      // The body is optional: an empty POST mints a token that any origin may use.
      const options = (await c.req.text()).trim() === "" ? {} : await readJson(c, mintEventsTokenSchema);
      return c.json({ campaign_id: campaign.id, ...(await mintEventsToken(c.env, campaign.accountId, campaign.id, options)) }, 201);
    },
  )
  .openapi(
    lifecycleRoute(
      "start",
      "Start a campaign",
      "draft, paused or scheduled → running (a scheduled one starts now).",
      "Not startable in its status, its agent is not active, or the account's concurrency budget does not fit.",
    ),
    (c) => lifecycle(c, (stub, id) => stub.start(id)),
  )
  .openapi(lifecycleRoute("pause", "Pause a campaign", "running → paused; calls in flight finish and are recorded.", "The campaign is not running."), (c) =>
    lifecycle(c, (stub, id) => stub.pause(id)),
  )
  .openapi(
    lifecycleRoute("resume", "Resume a campaign", "paused → running, within the account's budget.", "The campaign is not paused, or the budget does not fit."),
    (c) => lifecycle(c, (stub, id) => stub.resume(id)),
  )
  .openapi(
    lifecycleRoute(
      "stop",
      "Stop a campaign",
      "Any non-terminal status → completed; pending contacts are cancelled. On completed or failed it answers the campaign unchanged.",
    ),
    (c) => lifecycle(c, (stub, id) => stub.stop(id)),
  )
  .openapi(
    handParsedBody(
      campaignApp,
      createRoute({
        method: "post",
        path: "/{id}/clone",
        tags,
        summary: "Copy a campaign's contacts into a new campaign",
        description:
          "A new draft (or scheduled) campaign holding the source's contacts that match, afresh. With statuses and outcomes, a contact must match both. Works from any source status.",
        request: {
          params: campaignId,
          body: { required: false, content: { "application/json": { schema: cloneCampaignSchema } } },
        },
        responses: {
          201: json(clonedCampaignSchema, "The new campaign."),
          ...errors([...TENANT_ERRORS, 404, 413, 415], { 400: "An invalid field, an empty or unknown selection, or no contact matches." }),
        },
      }),
    ),
    cloneCampaign,
  );

// Outside the chain: the app's route types would otherwise grow past what TypeScript can represent.
campaignApp.openapi(handParsedBody(campaignApp, appendContactsRoute), appendContacts).openapi(cancelContactRoute, cancelContact);
