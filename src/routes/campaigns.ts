import { eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { callingWindowOf } from "../campaigns/calling-window";
import { getCampaignStub, type LifecycleResult } from "../campaigns/campaign-do";
import { readCreateInput } from "../campaigns/create-input";
import { type CampaignRow, campaignView, contactView, insertCampaign, listContacts, loadCampaignRow } from "../campaigns/d1-campaigns";
import { parseDefaultCountry } from "../campaigns/ingest";
import { armScheduledStart, checkSettingsInAccount, newCampaignRow, parseCampaignSettings } from "../campaigns/settings";
import { database } from "../db/client";
import { pageByAccount } from "../db/queries";
import { campaignStatuses, campaigns, contactStatuses } from "../db/schema";
import type { AppEnv } from "../env";
import { ApiError, conflict, notFound } from "../http/errors";
import { mintEventsToken } from "../http/events-token";
import { listEnvelope, parseEnum, parsePage } from "../http/validation";
import { cloneCampaign } from "./campaign-clone";
import { exportContacts } from "./campaign-export";
import { preflightCampaign } from "./campaign-preflight";

async function createCampaign(c: Context<AppEnv>) {
  const input = await readCreateInput(c);
  const settings = parseCampaignSettings(input.field);
  const { accountId, actor } = c.var.caller;
  await checkSettingsInAccount(c.env, accountId, settings);

  const read = await input.contacts(settings.callingWindow, parseDefaultCountry(settings.defaultCountry ?? undefined));
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
  .post("/preflight", preflightCampaign)
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
    const window = callingWindowOf(campaign);
    return c.json(
      listEnvelope(
        "contacts",
        rows.map((row) => contactView(row, window)),
        total,
        page,
      ),
    );
  })
  .get("/:id/contacts.csv", exportContacts)
  .get("/:id/events", (c) => forwardEvents(c, "events"))
  .get("/:id/events/ws", (c) => forwardEvents(c, "events/ws"))
  .post("/:id/events/token", async (c) => {
    const campaign = await requireCampaign(c);
    return c.json({ campaign_id: campaign.id, ...(await mintEventsToken(c.env, campaign.accountId, campaign.id)) }, 201);
  })
  .post("/:id/start", (c) => lifecycle(c, (stub, id) => stub.start(id)))
  .post("/:id/pause", (c) => lifecycle(c, (stub, id) => stub.pause(id)))
  .post("/:id/resume", (c) => lifecycle(c, (stub, id) => stub.resume(id)))
  .post("/:id/stop", (c) => lifecycle(c, (stub, id) => stub.stop(id)))
  .post("/:id/clone", cloneCampaign);
