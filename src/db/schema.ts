import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const timestamps = {
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
};

export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name"),
  concurrentMax: integer("concurrent_max").notNull(),
  callsPerMinute: integer("calls_per_minute").notNull(),
  dailyCallsMax: integer("daily_calls_max").notNull(),
  dailyMinutesMax: integer("daily_minutes_max").notNull(),
  ...timestamps,
});

export const accountMembers = sqliteTable(
  "account_members",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    subject: text("subject").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.subject] })],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    // HMAC-SHA256(pepper, key) in hex; the key itself is never stored.
    hash: text("hash").notNull(),
    last8: text("last8").notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at"),
    revokedAt: text("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.hash), index("api_keys_account").on(t.accountId, t.id)],
);

export const agents = sqliteTable(
  "agents",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    status: text("status", { enum: ["draft", "active", "paused", "archived"] }).notNull(),
    streamUrl: text("stream_url"),
    ...timestamps,
  },
  (t) => [index("agents_account").on(t.accountId, t.id)],
);

export const providers = sqliteTable(
  "telephony_providers",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    provider: text("provider", { enum: ["twilio", "plivo", "vobiz", "simulator"] }).notNull(),
    name: text("name"),
    // AES-GCM ciphertext of the credentials JSON: base64(iv || ciphertext).
    credentials: text("credentials").notNull(),
    ...timestamps,
  },
  (t) => [index("providers_account").on(t.accountId, t.id)],
);

export const phoneNumbers = sqliteTable(
  "phone_numbers",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    e164: text("e164").notNull(),
    credentialsId: text("credentials_id")
      .notNull()
      .references(() => providers.id),
    provider: text("provider", { enum: ["twilio", "plivo", "vobiz", "simulator"] }).notNull(),
    agentId: text("agent_id"),
    inboundEnabled: integer("inbound_enabled", { mode: "boolean" }).notNull(),
    outboundEnabled: integer("outbound_enabled", { mode: "boolean" }).notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex("phone_numbers_account_e164").on(t.accountId, t.e164), index("phone_numbers_credentials").on(t.credentialsId)],
);

export const campaignStatuses = ["draft", "scheduled", "running", "paused", "completed", "failed"] as const;
export type CampaignStatus = (typeof campaignStatuses)[number];

export const campaigns = sqliteTable(
  "campaigns",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    agentId: text("agent_id").notNull(),
    phoneNumberId: text("phone_number_id").notNull(),
    maxConcurrentCalls: integer("max_concurrent_calls").notNull(),
    retriesPerContact: integer("retries_per_contact").notNull(),
    retryDelaySeconds: integer("retry_delay_seconds").notNull(),
    defaultCountry: text("default_country"),
    scheduledAt: text("scheduled_at"),
    startedAt: text("started_at"),
    completedAt: text("completed_at"),
    createdBy: text("created_by").notNull(),
    status: text("status", { enum: campaignStatuses }).notNull(),
    statusReason: text("status_reason"),
    duplicatesSkipped: integer("duplicates_skipped").notNull().default(0),
    // Per-status contact counters, kept in step with `contacts` in the same D1 batch.
    total: integer("total").notNull(),
    pending: integer("stat_pending").notNull(),
    originated: integer("stat_originated").notNull().default(0),
    connected: integer("stat_connected").notNull().default(0),
    completed: integer("stat_completed").notNull().default(0),
    failed: integer("stat_failed").notNull().default(0),
    cancelled: integer("stat_cancelled").notNull().default(0),
    // Calling window: all null without one; start/end "HH:MM", days "mon,tue,…", timezone "recipient" or an IANA zone.
    callingWindowStart: text("calling_window_start"),
    callingWindowEnd: text("calling_window_end"),
    callingDays: text("calling_days"),
    callingTimezone: text("calling_timezone"),
    // The campaign this one was cloned from, if any (not a foreign key: the source may be deleted).
    sourceCampaignId: text("source_campaign_id"),
    // The upload's custom-field columns in upload order (JSON array): the CSV export's header.
    customColumns: text("custom_columns").notNull().default("[]"),
    // Call results: the declared disposition names (JSON array, null: any name) and results so far by disposition (JSON object).
    dispositions: text("dispositions"),
    dispositionStats: text("disposition_stats").notNull().default("{}"),
    // The outcomes retried (JSON array); null: busy, no_answer, failed and timeout.
    retryOn: text("retry_on"),
    // What a call answered by a machine gets: the agent, a hang-up, or a message (text or an https audio URL).
    voicemailAction: text("voicemail_action", { enum: ["agent", "hangup", "message"] })
      .notNull()
      .default("agent"),
    voicemailMessage: text("voicemail_message"),
    voicemailAudioUrl: text("voicemail_audio_url"),
    // The failure breaker: pause when this share of the last failure_window dials failed (null: never); ramp-up after each start or resume.
    pauseOnFailureRate: real("pause_on_failure_rate").default(0.8),
    failureWindow: integer("failure_window").notNull().default(20),
    rampUpSeconds: integer("ramp_up_seconds").notNull().default(0),
    ...timestamps,
  },
  (t) => [
    index("campaigns_account").on(t.accountId, t.id),
    index("campaigns_account_status").on(t.accountId, t.status, t.id),
    index("campaigns_number").on(t.phoneNumberId),
    index("campaigns_agent").on(t.agentId),
  ],
);

export const contactStatuses = ["pending", "originated", "connected", "completed", "failed", "cancelled"] as const;
export type ContactStatus = (typeof contactStatuses)[number];

/**
 * A contact's last call result; `dnc` marks a number suppressed by the do-not-call list, `callback` a contact waiting for the callback
 * its agent asked for, `ineligible` one the account's eligibility check refused, `expired` a contact whose expires_at passed before it was reached.
 */
export const contactOutcomes = [
  "answered",
  "voicemail",
  "busy",
  "no_answer",
  "failed",
  "invalid_number",
  "canceled",
  "timeout",
  "dnc",
  "callback",
  "ineligible",
  "expired",
] as const;
export type ContactOutcome = (typeof contactOutcomes)[number];

export const contacts = sqliteTable(
  "contacts",
  {
    // Opaque and unique ("ctc_" + the upload's stem + seq in hex), but not indexed: nothing looks a contact up by it.
    id: text("id").notNull(),
    campaignId: text("campaign_id").notNull(),
    accountId: text("account_id").notNull(),
    // Dense 0-based position among the campaign's contacts: offset pagination becomes a range seek.
    seq: integer("seq").notNull(),
    // The contact's row in the upload (CSV: spreadsheet row, header = 1; JSON: 1-based index).
    row: integer("row").notNull(),
    phoneNumber: text("phone_number").notNull(),
    customFields: text("custom_fields").notNull().default(sql`'{}'`),
    status: text("status", { enum: contactStatuses }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    outcome: text("outcome", { enum: contactOutcomes }),
    lastError: text("last_error"),
    callId: text("call_id"),
    nextAttemptAt: text("next_attempt_at"),
    // The zone the upload's timezone column gave this row, else null (the campaign's or the number's zone applies).
    timezone: text("timezone"),
    // The agent's last reported result for the contact's latest call (JSON, the API's `result` view), its disposition, and callbacks scheduled.
    result: text("result"),
    disposition: text("disposition"),
    callbacks: integer("callbacks").notNull().default(0),
    // The upload's expires_at for this row (RFC 3339, UTC), else null: not dialled after it.
    expiresAt: text("expires_at"),
    ...timestamps,
  },
  // Found by (campaign_id, seq). The status index leaves out pending contacts, so ingest writes no
  // entries there; a query for a settled status adds `status <> 'pending'` so SQLite may use it.
  (t) => [
    uniqueIndex("contacts_campaign_seq").on(t.campaignId, t.seq),
    index("contacts_campaign_settled").on(t.campaignId, t.status, t.seq).where(sql`${t.status} <> 'pending'`),
    index("contacts_campaign_disposition").on(t.campaignId, t.disposition, t.seq).where(sql`${t.disposition} IS NOT NULL`),
  ],
);

/** The account's do-not-call list. WITHOUT ROWID in SQL: the (account, number) key is the row's place, so a lookup is one seek. */
export const dncNumbers = sqliteTable(
  "dnc_numbers",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    // E.164, normalised as at campaign create.
    phoneNumber: text("phone_number").notNull(),
    reason: text("reason"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.phoneNumber] })],
);

export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    // JSON array of subscribed event types.
    events: text("events").notNull(),
    description: text("description"),
    // AES-GCM ciphertext of the whsec_ secret: base64(iv || ciphertext).
    secret: text("secret").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    disabledReason: text("disabled_reason"),
    // Epoch ms of the first failure since the last 2xx (null while healthy), merged from every object that delivers.
    failingSince: integer("failing_since"),
    lastSuccessAt: integer("last_success_at"),
    ...timestamps,
  },
  (t) => [index("webhook_endpoints_account").on(t.accountId, t.id)],
);

export const webhookDeliveryStatuses = ["pending", "delivered", "failed"] as const;

/** The delivery log, written by the outboxes in batches; newest first is message_id descending (ids sort by time). */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    endpointId: text("endpoint_id").notNull(),
    messageId: text("message_id").notNull(),
    accountId: text("account_id").notNull(),
    type: text("type").notNull(),
    status: text("status", { enum: webhookDeliveryStatuses }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    nextAttemptAt: text("next_attempt_at"),
    ...timestamps,
  },
  (t) => [primaryKey({ columns: [t.endpointId, t.messageId] }), index("webhook_deliveries_created").on(t.createdAt)],
);
