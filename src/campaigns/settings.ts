import type { output, ZodType } from "zod";
import { parseResultSettings, type ResultSettings, resultSettingsColumns } from "../call-results/settings";
import { type CallingWindow, callingWindowColumns, parseCallingWindow } from "../calling-window/calling-window";
import { getCampaignStub } from "../campaign-object/stub";
import type { CampaignRow } from "../db/campaign-rows";
import { database, nowIso } from "../db/client";
import { findInAccount } from "../db/queries";
import { agents, phoneNumbers } from "../db/schema";
import type { Env } from "../env";
import { ApiError, badRequest, quoted, shortened } from "../http/errors";
import { parseFields } from "../http/openapi";
import { beyondTimerBound } from "../http/time-bounds";
import { newId } from "../ids";
import { parseDefaultCountry } from "../uploads/phone";
import { BREAKER_OFF, campaignSettingFields as fields, SETTING_DEFAULTS } from "./campaign-schemas";

/** One create field as text, undefined when absent (form field or JSON member alike). */
export type FieldText = (name: string) => string | undefined;

/** What a campaign is told at create (or clone), validated; everything but the contacts. */
export interface CampaignSettings {
  name: string;
  agentId: string;
  phoneNumberId: string;
  maxConcurrentCalls: number;
  retriesPerContact: number;
  retryDelaySeconds: number;
  scheduledAt: string | null;
  defaultCountry: string | null;
  callingWindow: CallingWindow | null;
  results: ResultSettings;
  safety: SafetySettings;
}

/** What keeps a campaign from burning its list: the failure breaker and the ramp-up after each start or resume. */
export interface SafetySettings {
  /** null: the breaker is off. */
  pauseOnFailureRate: number | null;
  failureWindow: number;
  rampUpSeconds: number;
}

/** The safety settings a campaign row holds. */
export const safetySettingsOf = (row: Pick<CampaignRow, "pauseOnFailureRate" | "failureWindow" | "rampUpSeconds">): SafetySettings => ({
  pauseOnFailureRate: row.pauseOnFailureRate,
  failureWindow: row.failureWindow,
  rampUpSeconds: row.rampUpSeconds,
});

/** What a clone inherits when a field is left out: the source's settings; scheduled_at never carries over. */
export type InheritedSettings = Omit<CampaignSettings, "scheduledAt">;

function parseScheduledAt(raw: string | undefined): string | null {
  if (raw === undefined || raw === "") return null;
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
  const ms = Date.parse(raw);
  if (!rfc3339.test(raw) || Number.isNaN(ms)) throw badRequest(`scheduled_at must be an RFC 3339 time such as 2030-01-31T09:00:00Z; got ${quoted(raw)}.`);
  if (ms < Date.now()) throw badRequest(`scheduled_at ${shortened(raw)} is in the past; give a future time or leave it out to create a draft.`);
  const beyond = beyondTimerBound("scheduled_at", ms);
  if (beyond) throw badRequest(beyond);
  return new Date(ms).toISOString();
}

/** A present field, validated by its schema (campaignSettingFields); absent stays undefined. */
function settingOf<S extends ZodType>(text: FieldText, name: keyof typeof fields & string, schema: S): output<S> | undefined {
  const raw = text(name);
  return raw === undefined ? undefined : parseFields(schema, raw);
}

/** Where a field's problem goes: create (and clone) refuse with the first; preflight lists them all. */
export type FieldProblemReport = (field: string, error: ApiError) => void;

const refuseFirst: FieldProblemReport = (_field, error) => {
  throw error;
};

/** Runs one field's rule; a refusal is reported (create: thrown) and the field takes `fallback`. */
function checked<T>(report: FieldProblemReport, field: string, rule: () => T, fallback: T): T {
  try {
    return rule();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    report(field, error);
    return fallback;
  }
}

/** Create's fields with create's rules (the field schemas), in create's order; a clone passes the source's settings as the defaults. */
export function parseCampaignSettings(text: FieldText, inherited?: InheritedSettings, report: FieldProblemReport = refuseFirst): CampaignSettings {
  const field = <T>(name: string, rule: () => T, fallback: T) => checked(report, name, rule, fallback);
  const name = field(
    "name",
    () => {
      const value = settingOf(text, "name", fields.name) ?? inherited?.name;
      if (!value) throw badRequest("name is required.");
      return value;
    },
    "",
  );
  // Both ids are read (and validated) before either is required, as create always has.
  const agentText = field("agent_id", () => settingOf(text, "agent_id", fields.agent_id) ?? inherited?.agentId ?? "", null);
  const numberText = field("phone_number_id", () => settingOf(text, "phone_number_id", fields.phone_number_id) ?? inherited?.phoneNumberId ?? "", null);
  const required = (fieldName: string, value: string | null) =>
    value === null
      ? ""
      : field(
          fieldName,
          () => {
            if (!value) throw badRequest(`${fieldName} is required.`);
            return value;
          },
          "",
        );
  const agentId = required("agent_id", agentText);
  const phoneNumberId = required("phone_number_id", numberText);
  const integer = (fieldName: "max_concurrent_calls" | "retries_per_contact" | "retry_delay_seconds", fallback: number) =>
    field(fieldName, () => settingOf(text, fieldName, fields[fieldName]) ?? fallback, fallback);
  return {
    name,
    agentId,
    phoneNumberId,
    maxConcurrentCalls: integer("max_concurrent_calls", inherited?.maxConcurrentCalls ?? SETTING_DEFAULTS.max_concurrent_calls),
    retriesPerContact: integer("retries_per_contact", inherited?.retriesPerContact ?? SETTING_DEFAULTS.retries_per_contact),
    retryDelaySeconds: integer("retry_delay_seconds", inherited?.retryDelaySeconds ?? SETTING_DEFAULTS.retry_delay_seconds),
    scheduledAt: field("scheduled_at", () => parseScheduledAt(text("scheduled_at")), null),
    defaultCountry: field("default_country", () => parseDefaultCountry(text("default_country")) ?? inherited?.defaultCountry ?? null, null),
    callingWindow: field("calling_window", () => parseCallingWindow(windowFieldText(text, inherited?.callingWindow ?? null)), null),
    results: parseResultSettings(text, inherited?.results, field),
    safety: {
      pauseOnFailureRate: field(
        "pause_on_failure_rate",
        () => {
          const rate = settingOf(text, "pause_on_failure_rate", fields.pause_on_failure_rate);
          // A given null (off) is not "absent": it overrides the default and a clone's source alike.
          return rate !== undefined ? rate : (inherited?.safety.pauseOnFailureRate ?? SETTING_DEFAULTS.pause_on_failure_rate);
        },
        SETTING_DEFAULTS.pause_on_failure_rate,
      ),
      failureWindow: field(
        "failure_window",
        () => settingOf(text, "failure_window", fields.failure_window) ?? inherited?.safety.failureWindow ?? SETTING_DEFAULTS.failure_window,
        SETTING_DEFAULTS.failure_window,
      ),
      rampUpSeconds: field(
        "ramp_up_seconds",
        () => settingOf(text, "ramp_up_seconds", fields.ramp_up_seconds) ?? inherited?.safety.rampUpSeconds ?? SETTING_DEFAULTS.ramp_up_seconds,
        SETTING_DEFAULTS.ramp_up_seconds,
      ),
    },
  };
}

/**
 * A clone keeps each window field of its source unless the body gives it; empty start and end
 * (with no days or zone) copy without a window.
 */
function windowFieldText(text: FieldText, inherited: CallingWindow | null): FieldText {
  if (!inherited || (text("calling_window_start") === "" && text("calling_window_end") === "")) return text;
  const columns = callingWindowColumns(inherited);
  const source: Record<string, string | null> = {
    calling_window_start: columns.callingWindowStart,
    calling_window_end: columns.callingWindowEnd,
    calling_days: columns.callingDays,
    calling_timezone: columns.callingTimezone,
  };
  return (name) => text(name) ?? source[name] ?? undefined;
}

/** The agent and the number must belong to the caller's account, and the number must dial out. */
export async function checkSettingsInAccount(env: Env, accountId: string, settings: CampaignSettings, report: FieldProblemReport = refuseFirst): Promise<void> {
  const db = database(env);
  // A field that is already missing has been reported; there is nothing to look up.
  const [agent, number] = await Promise.all([
    settings.agentId ? findInAccount(db, agents, accountId, settings.agentId) : null,
    settings.phoneNumberId ? findInAccount(db, phoneNumbers, accountId, settings.phoneNumberId) : null,
  ]);
  if (settings.agentId && !agent) report("agent_id", badRequest(`agent_id ${shortened(settings.agentId)} is not an agent of this account.`));
  if (settings.phoneNumberId && !number)
    report("phone_number_id", badRequest(`phone_number_id ${shortened(settings.phoneNumberId)} is not a phone number of this account.`));
  if (number && !number.outboundEnabled) {
    report("phone_number_id", badRequest(`Phone number ${number.e164} is not enabled for outbound calls; PATCH it with outbound_enabled: true.`));
  }
}

/** A new campaign row, every contact pending; the insert's own statements correct the counters (DNC, clone totals). */
export function newCampaignRow(
  settings: CampaignSettings,
  init: {
    accountId: string;
    createdBy: string;
    total: number;
    duplicatesSkipped: number;
    sourceCampaignId: string | null;
    /** The upload's custom-field columns in upload order (a clone keeps its source's). */
    customColumns: readonly string[];
  },
): CampaignRow {
  const now = nowIso();
  return {
    id: newId("cmp"),
    accountId: init.accountId,
    name: settings.name,
    agentId: settings.agentId,
    phoneNumberId: settings.phoneNumberId,
    maxConcurrentCalls: settings.maxConcurrentCalls,
    retriesPerContact: settings.retriesPerContact,
    retryDelaySeconds: settings.retryDelaySeconds,
    defaultCountry: settings.defaultCountry,
    scheduledAt: settings.scheduledAt,
    startedAt: null,
    completedAt: null,
    createdBy: init.createdBy,
    status: settings.scheduledAt ? "scheduled" : "draft",
    statusReason: null,
    duplicatesSkipped: init.duplicatesSkipped,
    total: init.total,
    pending: init.total,
    originated: 0,
    connected: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    sourceCampaignId: init.sourceCampaignId,
    customColumns: JSON.stringify(init.customColumns),
    ...callingWindowColumns(settings.callingWindow),
    ...resultSettingsColumns(settings.results),
    pauseOnFailureRate: settings.safety.pauseOnFailureRate,
    failureWindow: settings.safety.failureWindow,
    rampUpSeconds: settings.safety.rampUpSeconds,
    dispositionStats: "{}",
    createdAt: now,
    updatedAt: now,
  };
}

/** A scheduled campaign's timer lives in its Durable Object; without it the campaign would never start. */
export async function armScheduledStart(env: Env, row: CampaignRow): Promise<void> {
  if (row.status !== "scheduled") return;
  try {
    await getCampaignStub(env, row.id).schedule(row.id);
  } catch (error) {
    // Undo the create rather than keep a campaign that would never start.
    await getCampaignStub(env, row.id)
      .remove(row.id)
      .catch(() => undefined);
    throw error;
  }
}

/** Create fields that take a list: a JSON array of names, or the comma list a form sends. */
const LIST_FIELDS: ReadonlySet<string> = new Set(["calling_days", "dispositions", "retry_on"]);

/** A JSON member as create reads it: strings, numbers and booleans as text, null as absent (but the breaker's null is "off"), a list field's array as a comma list. */
export function jsonFieldValue(name: string, value: unknown): string | undefined {
  if (value === null && name === "pause_on_failure_rate") return BREAKER_OFF;
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && LIST_FIELDS.has(name)) {
    if (!value.every((item) => typeof item === "string")) throw badRequest(`${name} must be an array of names (strings).`);
    return value.join(",");
  }
  if (typeof value === "object") throw badRequest(`${name} must be a string or number.`);
  return String(value);
}

/** Fields of a JSON body as create reads them (jsonFieldValue). */
export const jsonFieldText =
  (body: Record<string, unknown>): FieldText =>
  (name) =>
    jsonFieldValue(name, body[name]);
