/**
 * The edgedial client, for Node 22 and browsers. It uses nothing but `fetch`.
 *
 *   const edgedial = new Edgedial(); // EDGEDIAL_API_KEY and EDGEDIAL_BASE_URL by default
 *   for await (const event of edgedial.campaigns.streamEvents(id)) console.log(event);
 */

export type CampaignStatus = "draft" | "scheduled" | "running" | "paused" | "completed" | "failed";
export type ContactStatus = "pending" | "originated" | "connected" | "completed" | "failed" | "cancelled";
/** A contact's last call result; `dnc` marks a number suppressed by the do-not-call list. */
export type ContactOutcome = "answered" | "voicemail" | "busy" | "no_answer" | "failed" | "invalid_number" | "canceled" | "timeout" | "dnc";

export type DayName = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** When contacts may be called, on each recipient's clock unless `timezone` names one zone. */
export interface CallingWindow {
  /** "HH:MM", 24 h. */
  start: string;
  /** "HH:MM", 24 h ("24:00" = midnight at the end of the day). */
  end: string;
  days: DayName[];
  /** "recipient" or an IANA zone. */
  timezone: string;
}

export interface Stats {
  total: number;
  pending: number;
  originated: number;
  connected: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface Campaign {
  id: string;
  name: string;
  agent_id: string;
  phone_number_id: string;
  max_concurrent_calls: number;
  retries_per_contact: number;
  retry_delay_seconds: number;
  default_country: string | null;
  scheduled_at: string | null;
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
  created_by: string;
  status: CampaignStatus;
  status_reason: string | null;
  stats: Stats;
  calling_window: CallingWindow | null;
  /** The campaign this one was cloned from, else null. */
  source_campaign_id: string | null;
  /** Only on the response to create. */
  duplicates_skipped?: number;
  /** Only on the responses to create and clone: contacts cancelled because their number is on the do-not-call list. */
  dnc_suppressed?: number;
}

export interface Contact {
  id: string;
  campaign_id: string;
  row: number;
  phone_number: string;
  custom_fields: Record<string, string>;
  status: ContactStatus;
  attempts: number;
  outcome: ContactOutcome | null;
  last_error: string | null;
  call_id: string | null;
  next_attempt_at: string | null;
  /** The zone the contact is called by: its own (a `timezone` column), the campaign's, or its number's; null when several apply. */
  timezone: string | null;
  created_at: string;
  updated_at: string;
}

export interface Snapshot {
  campaign_id: string;
  status: CampaignStatus;
  status_reason: string | null;
  stats: Stats;
  in_flight: number;
  attempts: number;
  at: string;
  name: string;
}

export interface ContactTransition {
  contact_id: string;
  phone_number: string;
  status: ContactStatus;
  attempt: number;
  outcome: string | null;
  at: string;
}

export type CampaignEvent = { type: "snapshot"; data: Snapshot } | { type: "contact"; id: number; data: ContactTransition } | { type: "end"; data: Snapshot };

export interface Page<K extends string, T> {
  count: number;
  total: number;
  limit: number;
  offset: number;
  has_next: boolean;
  has_prev: boolean;
  next_offset: number | null;
  prev_offset: number | null;
  items: T[];
  /** The list as the API names it (`campaigns`, `contacts`, …). */
  raw: Record<K, T[]>;
}

export interface CallLimits {
  concurrent_max: number;
  calls_per_minute: number;
  daily_calls_max: number;
  daily_minutes_max: number;
}

export interface Agent {
  id: string;
  name: string;
  status: "draft" | "active" | "paused" | "archived";
  stream_url: string | null;
  created_at: string;
  updated_at: string;
}

export interface Provider {
  id: string;
  provider: "twilio" | "plivo" | "vobiz" | "simulator";
  name: string | null;
  created_at: string;
  updated_at: string;
}

export interface PhoneNumber {
  id: string;
  e164: string;
  credentials_id: string;
  provider: Provider["provider"];
  agent_id: string | null;
  inbound_enabled: boolean;
  outbound_enabled: boolean;
  created_at: string;
  updated_at: string;
}

export type WebhookEventType =
  | "campaign.started"
  | "campaign.paused"
  | "campaign.resumed"
  | "campaign.completed"
  | "campaign.failed"
  | "contact.completed"
  | "contact.failed"
  | "contact.cancelled"
  | "ping";

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  enabled: boolean;
  /** Why the endpoint is disabled (by PATCH, or after 3 days of failures), else null. */
  disabled_reason: string | null;
  created_at: string;
}

export interface WebhookDelivery {
  message_id: string;
  type: WebhookEventType;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
}

export interface CreateCampaignInput {
  name: string;
  agent_id: string;
  phone_number_id: string;
  max_concurrent_calls?: number;
  retries_per_contact?: number;
  retry_delay_seconds?: number;
  scheduled_at?: string | Date;
  default_country?: string;
  /** Calling window: both times ("HH:MM", 24 h) or neither. */
  calling_window_start?: string;
  calling_window_end?: string;
  /** Days the window applies on (default every day): a list or a comma list such as "mon,tue". */
  calling_days?: DayName[] | string;
  /** "recipient" (default: each contact's own zone) or an IANA zone for every contact. */
  calling_timezone?: string;
  /** CSV text, a CSV Blob/File, or contact objects (each with a phone_number; a `timezone` member places that contact). */
  contacts?: string | Blob | Record<string, string | number | boolean | null>[];
  /** Node only: a path to a CSV file, read when the request is made. */
  contactsPath?: string;
}

/** Clone options: which contacts to copy (both filters must match when both are given) and any create field to change. */
export interface CloneCampaignInput {
  name?: string;
  statuses?: ContactStatus[];
  outcomes?: ContactOutcome[];
  agent_id?: string;
  phone_number_id?: string;
  max_concurrent_calls?: number;
  retries_per_contact?: number;
  retry_delay_seconds?: number;
  scheduled_at?: string | Date;
  default_country?: string;
  /** Window fields left out keep the source's; empty start and end copy without a window. */
  calling_window_start?: string;
  calling_window_end?: string;
  calling_days?: DayName[] | string;
  calling_timezone?: string;
}

export interface DncEntry {
  phone_number: string;
  reason: string | null;
  created_at: string;
}

/** Numbers to block, as a list or as CSV (a `phone_number` column); national numbers need default_country. */
export type DncAddInput = { reason?: string; default_country?: string } & ({ numbers: (string | number)[] } | { csv: string | Blob });

export interface DncAddResult {
  added: number;
  already_listed: number;
  /** Numbers that could not be read: CSV spreadsheet row (header = 1) or 1-based position in `numbers`. */
  invalid: { row: number; value: string }[];
}

/** The forecast's assumptions; each may be overridden per preflight. */
export interface PreflightAssumptions {
  answer_rate: number;
  average_call_seconds: number;
  unanswered_call_seconds: number;
  retry_share: number;
}

export interface Preflight {
  /** Whether create would accept this body. */
  ok: boolean;
  /** Contacts create would write (repeats dropped; do-not-call numbers included, as cancelled). */
  contacts: number;
  duplicates_skipped: number;
  dnc_suppressed: number;
  /** The first 100 problems; `row` as create numbers rows, null for a form field or the whole upload. */
  errors: { row: number | null; value: string | null; reason: string }[];
  errors_total: number;
  /** Contacts by region of their number (ISO 3166 alpha-2; ZZ when the number does not tell). */
  countries: Record<string, number>;
  estimate: {
    dials: number;
    dials_max: number;
    talk_minutes: number;
    concurrency: number;
    dials_per_minute: number;
    limited_by: "concurrency" | "calls_per_minute" | "daily_calls_max" | "daily_minutes_max" | "calling_window" | "retries";
    starts_at: string;
    finishes_at: string | null;
    duration_seconds: number | null;
    assumptions: PreflightAssumptions & { retries: string; start: "now" | "scheduled_at"; account: string; calling_window_zones: string[] | null };
  };
}

export interface ListOptions {
  limit?: number;
  offset?: number;
}

export interface StreamOptions {
  /** Resume after this event id (as a reconnecting EventSource would). */
  lastEventId?: number;
  signal?: AbortSignal;
  /** Reconnection attempts in a row before giving up (default 10). */
  maxReconnects?: number;
}

export interface EdgedialOptions {
  apiKey?: string;
  baseUrl?: string;
  /** Another fetch (a test double, a proxy-aware one); the global one by default. */
  fetch?: (input: Request) => Promise<Response>;
}

/** Any error answer of the API: its HTTP status, snake_case code and sentence. */
export class ApiError extends Error {
  override readonly name: string = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** 429: wait `retryAfter` seconds (when the server says) before trying again. */
export class RateLimitError extends ApiError {
  override readonly name = "RateLimitError";
  constructor(
    message: string,
    readonly retryAfter: number | null,
  ) {
    super(429, "rate_limited", message);
  }
}

type Query = Record<string, string | number | undefined>;

const readEnv = (name: string): string | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name] || undefined;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  let code = `http_${response.status}`;
  let message = text || response.statusText;
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {}
  if (response.status === 429) {
    const retryAfter = Number(response.headers.get("Retry-After"));
    return new RateLimitError(message, Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null);
  }
  return new ApiError(response.status, code, message);
}

function page<K extends string, T>(key: K, body: Record<string, unknown>): Page<K, T> {
  const items = body[key] as T[];
  return {
    count: body.count as number,
    total: body.total as number,
    limit: body.limit as number,
    offset: body.offset as number,
    has_next: body.has_next as boolean,
    has_prev: body.has_prev as boolean,
    next_offset: body.next_offset as number | null,
    prev_offset: body.prev_offset as number | null,
    items,
    raw: { [key]: items } as Record<K, T[]>,
  };
}

/** Splits an SSE byte stream into events (fields per the WHATWG EventSource rules that edgedial uses). */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; id: string | null; data: string; retry: number | null }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        let id: string | null = null;
        let retry: number | null = null;
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line === "" || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = value;
          else if (field === "id") id = value;
          else if (field === "data") data.push(value);
          else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
        }
        yield { event, id, data: data.join("\n"), retry };
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

export class Edgedial {
  readonly campaigns: Campaigns;
  readonly callLimits: { get: () => Promise<CallLimits> };
  readonly agents: Agents;
  readonly telephony: Telephony;
  readonly dnc: DoNotCall;
  readonly webhooks: Webhooks;
  private readonly apiKey: string | undefined;
  private readonly baseUrl: string;
  private readonly doFetch: (input: Request) => Promise<Response>;

  constructor(options: EdgedialOptions = {}) {
    this.apiKey = options.apiKey ?? readEnv("EDGEDIAL_API_KEY");
    this.baseUrl = (options.baseUrl ?? readEnv("EDGEDIAL_BASE_URL") ?? "http://127.0.0.1:8787").replace(/\/$/, "");
    this.doFetch = options.fetch ?? ((request) => fetch(request));
    this.campaigns = new Campaigns(this);
    this.callLimits = { get: () => this.request<CallLimits>("GET", "/api/v1/call-limits") };
    this.agents = new Agents(this);
    this.telephony = new Telephony(this);
    this.dnc = new DoNotCall(this);
    this.webhooks = new Webhooks(this);
  }

  /** @internal */
  url(path: string, query: Query = {}): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  /** @internal */
  async send(
    method: string,
    path: string,
    init: { query?: Query; json?: unknown; body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ) {
    const headers: Record<string, string> = { Accept: "application/json", ...init.headers };
    if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    const response = await this.doFetch(new Request(this.url(path, init.query), { method, headers, body, signal: init.signal }));
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  /** @internal */
  async request<T>(method: string, path: string, init: { query?: Query; json?: unknown; body?: BodyInit } = {}): Promise<T> {
    const response = await this.send(method, path, init);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}

class Campaigns {
  constructor(private readonly client: Edgedial) {}

  async list(options: ListOptions & { status?: CampaignStatus } = {}) {
    return page<"campaigns", Campaign>("campaigns", await this.client.request("GET", "/api/v1/campaigns", { query: { ...options } }));
  }

  get(id: string) {
    return this.client.request<Campaign>("GET", `/api/v1/campaigns/${encodeURIComponent(id)}`);
  }

  async create(input: CreateCampaignInput): Promise<Campaign> {
    return this.client.request("POST", "/api/v1/campaigns", await this.createBody(input));
  }

  /**
   * Checks a create body without creating anything: every problem create would refuse (rows as
   * create numbers them), what it would write, and a forecast. `assumptions` override the
   * forecast's named assumptions.
   */
  async preflight(input: CreateCampaignInput, assumptions: Partial<PreflightAssumptions> = {}): Promise<Preflight> {
    const query: Query = {};
    for (const [key, value] of Object.entries(assumptions)) if (typeof value === "number") query[key] = value;
    return this.client.request("POST", "/api/v1/campaigns/preflight", { ...(await this.createBody(input)), query });
  }

  /** The create body: JSON when the contacts are objects, else multipart with the CSV. */
  private async createBody(input: CreateCampaignInput): Promise<{ json: unknown } | { body: FormData }> {
    const { contacts, contactsPath, ...fields } = input;
    const scheduledAt = fields.scheduled_at instanceof Date ? fields.scheduled_at.toISOString() : fields.scheduled_at;
    const plain = { ...fields, ...(scheduledAt !== undefined && { scheduled_at: scheduledAt }) };
    if (Array.isArray(contacts)) return { json: { ...plain, contacts } };
    let csv: Blob;
    if (contactsPath !== undefined) {
      // A computed specifier keeps browser bundles and the Workers type check away from Node's fs.
      const fsModule = "node:fs/promises";
      const { readFile } = (await import(fsModule)) as { readFile(path: string): Promise<Uint8Array<ArrayBuffer>> };
      csv = new Blob([await readFile(contactsPath)], { type: "text/csv" });
    } else if (typeof contacts === "string") {
      csv = new Blob([contacts], { type: "text/csv" });
    } else if (contacts instanceof Blob) {
      csv = contacts;
    } else {
      throw new TypeError("create needs contacts (CSV text, a Blob or an array of objects) or contactsPath.");
    }
    const form = new FormData();
    for (const [key, value] of Object.entries(plain)) if (value !== undefined) form.set(key, String(value));
    form.set("contacts", csv, "contacts.csv");
    return { body: form };
  }

  /** A new draft (or scheduled) campaign with the source's matching contacts, pending again. */
  clone(id: string, input: CloneCampaignInput = {}) {
    const scheduledAt = input.scheduled_at instanceof Date ? input.scheduled_at.toISOString() : input.scheduled_at;
    return this.client.request<Campaign>("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/clone`, {
      json: { ...input, ...(scheduledAt !== undefined && { scheduled_at: scheduledAt }) },
    });
  }

  start(id: string) {
    return this.client.request<Campaign>("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/start`);
  }

  pause(id: string) {
    return this.client.request<Campaign>("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/pause`);
  }

  resume(id: string) {
    return this.client.request<Campaign>("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/resume`);
  }

  stop(id: string) {
    return this.client.request<Campaign>("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/stop`);
  }

  async delete(id: string): Promise<void> {
    await this.client.request("DELETE", `/api/v1/campaigns/${encodeURIComponent(id)}`);
  }

  async listContacts(id: string, options: ListOptions & { status?: ContactStatus; page?: number } = {}) {
    return page<"contacts", Contact>(
      "contacts",
      await this.client.request("GET", `/api/v1/campaigns/${encodeURIComponent(id)}/contacts`, { query: { ...options } }),
    );
  }

  /**
   * The contacts as CSV (`text/csv`, the upload's own columns after the fixed ones), streamed as the
   * server reads them: pipe it to a file rather than holding it whole. `status` keeps one status.
   */
  async exportContacts(id: string, options: { status?: ContactStatus; signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.client.send("GET", `/api/v1/campaigns/${encodeURIComponent(id)}/contacts.csv`, {
      query: { status: options.status },
      // JSON ranks above text/plain, so an error still arrives with its code.
      headers: { Accept: "text/csv, application/json;q=0.9" },
      signal: options.signal,
    });
    return response.body ?? new Blob([]).stream();
  }

  /** A short-lived token for a browser EventSource: `…/events?token=`; `origin` binds it to one page origin. */
  eventsToken(id: string, options: { origin?: string } = {}) {
    return this.client.request<{ campaign_id: string; token: string; expires_at: string }>("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/events/token`, {
      json: options.origin ? { origin: options.origin } : undefined,
    });
  }

  /**
   * Live events until the campaign ends. Reconnects after a dropped stream with Last-Event-ID, so no
   * contact transition is lost or repeated; API errors (404, 401, …) end it by throwing.
   */
  async *streamEvents(id: string, options: StreamOptions = {}): AsyncGenerator<CampaignEvent> {
    let lastEventId = options.lastEventId ?? null;
    let retryMs = 3_000;
    let failures = 0;
    const maxReconnects = options.maxReconnects ?? 10;
    for (;;) {
      let response: Response;
      try {
        response = await this.client.send("GET", `/api/v1/campaigns/${encodeURIComponent(id)}/events`, {
          headers: { Accept: "text/event-stream", ...(lastEventId !== null && { "Last-Event-ID": String(lastEventId) }) },
          signal: options.signal,
        });
      } catch (error) {
        if (error instanceof ApiError && error.status < 500) throw error;
        if (options.signal?.aborted || ++failures > maxReconnects) throw error;
        await sleep(retryMs, options.signal);
        continue;
      }
      try {
        for await (const message of sseEvents(response.body as ReadableStream<Uint8Array>)) {
          if (message.retry !== null) retryMs = message.retry;
          if (!message.data) continue;
          const data = JSON.parse(message.data);
          if (message.event === "contact") {
            lastEventId = Number(message.id);
            failures = 0;
            yield { type: "contact", id: lastEventId, data };
          } else if (message.event === "end") {
            yield { type: "end", data };
            return;
          } else {
            yield { type: "snapshot", data };
          }
        }
      } catch (error) {
        if (options.signal?.aborted) throw error;
      }
      // The stream closed without `end` (a lifetime limit or a dropped connection): pick up where it left off.
      if (++failures > maxReconnects) throw new Error(`The events stream of ${id} kept dropping; gave up after ${maxReconnects} reconnects.`);
      await sleep(retryMs, options.signal);
    }
  }
}

class Agents {
  constructor(private readonly client: Edgedial) {}
  async list(options: ListOptions & { status?: Agent["status"] } = {}) {
    return page<"agents", Agent>("agents", await this.client.request("GET", "/api/v1/agents", { query: { ...options } }));
  }
  get(id: string) {
    return this.client.request<Agent>("GET", `/api/v1/agents/${encodeURIComponent(id)}`);
  }
  create(input: { name: string; status?: Agent["status"]; stream_url?: string }) {
    return this.client.request<Agent>("POST", "/api/v1/agents", { json: input });
  }
  update(id: string, input: Partial<{ name: string; status: Agent["status"]; stream_url: string | null }>) {
    return this.client.request<Agent>("PATCH", `/api/v1/agents/${encodeURIComponent(id)}`, { json: input });
  }
  async delete(id: string): Promise<void> {
    await this.client.request("DELETE", `/api/v1/agents/${encodeURIComponent(id)}`);
  }
}

class Telephony {
  readonly providers: {
    list: (options?: ListOptions) => Promise<Page<"providers", Provider>>;
    get: (id: string) => Promise<Provider>;
    create: (input: { provider: Provider["provider"]; name?: string; credentials?: Record<string, string> }) => Promise<Provider>;
    delete: (id: string) => Promise<void>;
  };
  readonly numbers: {
    list: (options?: ListOptions) => Promise<Page<"numbers", PhoneNumber>>;
    get: (id: string) => Promise<PhoneNumber>;
    create: (input: {
      e164: string;
      credentials_id: string;
      provider: Provider["provider"];
      agent_id?: string;
      inbound_enabled?: boolean;
      outbound_enabled?: boolean;
    }) => Promise<PhoneNumber>;
    update: (id: string, input: Partial<{ agent_id: string | null; inbound_enabled: boolean; outbound_enabled: boolean }>) => Promise<PhoneNumber>;
    delete: (id: string) => Promise<void>;
  };

  constructor(client: Edgedial) {
    const path = (kind: string, id?: string) => `/api/v1/telephony/${kind}${id ? `/${encodeURIComponent(id)}` : ""}`;
    this.providers = {
      list: async (options = {}) => page("providers", await client.request("GET", path("providers"), { query: { ...options } })),
      get: (id) => client.request("GET", path("providers", id)),
      create: (input) => client.request("POST", path("providers"), { json: input }),
      delete: async (id) => {
        await client.request("DELETE", path("providers", id));
      },
    };
    this.numbers = {
      list: async (options = {}) => page("numbers", await client.request("GET", path("numbers"), { query: { ...options } })),
      get: (id) => client.request("GET", path("numbers", id)),
      create: (input) => client.request("POST", path("numbers"), { json: input }),
      update: (id, input) => client.request("PATCH", path("numbers", id), { json: input }),
      delete: async (id) => {
        await client.request("DELETE", path("numbers", id));
      },
    };
  }
}

/** The account's do-not-call list. Numbers are E.164 (`+` and digits); the client URL-encodes them. */
class DoNotCall {
  constructor(private readonly client: Edgedial) {}

  /** In number order; `prefix` (E.164 with its `+`) narrows to numbers that start with it. */
  async list(options: ListOptions & { prefix?: string } = {}) {
    return page<"numbers", DncEntry>("numbers", await this.client.request("GET", "/api/v1/dnc", { query: { ...options } }));
  }

  get(phoneNumber: string) {
    return this.client.request<DncEntry>("GET", `/api/v1/dnc/${encodeURIComponent(phoneNumber)}`);
  }

  add(input: DncAddInput): Promise<DncAddResult> {
    if ("numbers" in input) return this.client.request("POST", "/api/v1/dnc", { json: input });
    const { csv, reason, default_country } = input;
    return this.client.request("POST", "/api/v1/dnc", {
      query: { reason, default_country },
      body: new Blob([csv], { type: "text/csv" }),
    });
  }

  async remove(phoneNumber: string): Promise<void> {
    await this.client.request("DELETE", `/api/v1/dnc/${encodeURIComponent(phoneNumber)}`);
  }
}

class Webhooks {
  constructor(private readonly client: Edgedial) {}
  private path(id?: string, tail = "") {
    return `/api/v1/webhooks${id ? `/${encodeURIComponent(id)}` : ""}${tail}`;
  }
  /** The answer alone carries `secret` (`whsec_…`): keep it to verify deliveries. */
  create(input: { url: string; events?: WebhookEventType[]; description?: string; enabled?: boolean }) {
    return this.client.request<WebhookEndpoint & { secret: string }>("POST", this.path(), { json: input });
  }
  async list(options: ListOptions = {}) {
    return page<"webhooks", WebhookEndpoint>("webhooks", await this.client.request("GET", this.path(), { query: { ...options } }));
  }
  get(id: string) {
    return this.client.request<WebhookEndpoint>("GET", this.path(id));
  }
  update(id: string, input: Partial<{ url: string; events: WebhookEventType[]; description: string | null; enabled: boolean }>) {
    return this.client.request<WebhookEndpoint>("PATCH", this.path(id), { json: input });
  }
  async remove(id: string): Promise<void> {
    await this.client.request("DELETE", this.path(id));
  }
  /** Sends a `ping` through the outbox like any message; answers its message id (the `webhook-id` it arrives with). */
  test(id: string) {
    return this.client.request<{ message_id: string }>("POST", this.path(id, "/test"));
  }
  async deliveries(id: string, options: ListOptions & { status?: WebhookDelivery["status"] } = {}) {
    return page<"deliveries", WebhookDelivery>("deliveries", await this.client.request("GET", this.path(id, "/deliveries"), { query: { ...options } }));
  }
}
