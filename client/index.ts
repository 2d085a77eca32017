/**
 * The edgedial client, for Node 22 and browsers. It uses nothing but `fetch`.
 *
 *   const edgedial = new Edgedial(); // EDGEDIAL_API_KEY and EDGEDIAL_BASE_URL by default
 *   for await (const event of edgedial.campaigns.streamEvents(id)) console.log(event);
 *
 * Its types are the service's own: aliases into api-types.ts, which is generated from the
 * service's OpenAPI document, and the event stream's types from the shared stream module.
 */

import type { CampaignEvent } from "../public/campaign-stream.js";
import { streamCampaignEvents } from "../public/campaign-stream.js";
import type { components, paths } from "./api-types";

export type { CampaignEvent, ContactTransition, ResultEvent, Snapshot } from "../public/campaign-stream.js";
export type { components, paths } from "./api-types";

type Schemas = components["schemas"];
/** The JSON request body of an operation in the document. */
type JsonBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;
/** The query parameters of a GET in the document. */
type QueryOf<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> : never;

export type Campaign = Schemas["Campaign"];
/** The answer to create: the campaign and what its upload skipped. */
export type CreatedCampaign = Schemas["CreatedCampaign"];
/** The answer to clone: the copy and its copied contacts now on the do-not-call list. */
export type ClonedCampaign = Schemas["ClonedCampaign"];
export type CampaignStatus = Campaign["status"];
export type Stats = Campaign["stats"];
/** When contacts may be called, on each recipient's clock unless `timezone` names one zone. */
export type CallingWindow = NonNullable<Schemas["CallingWindow"]>;
export type DayName = CallingWindow["days"][number];
export type Contact = Schemas["Contact"];
export type ContactStatus = Contact["status"];
/** A contact's last call result; `dnc` marks a number suppressed by the do-not-call list. */
export type ContactOutcome = NonNullable<Contact["outcome"]>;
/** The agent's latest result for the contact's latest call; `call_id` here is edgedial's `call_…`, the contact's own `call_id` the carrier's. */
export type ContactResult = NonNullable<Contact["result"]>;
/** What an agent (or the customer's backend) reports about a call. */
export type CallResultInput = Schemas["CallResultInput"];
export type CallLimits = Schemas["CallLimits"];
export type Agent = Schemas["Agent"];
export type Provider = Schemas["Provider"];
export type PhoneNumber = Schemas["PhoneNumber"];
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
/** The answer to create, the only one that carries `secret` (`whsec_…`). */
export type NewWebhookEndpoint = Schemas["NewWebhookEndpoint"];
export type WebhookEventType = WebhookEndpoint["events"][number];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type EventsToken = Schemas["EventsToken"];
/** The account's contact policy: rules every campaign obeys; `null` means the rule is off. */
export type ContactPolicy = Schemas["ContactPolicy"];
/** The PUT's answer: `eligibility_secret` only when it set a new `eligibility_url`. */
export type UpdatedContactPolicy = Schemas["UpdatedContactPolicy"];
export type ContactPolicyInput = Schemas["ContactPolicyInput"];
export type DncEntry = Schemas["DncEntry"];
export type DncAddResult = Schemas["DncAddResult"];
export type Preflight = Schemas["Preflight"];
/** The forecast's assumptions that a preflight may override. */
export type PreflightAssumptions = Pick<
  Preflight["estimate"]["assumptions"],
  "answer_rate" | "average_call_seconds" | "unanswered_call_seconds" | "retry_share"
>;

type CreateJson = Schemas["CreateCampaignJson"];

export type CreateCampaignInput = Omit<CreateJson, "scheduled_at" | "contacts"> & {
  scheduled_at?: string | Date;
  /** CSV text, a CSV Blob/File, or contact objects (each with a phone_number; a `timezone` member places that contact). */
  contacts?: string | Blob | CreateJson["contacts"];
  /** Node only: a path to a CSV file, read when the request is made. */
  contactsPath?: string;
};

/** Contacts to append: CSV text, a CSV Blob/File, contact objects, or (Node only) a CSV file's path; the campaign's own custom columns. */
export type AppendContactsInput = Pick<CreateCampaignInput, "contacts" | "contactsPath">;
/** The answer to an append: what it added, skipped and suppressed, and the campaign's contacts now. */
export type AppendedContacts = Schemas["AppendedContacts"];

/** Clone options: which contacts to copy (both filters must match when both are given) and any create field to change. */
export type CloneCampaignInput = Partial<Omit<Schemas["CloneCampaign"], "scheduled_at">> & { scheduled_at?: string | Date };

/** Numbers to block, as a list or as CSV (a `phone_number` column); national numbers need default_country. */
export type DncAddInput = { reason?: string; default_country?: string } & ({ numbers: Schemas["DncAddJson"]["numbers"] } | { csv: string | Blob });

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

export interface ListOptions {
  limit?: number;
  offset?: number;
}

export interface StreamOptions {
  /** Resume after this contact event id (as a reconnecting EventSource would). */
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
  /**
   * How often a create or an action is sent again after a network failure, a 500/502/504 or a 409
   * saying its first try is still running (default 2). Each carries one Idempotency-Key, so a
   * request the server did receive runs once.
   */
  maxRetries?: number;
  /** The pause before the first retry, doubled before each next one (default 500 ms). */
  retryDelayMs?: number;
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

const MUTATING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** 128 random bits as hex; getRandomValues also works where randomUUID does not (a page on plain http). */
const freshKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A failure the same request may get past: the server's or a gateway's, or its own first try still running. */
async function worthRetrying(response: Response): Promise<boolean> {
  if (response.status === 500 || response.status === 502 || response.status === 504) return true;
  if (response.status !== 409) return false;
  // The client asks for JSON errors, so the code tells this 409 from a state conflict.
  return (await errorFrom(response.clone())).code === "idempotency_key_in_use";
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

export class Edgedial {
  readonly campaigns: Campaigns;
  readonly calls: Calls;
  readonly callLimits: { get: () => Promise<CallLimits> };
  readonly agents: Agents;
  readonly telephony: Telephony;
  readonly dnc: DoNotCall;
  readonly webhooks: Webhooks;
  readonly contactPolicy: { get: () => Promise<ContactPolicy>; update: (input: ContactPolicyInput) => Promise<UpdatedContactPolicy> };
  private readonly apiKey: string | undefined;
  private readonly baseUrl: string;
  private readonly doFetch: (input: Request) => Promise<Response>;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;

  constructor(options: EdgedialOptions = {}) {
    this.apiKey = options.apiKey ?? readEnv("EDGEDIAL_API_KEY");
    this.baseUrl = (options.baseUrl ?? readEnv("EDGEDIAL_BASE_URL") ?? "http://127.0.0.1:8787").replace(/\/$/, "");
    this.doFetch = options.fetch ?? ((request) => fetch(request));
    this.maxRetries = options.maxRetries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.campaigns = new Campaigns(this);
    this.calls = new Calls(this);
    this.callLimits = { get: () => this.request<CallLimits>("GET", "/api/v1/call-limits") };
    this.agents = new Agents(this);
    this.telephony = new Telephony(this);
    this.dnc = new DoNotCall(this);
    this.webhooks = new Webhooks(this);
    this.contactPolicy = {
      get: () => this.request<ContactPolicy>("GET", "/api/v1/contact-policy"),
      // Only the fields given change; null clears a rule.
      update: (input) => this.request<UpdatedContactPolicy>("PUT", "/api/v1/contact-policy", { json: input }),
    };
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
    init: {
      query?: Query;
      json?: unknown;
      body?: BodyInit;
      headers?: Record<string, string>;
      signal?: AbortSignal;
      rejectErrors?: boolean;
      /** A URL given whole (a result_url), sent as-is and without the API key: its token is its credential. */
      absoluteUrl?: string;
    } = {},
  ) {
    const headers: Record<string, string> = { Accept: "application/json", ...init.headers };
    if (this.apiKey && init.absoluteUrl === undefined) headers.Authorization = `Bearer ${this.apiKey}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    const url = init.absoluteUrl ?? this.url(path, init.query);
    const mutating = MUTATING_METHODS.has(method.toUpperCase());
    // One key for this call and its retries: the server runs it once and replays its answer after.
    if (mutating) headers["Idempotency-Key"] ??= freshKey();
    const retries = mutating && !(body instanceof ReadableStream) ? this.maxRetries : 0;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.doFetch(new Request(url, { method, headers, body, signal: init.signal }));
      } catch (error) {
        if (attempt >= retries || init.signal?.aborted) throw error;
        await pause(this.retryDelayMs * 2 ** attempt);
        continue;
      }
      if (attempt < retries && (await worthRetrying(response))) {
        await pause(this.retryDelayMs * 2 ** attempt);
        continue;
      }
      if (!response.ok && init.rejectErrors !== false) throw await errorFrom(response);
      return response;
    }
  }

  /** @internal */
  async request<T>(method: string, path: string, init: { query?: Query; json?: unknown; body?: BodyInit; absoluteUrl?: string } = {}): Promise<T> {
    const response = await this.send(method, path, init);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}

class Campaigns {
  constructor(private readonly client: Edgedial) {}

  async list(options: QueryOf<"/api/v1/campaigns"> = {}) {
    return page<"campaigns", Campaign>("campaigns", await this.client.request("GET", "/api/v1/campaigns", { query: { ...options } }));
  }

  get(id: string) {
    return this.client.request<Campaign>("GET", `/api/v1/campaigns/${encodeURIComponent(id)}`);
  }

  async create(input: CreateCampaignInput): Promise<CreatedCampaign> {
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

  /**
   * Adds contacts after the campaign's others (draft, scheduled, paused or running; a running one
   * dials them without a restart). Numbers already in the campaign are skipped; the upload must
   * carry the campaign's custom columns, no more and none fewer.
   */
  async appendContacts(id: string, input: AppendContactsInput): Promise<AppendedContacts> {
    return this.client.request("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/contacts`, await this.createBody(input));
  }

  /** Cancels one contact that is not in a call (409 if it is); one that has ended comes back unchanged. */
  cancelContact(campaignId: string, contactId: string) {
    return this.client.request<Contact>("POST", `/api/v1/campaigns/${encodeURIComponent(campaignId)}/contacts/${encodeURIComponent(contactId)}/cancel`);
  }

  /** The create body (an append's too, with no fields): JSON when the contacts are objects, else multipart with the CSV. */
  private async createBody(input: Partial<CreateCampaignInput>): Promise<{ json: unknown } | { body: FormData }> {
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
    return this.client.request<ClonedCampaign>("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/clone`, {
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

  async listContacts(id: string, options: QueryOf<"/api/v1/campaigns/{id}/contacts"> = {}) {
    return page<"contacts", Contact>(
      "contacts",
      await this.client.request("GET", `/api/v1/campaigns/${encodeURIComponent(id)}/contacts`, { query: { ...options } }),
    );
  }

  /**
   * Makes the contact pending again with outcome `callback`, due at `callbackAt` (1 minute to 30 days
   * ahead) moved into its calling window. It uses no retry; a contact gets at most 5 (then 409).
   */
  scheduleCallback(campaignId: string, contactId: string, callbackAt: string | Date) {
    const at = callbackAt instanceof Date ? callbackAt.toISOString() : callbackAt;
    return this.client.request<Contact>("POST", `/api/v1/campaigns/${encodeURIComponent(campaignId)}/contacts/${encodeURIComponent(contactId)}/callback`, {
      json: { callback_at: at } satisfies JsonBody<"/api/v1/campaigns/{id}/contacts/{contact_id}/callback", "post">,
    });
  }

  /**
   * The contacts as CSV (`text/csv`, the upload's own columns after the fixed ones), streamed as the
   * server reads them: pipe it to a file rather than holding it whole. `status` keeps one status,
   * `disposition` the contacts whose latest result has that disposition.
   */
  async exportContacts(id: string, options: { status?: ContactStatus; disposition?: string; signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.client.send("GET", `/api/v1/campaigns/${encodeURIComponent(id)}/contacts.csv`, {
      query: { status: options.status, disposition: options.disposition },
      // JSON ranks above text/plain, so an error still arrives with its code.
      headers: { Accept: "text/csv, application/json;q=0.9" },
      signal: options.signal,
    });
    return response.body ?? new Blob([]).stream();
  }

  /** A short-lived token for a browser EventSource: `…/events?token=`; `origin` binds it to one page origin. */
  eventsToken(id: string, options: { origin?: string } = {}) {
    return this.client.request<EventsToken>("POST", `/api/v1/campaigns/${encodeURIComponent(id)}/events/token`, {
      json: options.origin ? { origin: options.origin } : undefined,
    });
  }

  /**
   * Live events until the campaign ends. Reconnects after a dropped stream with Last-Event-ID, so no
   * contact transition is lost or repeated; API errors (404, 401, …) end it by throwing.
   */
  streamEvents(id: string, options: StreamOptions = {}): AsyncGenerator<CampaignEvent> {
    return streamCampaignEvents({
      open: (lastEventId, signal) =>
        this.client.send("GET", `/api/v1/campaigns/${encodeURIComponent(id)}/events`, {
          headers: { Accept: "text/event-stream", ...(lastEventId !== null && { "Last-Event-ID": String(lastEventId) }) },
          signal,
          rejectErrors: false,
        }),
      refused: errorFrom,
      lastEventId: options.lastEventId,
      signal: options.signal,
      maxReconnects: options.maxReconnects,
    });
  }
}

/** Call results: what the agent on a call (or the customer's backend) reports about it. */
class Calls {
  constructor(private readonly client: Edgedial) {}

  /**
   * Stores a call's result and answers the contact with it. Given the call's whole `result_url`,
   * posts to it as-is (its token is the credential, the API key is not sent); given a bare `call_…`
   * id, posts with the client's API key.
   */
  reportResult(resultUrlOrCallId: string, body: CallResultInput) {
    if (/^https?:\/\//i.test(resultUrlOrCallId)) return this.client.request<Contact>("POST", "", { json: body, absoluteUrl: resultUrlOrCallId });
    return this.client.request<Contact>("POST", `/api/v1/calls/${encodeURIComponent(resultUrlOrCallId)}/result`, { json: body });
  }
}

class Agents {
  constructor(private readonly client: Edgedial) {}
  async list(options: QueryOf<"/api/v1/agents"> = {}) {
    return page<"agents", Agent>("agents", await this.client.request("GET", "/api/v1/agents", { query: { ...options } }));
  }
  get(id: string) {
    return this.client.request<Agent>("GET", `/api/v1/agents/${encodeURIComponent(id)}`);
  }
  create(input: JsonBody<"/api/v1/agents", "post">) {
    return this.client.request<Agent>("POST", "/api/v1/agents", { json: input });
  }
  update(id: string, input: JsonBody<"/api/v1/agents/{id}", "patch">) {
    return this.client.request<Agent>("PATCH", `/api/v1/agents/${encodeURIComponent(id)}`, { json: input });
  }
  async delete(id: string): Promise<void> {
    await this.client.request("DELETE", `/api/v1/agents/${encodeURIComponent(id)}`);
  }
}

class Telephony {
  readonly providers: {
    list: (options?: QueryOf<"/api/v1/telephony/providers">) => Promise<Page<"providers", Provider>>;
    get: (id: string) => Promise<Provider>;
    create: (input: JsonBody<"/api/v1/telephony/providers", "post">) => Promise<Provider>;
    delete: (id: string) => Promise<void>;
  };
  readonly numbers: {
    list: (options?: QueryOf<"/api/v1/telephony/numbers">) => Promise<Page<"numbers", PhoneNumber>>;
    get: (id: string) => Promise<PhoneNumber>;
    create: (input: JsonBody<"/api/v1/telephony/numbers", "post">) => Promise<PhoneNumber>;
    update: (id: string, input: JsonBody<"/api/v1/telephony/numbers/{id}", "patch">) => Promise<PhoneNumber>;
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
  async list(options: QueryOf<"/api/v1/dnc"> = {}) {
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
  create(input: JsonBody<"/api/v1/webhooks", "post">) {
    return this.client.request<NewWebhookEndpoint>("POST", this.path(), { json: input });
  }
  async list(options: QueryOf<"/api/v1/webhooks"> = {}) {
    return page<"webhooks", WebhookEndpoint>("webhooks", await this.client.request("GET", this.path(), { query: { ...options } }));
  }
  get(id: string) {
    return this.client.request<WebhookEndpoint>("GET", this.path(id));
  }
  update(id: string, input: JsonBody<"/api/v1/webhooks/{id}", "patch">) {
    return this.client.request<WebhookEndpoint>("PATCH", this.path(id), { json: input });
  }
  async remove(id: string): Promise<void> {
    await this.client.request("DELETE", this.path(id));
  }
  /** Sends a `ping` through the outbox like any message; answers its message id (the `webhook-id` it arrives with). */
  test(id: string) {
    return this.client.request<Schemas["WebhookTest"]>("POST", this.path(id, "/test"));
  }
  async deliveries(id: string, options: QueryOf<"/api/v1/webhooks/{id}/deliveries"> = {}) {
    return page<"deliveries", WebhookDelivery>("deliveries", await this.client.request("GET", this.path(id, "/deliveries"), { query: { ...options } }));
  }
}
