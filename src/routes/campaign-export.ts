import type { Context } from "hono";
import { customColumnsOf, loadCampaignRow } from "../campaigns/d1-campaigns";
import { contactsCsvStream, d1ExportPages, exportFileName } from "../campaigns/export-csv";
import { contactStatuses } from "../db/schema";
import type { AppEnv } from "../env";
import { notFound } from "../http/errors";
import { parseEnum } from "../http/validation";

/** GET /campaigns/{id}/contacts.csv: the contacts as a spreadsheet, streamed page by page from D1. */
export async function exportContacts(c: Context<AppEnv>) {
  const id = c.req.param("id") ?? "";
  const campaign = await loadCampaignRow(c.env, id, c.var.caller.accountId);
  if (!campaign) throw notFound("Campaign", id);
  const status = parseEnum("status", c.req.query("status"), contactStatuses);
  const body = contactsCsvStream(d1ExportPages(c.env.DB, campaign.id, status), customColumnsOf(campaign));
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${exportFileName(campaign.name, campaign.id, status)}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
