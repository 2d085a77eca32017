import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { dispositionQuery } from "../campaigns/campaign-schemas";
import { contactsCsvStream, d1ExportPages, exportFileName } from "../campaigns/export-csv";
import { customColumnsOf, loadCampaignRow } from "../db/campaign-rows";
import { contactStatuses } from "../db/schema";
import type { AppEnv } from "../env";
import { notFound } from "../http/errors";
import { enumQuery, errors, idParam, TENANT_ERRORS } from "../http/openapi";

export const exportContactsRoute = createRoute({
  method: "get",
  path: "/{id}/contacts.csv",
  tags: ["Campaigns"],
  summary: "Export a campaign's contacts as CSV",
  description:
    "Streamed in upload order: the fixed columns, then the upload's own columns in their upload order. Cells that a spreadsheet would run as a formula are prefixed with `'`.",
  request: {
    params: idParam("The campaign's id, `cmp_…`."),
    query: z.object({ status: enumQuery("status", contactStatuses).openapi({ description: "Only contacts in this status." }), disposition: dispositionQuery }),
  },
  responses: {
    200: { description: "The contacts, as an attachment.", content: { "text/csv": { schema: z.string() } } },
    ...errors([...TENANT_ERRORS, 404]),
  },
});

/** GET /campaigns/{id}/contacts.csv: the contacts as a spreadsheet, streamed page by page from D1. */
export const exportContacts: RouteHandler<typeof exportContactsRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const { status, disposition } = c.req.valid("query");
  const campaign = await loadCampaignRow(c.env, id, c.var.caller.accountId);
  if (!campaign) throw notFound("Campaign", id);
  const body = contactsCsvStream(d1ExportPages(c.env.DB, campaign.id, status, disposition), customColumnsOf(campaign));
  return new Response(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${exportFileName(campaign.name, campaign.id, status, disposition)}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
};
