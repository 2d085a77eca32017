import type { Context } from "hono";
import { limitsView, loadAccount } from "../accounts/limits";
import { type CallingWindow, contactZones } from "../campaigns/calling-window";
import { type CreateInput, readCreateInput } from "../campaigns/create-input";
import { countListed } from "../campaigns/dnc-check";
import { type EstimateAssumptions, estimateDialling, parseAssumptions } from "../campaigns/estimate";
import { parseDefaultCountry } from "../campaigns/ingest";
import { RegionTally } from "../campaigns/number-country";
import { checkSettingsInAccount, type FieldProblemReport, parseCampaignSettings } from "../campaigns/settings";
import { MAX_REPORTED_PROBLEMS, type UploadProblem } from "../campaigns/upload-problems";
import type { AppEnv } from "../env";
import { notFound } from "../http/errors";

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
  const read = await input.contacts(settings.callingWindow, parseDefaultCountry(settings.defaultCountry ?? undefined));

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
  return c.json({
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
        start: settings.scheduledAt ? "scheduled_at" : "now",
        account: "the account's other campaigns are idle and none of today's daily caps is used yet",
        calling_window_zones: zones,
      },
    },
  });
}
