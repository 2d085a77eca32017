import { eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { getCampaignStub, type LifecycleResult } from "../campaigns/campaign-do";
import { type CampaignRow, campaignView, contactView, insertCampaign, listContacts, loadCampaignRow } from "../campaigns/d1-campaigns";
import { ingestCsv, ingestJson, MAX_CSV_BYTES, MAX_REQUEST_BYTES, parseDefaultCountry } from "../campaigns/ingest";
import { database, nowIso } from "../db/client";
import { findInAccount, pageByAccount } from "../db/queries";
import { agents, campaignStatuses, campaigns, contactStatuses, phoneNumbers } from "../db/schema";
import type { AppEnv } from "../env";
import { ApiError, badRequest, conflict, notFound } from "../http/errors";
import { mintEventsToken } from "../http/events-token";
import { listEnvelope, parseEnum, parseIntegerField, parsePage } from "../http/validation";
import { newId } from "../ids";

type FieldValue = string | number | boolean | null | undefined;

interface CreateInput {
  fields: (name: string) => FieldValue;
  contacts: () => Promise<ReturnType<typeof ingestCsv>>;
}

const tooLarge = () =>
  new ApiError("payload_too_large", `The upload is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB; split the contacts into several campaigns.`);

/** Reads the create body (multipart or JSON) after refusing oversize bodies unread. */
async function readCreateInput(c: Context<AppEnv>): Promise<CreateInput> {
  const declared = Number(c.req.header("Content-Length") ?? Number.NaN);
  if (declared > MAX_REQUEST_BYTES) throw tooLarge();
  const raw = Number.isNaN(declared) ? await readCapped(c.req.raw) : c.req.raw;
  const type = c.req.header("Content-Type") ?? "";

  if (/^multipart\/form-data\b/i.test(type)) {
    let form: FormData;
    try {
      form = await raw.formData();
    } catch {
      throw badRequest("The multipart body could not be read; send multipart/form-data with a boundary.");
    }
    return {
      fields: (name) => {
        const value = form.get(name);
        return typeof value === "string" ? value : undefined;
      },
      contacts: async () => {
        const file = form.get("contacts");
        if (file === null) throw badRequest("contacts is required: attach the CSV file as the `contacts` form field.");
        const text = typeof file === "string" ? file : file.size > MAX_CSV_BYTES ? null : await file.text();
        if (text === null || text.length > MAX_CSV_BYTES) throw tooLarge();
        return ingestCsv(text, parseDefaultCountry(fieldText(form.get("default_country"))));
      },
    };
  }
  if (/^application\/json\b/i.test(type)) {
    let body: Record<string, unknown>;
    try {
      body = await raw.json();
    } catch {
      throw badRequest("The request body is not valid JSON.");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The JSON body must be an object.");
    return {
      fields: (name) => {
        const value = body[name];
        if (value !== null && typeof value === "object") throw badRequest(`${name} must be a string or number.`);
        return value as FieldValue;
      },
      contacts: async () => {
        if (body.contacts === undefined) throw badRequest("contacts is required: an array of objects, each with a phone_number.");
        return ingestJson(body.contacts, parseDefaultCountry(fieldText(body.default_country as FieldValue)));
      },
    };
  }
  throw new ApiError("unsupported_media_type", "Create a campaign with multipart/form-data (a `contacts` CSV file) or application/json.");
}

const fieldText = (value: FieldValue | File | null): string | undefined =>
  value === undefined || value === null || value instanceof File ? undefined : String(value);

/** For bodies without Content-Length: read at most the limit, then hand back an equivalent request. */
async function readCapped(request: Request): Promise<Request> {
  const reader = request.body?.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_REQUEST_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    parts.push(value);
  }
  return new Request(request.url, { method: request.method, headers: request.headers, body: new Blob(parts) });
}

function parseScheduledAt(raw: string | undefined): string | null {
  if (raw === undefined || raw === "") return null;
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
  const ms = Date.parse(raw);
  if (!rfc3339.test(raw) || Number.isNaN(ms)) throw badRequest(`scheduled_at must be an RFC 3339 time such as 2030-01-31T09:00:00Z; got "${raw}".`);
  if (ms < Date.now()) throw badRequest(`scheduled_at ${raw} is in the past; give a future time or leave it out to create a draft.`);
  return new Date(ms).toISOString();
}

async function createCampaign(c: Context<AppEnv>) {
  const input = await readCreateInput(c);
  const text = (name: string) => fieldText(input.fields(name));
  const name = text("name")?.trim();
  if (!name) throw badRequest("name is required.");
  if (name.length > 200) throw badRequest("name must be at most 200 characters.");
  const agentId = text("agent_id");
  const phoneNumberId = text("phone_number_id");
  if (!agentId) throw badRequest("agent_id is required.");
  if (!phoneNumberId) throw badRequest("phone_number_id is required.");
  const maxConcurrentCalls = parseIntegerField("max_concurrent_calls", text("max_concurrent_calls"), 1, 100, 5);
  const retriesPerContact = parseIntegerField("retries_per_contact", text("retries_per_contact"), 0, 5, 0);
  const retryDelaySeconds = parseIntegerField("retry_delay_seconds", text("retry_delay_seconds"), 60, 7 * 86_400, 300);
  const scheduledAt = parseScheduledAt(text("scheduled_at"));
  const defaultCountry = parseDefaultCountry(text("default_country")) ?? null;

  const { accountId, actor } = c.var.caller;
  const db = database(c.env);
  const [agent, number] = await Promise.all([findInAccount(db, agents, accountId, agentId), findInAccount(db, phoneNumbers, accountId, phoneNumberId)]);
  if (!agent) throw badRequest(`agent_id ${agentId} is not an agent of this account.`);
  if (!number) throw badRequest(`phone_number_id ${phoneNumberId} is not a phone number of this account.`);
  if (!number.outboundEnabled) throw badRequest(`Phone number ${number.e164} is not enabled for outbound calls; PATCH it with outbound_enabled: true.`);

  const ingest = await input.contacts();
  const now = nowIso();
  const row: CampaignRow = {
    id: newId("cmp"),
    accountId,
    name,
    agentId,
    phoneNumberId,
    maxConcurrentCalls,
    retriesPerContact,
    retryDelaySeconds,
    defaultCountry,
    scheduledAt,
    startedAt: null,
    completedAt: null,
    createdBy: actor,
    status: scheduledAt ? "scheduled" : "draft",
    statusReason: null,
    duplicatesSkipped: ingest.duplicatesSkipped,
    total: ingest.count,
    pending: ingest.count,
    originated: 0,
    connected: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    createdAt: now,
    updatedAt: now,
  };
  await insertCampaign(c.env, row, ingest);
  if (row.status === "scheduled") {
    try {
      await getCampaignStub(c.env, row.id).schedule(row.id);
    } catch (error) {
      // Without its timer a scheduled campaign would never start: undo the create rather than keep it half-made.
      await getCampaignStub(c.env, row.id)
        .remove(row.id)
        .catch(() => undefined);
      throw error;
    }
  }
  return c.json({ ...campaignView(row), duplicates_skipped: ingest.duplicatesSkipped }, 201);
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
  const updated = await loadCampaignRow(c.env, campaign.id, c.var.caller.accountId);
  if (!updated) throw notFound("Campaign", campaign.id);
  return c.json(campaignView(updated));
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

export const campaignRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const page = parsePage(c, { limit: 20, maxLimit: 100 });
    const status = parseEnum("status", c.req.query("status"), campaignStatuses);
    const { rows, total } = await pageByAccount(database(c.env), campaigns, c.var.caller.accountId, page, status && eq(campaigns.status, status));
    return c.json(listEnvelope("campaigns", rows.map(campaignView), total, page));
  })
  .post("/", createCampaign)
  .get("/:id", async (c) => c.json(campaignView(await requireCampaign(c))))
  .delete("/:id", async (c) => {
    const campaign = await requireCampaign(c);
    const result = await getCampaignStub(c.env, campaign.id).remove(campaign.id);
    if (!result.ok && result.reason === "conflict") throw conflict(result.message);
    return c.body(null, 204);
  })
  .get("/:id/contacts", async (c) => {
    const campaign = await requireCampaign(c);
    const status = parseEnum("status", c.req.query("status"), contactStatuses);
    const page = parsePage(c, { limit: 100, maxLimit: 1000, pageSize: 100 });
    const { rows, total } = await listContacts(c.env, campaign, status, page);
    return c.json(listEnvelope("contacts", rows.map(contactView), total, page));
  })
  .get("/:id/events", (c) => forwardEvents(c, "events"))
  .get("/:id/events/ws", (c) => forwardEvents(c, "events/ws"))
  .post("/:id/events/token", async (c) => {
    const campaign = await requireCampaign(c);
    return c.json({ campaign_id: campaign.id, ...(await mintEventsToken(c.env, campaign.accountId, campaign.id)) }, 201);
  })
  .post("/:id/start", (c) => lifecycle(c, (stub, id) => stub.start(id)))
  .post("/:id/pause", (c) => lifecycle(c, (stub, id) => stub.pause(id)))
  .post("/:id/resume", (c) => lifecycle(c, (stub, id) => stub.resume(id)))
  .post("/:id/stop", (c) => lifecycle(c, (stub, id) => stub.stop(id)));
