import type { Context } from "hono";
import { resultSettingsOf } from "../call-results/settings";
import { callingWindowOf } from "../calling-window/calling-window";
import { cloneCampaignSchema } from "../campaigns/campaign-schemas";
import { type ContactSelection, insertClone } from "../campaigns/clone";
import { campaignView } from "../campaigns/d1-campaigns";
import { armScheduledStart, checkSettingsInAccount, jsonFieldText, newCampaignRow, parseCampaignSettings, safetySettingsOf } from "../campaigns/settings";
import { type CampaignRow, customColumnsOf, loadCampaignRow } from "../db/campaign-rows";
import { contactOutcomes, contactStatuses } from "../db/schema";
import type { AppEnv } from "../env";
import { boundedRequest, uploadTooLarge } from "../http/body";
import { ApiError, badRequest, notFound, quoted } from "../http/errors";

/** The fields the documented clone body has; each setting is validated by its create schema in parseCampaignSettings. */
const CLONE_FIELDS: ReadonlySet<string> = new Set(Object.keys(cloneCampaignSchema.shape));

/** The clone options; no body at all means "copy every contact with the source's settings". */
async function readCloneBody(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const text = await (await boundedRequest(c.req.raw, () => uploadTooLarge("The clone request"))).text();
  if (text.trim() === "") return {};
  if (!/^application\/json\b/i.test(c.req.header("Content-Type") ?? "")) {
    throw new ApiError("unsupported_media_type", "Send the clone options as JSON with `Content-Type: application/json`, or no body to copy every contact.");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badRequest("The request body is not valid JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The JSON body must be an object.");
  const unknown = Object.keys(body).filter((key) => !CLONE_FIELDS.has(key));
  if (unknown.length > 0) {
    throw badRequest(`Clone does not take ${unknown.slice(0, 5).map(quoted).join(", ")}; it takes ${[...CLONE_FIELDS].join(", ")}.`);
  }
  return body as Record<string, unknown>;
}

/** `statuses` or `outcomes`: absent means any; otherwise a non-empty list of known values. */
function parseSelection<T extends string>(name: string, raw: unknown, allowed: readonly T[]): T[] | null {
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) throw badRequest(`${name} must be an array such as ["${allowed[0]}"].`);
  if (raw.length === 0) throw badRequest(`${name} is empty, so no contact could match; leave it out to copy contacts of every ${name.slice(0, -1)}.`);
  const unknown = raw.filter((value) => !(allowed as readonly unknown[]).includes(value));
  if (unknown.length > 0) {
    throw badRequest(`${name} has unknown value${unknown.length === 1 ? "" : "s"} ${unknown.slice(0, 5).map(quoted).join(", ")}; use ${allowed.join(", ")}.`);
  }
  return [...new Set(raw as T[])];
}

const describeSelection = ({ statuses, outcomes }: ContactSelection) =>
  [statuses && `status ${statuses.join(" or ")}`, outcomes && `outcome ${outcomes.join(" or ")}`].filter(Boolean).join(" and ");

const copyName = (source: CampaignRow) => `${source.name.slice(0, 193)} (copy)`;

/** POST /campaigns/{id}/clone: a new draft (or scheduled) campaign holding the source's matching contacts, afresh. */
export async function cloneCampaign(c: Context<AppEnv>) {
  const { accountId, actor } = c.var.caller;
  const sourceId = c.req.param("id") ?? "";
  const source = await loadCampaignRow(c.env, sourceId, accountId);
  if (!source) throw notFound("Campaign", sourceId);
  const body = await readCloneBody(c);
  const selection: ContactSelection = {
    statuses: parseSelection("statuses", body.statuses, contactStatuses),
    outcomes: parseSelection("outcomes", body.outcomes, contactOutcomes),
  };
  const settings = parseCampaignSettings(jsonFieldText(body), {
    ...source,
    name: copyName(source),
    callingWindow: callingWindowOf(source),
    results: resultSettingsOf(source),
    safety: safetySettingsOf(source),
  });
  await checkSettingsInAccount(c.env, accountId, settings);

  const row = newCampaignRow(settings, {
    accountId,
    createdBy: actor,
    total: 0,
    duplicatesSkipped: 0,
    sourceCampaignId: source.id,
    customColumns: customColumnsOf(source),
  });
  const { copied, dncSuppressed } = await insertClone(c.env, row, source.id, selection);
  if (copied === 0) {
    const which = describeSelection(selection);
    throw badRequest(`No contact of campaign ${source.id}${which ? ` has ${which}` : ""}; nothing was created.`);
  }
  Object.assign(row, { total: copied, pending: copied - dncSuppressed, cancelled: dncSuppressed });
  await armScheduledStart(c.env, row);
  return c.json({ ...campaignView(row), dnc_suppressed: dncSuppressed }, 201);
}
