import { z } from "@hono/zod-openapi";
import { RETRY_ON_CHOICES } from "../call-results/redial";
import { DAY_NAMES } from "../calling-window/calling-window";
import { campaignStatuses, contactOutcomes, contactStatuses } from "../db/schema";
import { quoted } from "../http/errors";
import { csvFileSchema, listEnvelopeSchema, wholeNumber } from "../http/openapi";

/**
 * What create and clone take and what the campaign routes answer, as schemas: the routes document
 * these, and the create parser (parseCampaignSettings) validates each field with the same schema.
 */

/** Defaults of the settings create leaves out (clone inherits the source's instead). */
export const SETTING_DEFAULTS = {
  max_concurrent_calls: 5,
  retries_per_contact: 0,
  retry_delay_seconds: 300,
  pause_on_failure_rate: 0.8,
  failure_window: 20,
  ramp_up_seconds: 0,
} as const;

/** The text a form (or JSON) gives pause_on_failure_rate to turn the breaker off; JSON null reads as it too. */
export const BREAKER_OFF = "off";

/** A share from 0.05 to 1 as text or a number, or `off`; absent or empty means "use the default". */
const failureRate = z
  .preprocess(
    (raw) => {
      if (raw === "" || raw === undefined) return undefined;
      if (raw === BREAKER_OFF) return null;
      return typeof raw === "string" && /^\s*\d*\.?\d+\s*$/.test(raw) ? Number(raw) : raw;
    },
    z
      .number({ error: (issue) => `pause_on_failure_rate must be a share from 0.05 to 1, or null (off); got ${quoted(issue.input)}` })
      .min(0.05, { error: (issue) => `pause_on_failure_rate must be from 0.05 to 1, or null (off); got ${quoted(issue.input)}` })
      .max(1, { error: (issue) => `pause_on_failure_rate must be from 0.05 to 1, or null (off); got ${quoted(issue.input)}` })
      .nullable()
      .optional(),
  )
  .optional()
  .openapi({
    type: ["number", "null"],
    minimum: 0.05,
    maximum: 1,
    default: SETTING_DEFAULTS.pause_on_failure_rate,
    description:
      "The failure breaker: the campaign pauses itself when at least this share of its last failure_window dials ended failed or timeout. null (or `off` in a form) turns it off.",
  });

/** Each create field as a form field or a JSON member: text, or a JSON scalar read as text. */
export const campaignSettingFields = {
  name: z.string().trim().min(1, "name is required").max(200, "name must be at most 200 characters"),
  agent_id: z.string().trim().min(1, "agent_id is required").describe("An agent of this account (`agt_…`); only an active agent can start."),
  phone_number_id: z
    .string()
    .trim()
    .min(1, "phone_number_id is required")
    .describe("A number of this account (`pn_…`) with outbound_enabled; the caller id of every call."),
  max_concurrent_calls: wholeNumber("max_concurrent_calls", 1, 100).openapi({
    default: SETTING_DEFAULTS.max_concurrent_calls,
    description: "Calls in flight at once for this campaign (the account's concurrent_max bounds the sum of running campaigns).",
  }),
  retries_per_contact: wholeNumber("retries_per_contact", 0, 5).openapi({
    default: SETTING_DEFAULTS.retries_per_contact,
    description: "Redials after busy, no_answer, failed or timeout.",
  }),
  retry_delay_seconds: wholeNumber("retry_delay_seconds", 60, 7 * 86_400).openapi({
    default: SETTING_DEFAULTS.retry_delay_seconds,
    description: "Seconds from the end of an attempt to its retry.",
  }),
  pause_on_failure_rate: failureRate,
  failure_window: wholeNumber("failure_window", 5, 500).openapi({
    default: SETTING_DEFAULTS.failure_window,
    description: "How many of the latest dials the failure breaker judges; it judges only once that many have ended.",
  }),
  ramp_up_seconds: wholeNumber("ramp_up_seconds", 0, 3_600).openapi({
    default: SETTING_DEFAULTS.ramp_up_seconds,
    description: "After each start or resume, concurrency rises evenly from 1 to max_concurrent_calls over this many seconds; 0 starts at full concurrency.",
  }),
  scheduled_at: z.string().optional().openapi({
    format: "date-time",
    description: "RFC 3339, in the future: the campaign is created scheduled and starts itself then.",
    example: "2030-01-31T09:00:00Z",
  }),
  default_country: z.string().optional().openapi({ description: "ISO 3166 alpha-2 country for national numbers in the contacts.", example: "US" }),
  calling_window_start: z
    .string()
    .optional()
    .openapi({ description: "HH:MM (24 h) on each contact's clock; with calling_window_end, or neither.", example: "09:00" }),
  calling_window_end: z.string().optional().openapi({ description: "HH:MM (24 h), after the start; 24:00 is the end of the day.", example: "20:00" }),
  calling_days: z
    .union([z.string(), z.array(z.enum(DAY_NAMES))])
    .optional()
    .openapi({ description: "Comma list (or JSON array) of mon, tue, wed, thu, fri, sat, sun; default every day.", example: "mon,tue,wed,thu,fri" }),
  calling_timezone: z
    .string()
    .optional()
    .openapi({ description: "`recipient` (each contact's own zone, the default) or one IANA zone for every contact.", example: "recipient" }),
  dispositions: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({
      description: "The disposition names agents may report (JSON array or comma list of 1–64 characters of a-z, 0-9 and _); default: any name.",
      example: "interested,not_interested,callback_requested",
    }),
  retry_on: z
    .union([z.string(), z.array(z.enum(RETRY_ON_CHOICES))])
    .optional()
    .openapi({
      description: "The outcomes retried (JSON array or comma list of busy, no_answer, failed, timeout, voicemail); default the first four.",
      example: "busy,no_answer",
    }),
  voicemail_action: z
    .enum(["agent", "hangup", "message"])
    .optional()
    .openapi({ description: "A call a machine answers: `agent` (default; the agent hears answered_by=machine), `hangup`, or `message`." }),
  voicemail_message: z
    .string()
    .optional()
    .openapi({ description: "With voicemail_action message: text (at most 1,000 characters) the carrier speaks after the beep." }),
  voicemail_audio_url: z
    .string()
    .optional()
    .openapi({ description: "With voicemail_action message: an https audio file played after the beep, instead of text." }),
};

const contactInputSchema = z
  .object({
    phone_number: z.union([z.string(), z.number()]).describe("E.164, or national with default_country; the key's case and spaces are ignored."),
    timezone: z.string().optional().describe("IANA zone of this contact, over the number's own and calling_timezone."),
    expires_at: z
      .string()
      .optional()
      .openapi({ format: "date-time", description: "RFC 3339: not dialled from then on; the contact then ends cancelled with outcome `expired`." }),
  })
  .catchall(z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .describe("Every other member becomes a custom field (as text, at most 64 KB of JSON per contact), passed to the agent as a variable.");

const createCampaignJsonSchema = z
  .object({ ...campaignSettingFields, contacts: z.array(contactInputSchema).describe("In dialling order; a repeated number is dialled once.") })
  .openapi("CreateCampaignJson");

const createCampaignFormSchema = z
  .object({
    ...campaignSettingFields,
    calling_days: z.string().optional().openapi({ description: "Comma list of mon, tue, wed, thu, fri, sat, sun; default every day." }),
    dispositions: z.string().optional().openapi({ description: "Comma list of the disposition names agents may report; default: any name." }),
    retry_on: z.string().optional().openapi({ description: "Comma list of the outcomes retried: busy, no_answer, failed, timeout, voicemail." }),
    contacts: csvFileSchema.describe(
      "CSV, at most 10 MB: a phone_number column, optional timezone and expires_at (RFC 3339) columns, every other column a custom field (at most 64 KB of JSON per contact). UTF-8, BOM and CRLF tolerated.",
    ),
  })
  .openapi("CreateCampaignForm");

const appendContactsNote = "The campaign's own custom columns, no other and none missing (any order); phone_number, timezone and expires_at as at create.";

/** An append's body in its three media types. */
export const appendContactsBody = {
  required: true,
  content: {
    "multipart/form-data": {
      schema: z.object({ contacts: csvFileSchema.describe(`CSV, at most 10 MB. ${appendContactsNote}`) }).openapi("AppendContactsForm"),
    },
    "text/csv": { schema: z.string().openapi({ description: `The CSV itself, at most 10 MB. ${appendContactsNote}` }) },
    "application/json": {
      schema: z
        .object({ contacts: z.array(contactInputSchema).describe(`After the campaign's contacts, in this order. ${appendContactsNote}`) })
        .openapi("AppendContactsJson"),
    },
  },
};

/** Create's body in its two media types; preflight takes exactly the same. */
export const createCampaignBody = {
  required: true,
  content: { "multipart/form-data": { schema: createCampaignFormSchema }, "application/json": { schema: createCampaignJsonSchema } },
};

const { name: _name, ...settingsBesideName } = campaignSettingFields;
const settingOverrides = z.object(settingsBesideName).partial().shape;

export const cloneCampaignSchema = z
  .strictObject({
    name: campaignSettingFields.name.optional().describe("Default: the source's name with (copy)."),
    statuses: z.array(z.enum(contactStatuses)).min(1).optional().describe("Copy only contacts in one of these statuses."),
    outcomes: z.array(z.enum(contactOutcomes)).min(1).optional().describe("Copy only contacts whose last outcome is one of these."),
    ...settingOverrides,
  })
  .openapi("CloneCampaign", {
    description: "Every field is optional: a field left out keeps the source's setting (scheduled_at never carries over). No body at all copies every contact.",
  });

const timestamp = z.string().openapi({ format: "date-time" });

const callingWindowSchema = z.object({ start: z.string(), end: z.string(), days: z.array(z.enum(DAY_NAMES)), timezone: z.string() }).openapi("CallingWindow");

export const campaignSchema = z
  .object({
    id: z.string().openapi({ example: "cmp_01jz3k4m5n6p7q8r9s0t1v2w3x" }),
    name: z.string(),
    agent_id: z.string(),
    phone_number_id: z.string(),
    max_concurrent_calls: z.int(),
    retries_per_contact: z.int(),
    retry_delay_seconds: z.int(),
    default_country: z.string().nullable(),
    scheduled_at: timestamp.nullable(),
    started_at: timestamp.nullable(),
    completed_at: timestamp.nullable(),
    created_at: timestamp,
    created_by: z.string().describe("The API key id or session subject that created it."),
    status: z.enum(campaignStatuses),
    status_reason: z.string().nullable().describe("Why it waits or failed, else null."),
    stats: z.object({
      total: z.int(),
      pending: z.int(),
      originated: z.int(),
      connected: z.int(),
      completed: z.int(),
      failed: z.int(),
      cancelled: z.int(),
      dispositions: z.record(z.string(), z.int()).describe("Contacts by the disposition of their latest result."),
    }),
    calling_window: callingWindowSchema.nullable(),
    dispositions: z.array(z.string()).nullable().describe("The declared disposition names, or null when any name is taken."),
    retry_on: z.array(z.enum(RETRY_ON_CHOICES)).describe("The outcomes retried."),
    voicemail_action: z.enum(["agent", "hangup", "message"]),
    voicemail_message: z.string().nullable(),
    voicemail_audio_url: z.string().nullable(),
    pause_on_failure_rate: z.number().nullable().describe("The failure breaker's share of failed dials that pauses the campaign; null: off."),
    failure_window: z.int().describe("The latest dials the failure breaker judges."),
    ramp_up_seconds: z.int().describe("Seconds over which concurrency rises to max_concurrent_calls after a start or resume."),
    source_campaign_id: z.string().nullable().describe("The campaign this one was cloned from."),
  })
  .openapi("Campaign", { description: "data.Campaign" });

export const createdCampaignSchema = campaignSchema
  .extend({
    duplicates_skipped: z.int().describe("Rows whose number repeated an earlier row."),
    dnc_suppressed: z.int().describe("Contacts on the do-not-call list, created cancelled with outcome dnc."),
  })
  .openapi("CreatedCampaign", { description: "data.Campaign with what the upload skipped." });

export const clonedCampaignSchema = campaignSchema
  .extend({ dnc_suppressed: z.int().describe("Copied contacts now on the do-not-call list, created cancelled with outcome dnc.") })
  .openapi("ClonedCampaign", { description: "data.Campaign of the copy, with the copied contacts now on the do-not-call list." });

const contactResultSchema = z
  .object({
    disposition: z.string(),
    data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
    summary: z.string().nullable(),
    transcript_url: z.string().nullable(),
    recording_url: z.string().nullable(),
    call_id: z.string().describe("The call the result is for (`call_…`)."),
    reported_at: timestamp,
  })
  .openapi("ContactResult");

export const contactSchema = z
  .object({
    id: z.string().openapi({ example: "ctc_01jz3k4m5n6p7q000001" }),
    campaign_id: z.string(),
    row: z.int().describe("The contact's place in the upload (CSV data row or JSON position, from 1)."),
    phone_number: z.string(),
    custom_fields: z.record(z.string(), z.string()),
    status: z.enum(contactStatuses),
    attempts: z.int(),
    outcome: z.enum(contactOutcomes).nullable(),
    last_error: z.string().nullable(),
    call_id: z.string().nullable(),
    next_attempt_at: timestamp.nullable(),
    timezone: z.string().nullable().describe("The row's zone, else calling_timezone, else the number's (null when several apply)."),
    result: contactResultSchema.nullable().describe("The agent's latest result for the contact's latest call, or null."),
    callbacks: z.int().describe("Callbacks scheduled for this contact (at most 5)."),
    expires_at: timestamp.nullable().describe("Not dialled after this time (the upload's expires_at); it then ends cancelled with outcome `expired`."),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi("Contact");

export const appendedContactsSchema = z
  .object({
    added: z.int().describe("Contacts added, DNC-suppressed ones included."),
    duplicates_skipped: z.int().describe("Rows whose number is repeated in the upload or already in the campaign."),
    dnc_suppressed: z.int().describe("Of the added, numbers on the do-not-call list (added cancelled, never dialled)."),
    total: z.int().describe("The campaign's contacts now."),
  })
  .openapi("AppendedContacts");

export const campaignListSchema = listEnvelopeSchema("campaigns", campaignSchema, "CampaignList");
export const contactListSchema = listEnvelopeSchema("contacts", contactSchema, "ContactList");

export const eventsTokenSchema = z
  .object({ campaign_id: z.string(), token: z.string().describe("Send as ?token= on the events URLs."), expires_at: timestamp })
  .openapi("EventsToken");

/** `?disposition=`: contacts whose latest result has this disposition. */
export const dispositionQuery = z
  .string()
  .regex(/^[a-z0-9_]{1,64}$/, "disposition must be 1–64 characters of a-z, 0-9 and _")
  .optional()
  .openapi({ description: "Only contacts whose latest result has this disposition." });

export const scheduleCallbackSchema = z
  .strictObject(
    {
      callback_at: z
        .string({ error: "callback_at is required: an RFC 3339 time 1 minute to 30 days ahead" })
        .regex(/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/, "callback_at must be an RFC 3339 time such as 2030-01-31T15:00:00Z")
        .openapi({ format: "date-time" }),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}` : undefined) },
  )
  .openapi("ScheduleCallback");
