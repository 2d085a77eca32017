import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import { callingWindowOf } from "../calling-window/calling-window";
import { getCampaignStub, MAX_CAMPAIGN_CONTACTS } from "../campaign-object/stub";
import { appendContactsBody, appendedContactsSchema, contactSchema } from "../campaigns/campaign-schemas";
import { readAppendInput } from "../campaigns/create-input";
import { contactView } from "../campaigns/d1-campaigns";
import { type CampaignRow, customColumnsOf, loadCampaignRow } from "../db/campaign-rows";
import { database } from "../db/client";
import { contacts } from "../db/schema";
import type { AppEnv } from "../env";
import { ApiError, conflict, notFound } from "../http/errors";
import { errors, json, TENANT_ERRORS } from "../http/openapi";
import { seqOfContactId } from "../ids";
import { parseDefaultCountry } from "../uploads/phone";

const tags = ["Campaigns"];
const contactParams = z.object({
  id: z.string().openapi({ param: { description: "The campaign's id, `cmp_…`." } }),
  contact_id: z.string().openapi({ param: { description: "The contact's id, `ctc_…`." } }),
});

async function requireCampaign(c: Context<AppEnv>): Promise<CampaignRow> {
  const id = c.req.param("id") ?? "";
  const row = await loadCampaignRow(c.env, id, c.var.caller.accountId);
  if (!row) throw notFound("Campaign", id);
  return row;
}

/** The refusals ingest words for create, said of an append. */
const asAppendRefusal = (error: ApiError) => new ApiError(error.code, error.message.replace("Nothing was created.", "Nothing was added."));

export const appendContactsRoute = createRoute({
  method: "post",
  path: "/{id}/contacts",
  tags,
  summary: "Append contacts to a campaign",
  description:
    `Create's rules (normalisation, the 10 MB limit, rows named, atomic), for a draft, scheduled, paused or running campaign. ` +
    `Numbers already in the campaign are skipped; listed numbers are added cancelled. The new contacts follow the others, and a running campaign dials them without a restart. ` +
    `A campaign holds at most ${MAX_CAMPAIGN_CONTACTS.toLocaleString("en-US")} contacts.`,
  request: { params: z.object({ id: contactParams.shape.id }), body: appendContactsBody },
  responses: {
    200: json(appendedContactsSchema, "What the upload added."),
    ...errors([...TENANT_ERRORS, 404, 409, 413, 415], {
      400: "Contacts that cannot be read (rows named), or columns other than the campaign's.",
      409: `The campaign has completed or failed, or would hold more than ${MAX_CAMPAIGN_CONTACTS.toLocaleString("en-US")} contacts.`,
    }),
  },
});

/** POST /campaigns/{id}/contacts: the upload read by create's own reader against the campaign's columns, written by the campaign's object. */
export async function appendContacts(c: Context<AppEnv>) {
  const campaign = await requireCampaign(c);
  const input = await readAppendInput(c);
  const read = await input.contacts({
    country: parseDefaultCountry(campaign.defaultCountry ?? undefined),
    window: callingWindowOf(campaign),
    columns: customColumnsOf(campaign),
  });
  if (read.refusal) throw asAppendRefusal(read.refusal);
  const result = await getCampaignStub(c.env, campaign.id).appendContacts(campaign.id, read.result);
  if (!result.ok) throw result.reason === "not_found" ? notFound("Campaign", campaign.id) : conflict(result.message);
  const { added, duplicates_skipped, dnc_suppressed, total } = result;
  return c.json({ added, duplicates_skipped, dnc_suppressed, total }, 200);
}

export const cancelContactRoute = createRoute({
  method: "post",
  path: "/{id}/contacts/{contact_id}/cancel",
  tags,
  summary: "Cancel one contact",
  description: "A contact not in a call ends `cancelled` with outcome `canceled` and is never dialled again; one that has already ended is answered unchanged.",
  request: { params: contactParams },
  responses: {
    200: json(contactSchema, "The contact as it now is."),
    ...errors([...TENANT_ERRORS, 404, 409], { 409: "The contact is in a call now." }),
  },
});

/** POST /campaigns/{id}/contacts/{contact_id}/cancel, through the campaign's object, the one writer of contact state. */
export async function cancelContact(c: Context<AppEnv>) {
  const campaign = await requireCampaign(c);
  const contactId = c.req.param("contact_id") ?? "";
  const seq = seqOfContactId(contactId);
  if (seq === null) throw notFound("Contact", contactId);
  const result = await getCampaignStub(c.env, campaign.id).cancelContact(campaign.id, contactId, seq);
  if (!result.ok) throw result.reason === "not_found" ? notFound("Contact", contactId) : conflict(result.message);
  if (result.contact) return c.json(result.contact as unknown as z.output<typeof contactSchema>, 200);
  // Ended and only in D1: D1's row is the contact as it is.
  const row = await database(c.env)
    .select()
    .from(contacts)
    .where(and(eq(contacts.campaignId, campaign.id), eq(contacts.seq, seq)))
    .get();
  if (!row || row.id !== contactId) throw notFound("Contact", contactId);
  return c.json(contactView(row, callingWindowOf(campaign), customColumnsOf(campaign)), 200);
}
