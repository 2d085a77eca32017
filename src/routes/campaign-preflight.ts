import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { limitsView, loadAccount } from "../accounts/limits";
import { type CallingWindow, contactZones } from "../calling-window/calling-window";
import { createCampaignBody } from "../campaigns/campaign-schemas";
import { type CreateInput, readCreateInput } from "../campaigns/create-input";
import { DEFAULT_ASSUMPTIONS, type EstimateAssumptions, estimateDialling, parseAssumptions } from "../campaigns/estimate";
import { checkSettingsInAccount, type FieldProblemReport, parseCampaignSettings } from "../campaigns/settings";
import { countListed } from "../dnc/check";
import type { AppEnv } from "../env";
import { notFound } from "../http/errors";
import { errors, handParsedBody, json, TENANT_ERRORS } from "../http/openapi";
import { RegionTally } from "../uploads/number-country";
import { parseDefaultCountry } from "../uploads/phone";
import { MAX_REPORTED_PROBLEMS, type UploadProblem } from "../uploads/upload-problems";

const limits = ["concurrency", "calls_per_minute", "daily_calls_max", "daily_minutes_max", "calling_window", "retries"] as const;

const preflightSchema = z
  .object({
    ok: z.boolean().describe("True when create would accept this body as it is."),
    contacts: z.int().describe("Contacts create would write."),
    duplicates_skipped: z.int(),
    dnc_suppressed: z.int().describe("Of those, numbers on the do-not-call list (created cancelled, never dialled)."),
    errors: z
      .array(
        z.object({
          row: z.int().nullable().describe("The upload row, as create numbers rows; null for a form field or the whole upload."),
          value: z.string().nullable().describe("What was sent (shortened), null when absent."),
          reason: z.string(),
        }),
      )
      .describe("Every problem create would refuse, the first 100."),
    errors_total: z.int(),
    countries: z.record(z.string(), z.int()).describe("Contacts per country of their numbers, most first."),
    estimate: z.object({
      dials: z.number(),
      dials_max: z.number(),
      talk_minutes: z.number(),
      concurrency: z.int(),
      dials_per_minute: z.number(),
      limited_by: z.enum(limits),
      starts_at: z.string().openapi({ format: "date-time" }),
      finishes_at: z.string().nullable().openapi({ format: "date-time" }),
      duration_seconds: z.number().nullable(),
      assumptions: z.object({
        answer_rate: z.number(),
        average_call_seconds: z.number(),
        unanswered_call_seconds: z.number(),
        retry_share: z.number(),
        retries: z.string(),
        start: z.enum(["scheduled_at", "now"]),
        account: z.string(),
        calling_window_zones: z.array(z.string()).readonly().nullable().describe("The zones the calling window is taken in for the forecast."),
      }),
    }),
  })
  .openapi("Preflight");

const assumptionQuery = (description: string, fallback: number) => z.string().optional().openapi({ type: "number", default: fallback, description });

/** Registers POST /preflight with create's body in the document; the handler reads it with create's own reader. */
export const preflightRoute = (app: OpenAPIHono<AppEnv>) =>
  handParsedBody(
    app,
    createRoute({
      method: "post",
      path: "/preflight",
      tags: ["Campaigns"],
      summary: "Check a create body without creating anything",
      description:
        "Reads exactly create's body with create's code and writes nothing: every problem create would refuse (not only the first), what it would write, the contacts' countries and a forecast of the dialling. The query overrides the forecast's assumptions.",
      request: {
        // Plain strings here: parseAssumptions gives the range sentence for a bad value.
        query: z.object({
          answer_rate: assumptionQuery("Share of dials answered, 0 to 1.", DEFAULT_ASSUMPTIONS.answer_rate),
          average_call_seconds: assumptionQuery("Seconds an answered call holds a line, 1 to 3600.", DEFAULT_ASSUMPTIONS.average_call_seconds),
          unanswered_call_seconds: assumptionQuery("Seconds an unanswered dial holds a line, 0 to 600.", DEFAULT_ASSUMPTIONS.unanswered_call_seconds),
          retry_share: assumptionQuery("Share of contacts that use their retries, 0 to 1.", DEFAULT_ASSUMPTIONS.retry_share),
        }),
        body: createCampaignBody,
      },
      responses: {
        200: json(preflightSchema, "The report; `ok` false lists what create would refuse."),
        ...errors([...TENANT_ERRORS, 413, 415], { 400: "An assumption out of range, or a body that cannot be read at all (not JSON, no multipart boundary)." }),
      },
    }),
  );

/** A field's value as sent, for the problem that names it (null when absent or not text). */
function sentValue(input: CreateInput, field: string): string | null {
  try {
    return input.field(field) ?? null;
  } catch {
    return null;
  }
}

/** The zones the window is taken in for the forecast: those of most contacts' numbers (or the campaign's one zone). */
function forecastZones(window: CallingWindow, phones: Iterable<string>): readonly string[] {
  const tally = new Map<string, { zones: readonly string[]; count: number }>();
  for (const phone of phones) {
    const set = contactZones(window, { phone, timezone: null });
    const entry = tally.get(set.key);
    if (entry) entry.count++;
    else tally.set(set.key, { zones: set.zones, count: 1 });
  }
  let best: { zones: readonly string[]; count: number } = { zones: [], count: 0 };
  for (const entry of tally.values()) if (entry.count > best.count) best = entry;
  return best.zones;
}

/**
 * POST /campaigns/preflight: the create body read by create's own code, writing nothing. Every
 * problem create would refuse is listed (form fields with row null), with what create would write
 * and a forecast of the dialling.
 */
export async function preflightCampaign(c: Context<AppEnv>) {
  const assumptions: EstimateAssumptions = parseAssumptions((name) => c.req.query(name));
  const input = await readCreateInput(c);
  const { accountId } = c.var.caller;
  const fieldProblems: UploadProblem[] = [];
  const report: FieldProblemReport = (field, error) => {
    fieldProblems.push({ row: null, value: sentValue(input, field), reason: error.message });
  };
  const settings = parseCampaignSettings(input.field, undefined, report);
  await checkSettingsInAccount(c.env, accountId, settings, report);
  const read = await input.contacts({ window: settings.callingWindow, country: parseDefaultCountry(settings.defaultCountry ?? undefined) });

  const { phones } = read.result;
  const [account, dncSuppressed] = await Promise.all([loadAccount(c.env, accountId), countListed(c.env.DB, accountId, phones)]);
  if (!account) throw notFound("Account", accountId);
  const regions = new RegionTally();
  for (const phone of phones) regions.add(phone);

  const window = settings.callingWindow;
  const zones = window ? forecastZones(window, phones) : null;
  const startAt = settings.scheduledAt ? Date.parse(settings.scheduledAt) : Date.now();
  const estimate = estimateDialling({
    contacts: read.result.count - dncSuppressed,
    maxConcurrentCalls: settings.maxConcurrentCalls,
    retriesPerContact: settings.retriesPerContact,
    retryDelaySeconds: settings.retryDelaySeconds,
    limits: limitsView(account),
    usedToday: { calls: 0, talkSeconds: 0 },
    startAt,
    window: window && zones ? { window, zones } : null,
    assumptions,
  });

  const errors = [...fieldProblems, ...read.problems];
  return c.json(
    {
      ok: errors.length === 0,
      contacts: read.result.count,
      duplicates_skipped: read.result.duplicatesSkipped,
      dnc_suppressed: dncSuppressed,
      errors: errors.slice(0, MAX_REPORTED_PROBLEMS),
      errors_total: fieldProblems.length + read.problemCount,
      countries: regions.toJSON(),
      estimate: {
        ...estimate,
        assumptions: {
          ...assumptions,
          retries: "a contact whose first dial is busy, unanswered or failed uses every retry, each ending the same way",
          start: settings.scheduledAt ? ("scheduled_at" as const) : ("now" as const),
          account: "the account's other campaigns are idle and none of today's daily caps is used yet",
          calling_window_zones: zones,
        },
      },
    },
    200,
  );
}
