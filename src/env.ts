/**
 * The Worker's bindings. This file imports no class: the Durable Object namespaces are typed
 * generically here, and each object's stub getter (accounts/stub.ts, campaign-object/stub.ts, …)
 * gives its own namespace the class's RPC type, so nothing here pulls the objects' code in.
 */
export interface Env {
  DB: D1Database;
  CAMPAIGNS: DurableObjectNamespace;
  ACCOUNTS: DurableObjectNamespace;
  SIMULATOR: DurableObjectNamespace;
  /** Local webhook receiver (src/outbox/webhook-sink-do.ts), answering only where the simulator is enabled. */
  WEBHOOK_SINK: DurableObjectNamespace;
  /** The account's contact ledger, sharded by number (src/contact-policy/ledger-stub.ts). */
  CONTACT_LEDGER: DurableObjectNamespace;
  ADMIN_TOKEN?: string;
  API_KEY_PEPPER?: string;
  SECRETS_KEY?: string;
  JWT_JWKS_URL?: string;
  JWT_JWKS?: string;
  JWT_ISSUER?: string;
  JWT_AUDIENCE?: string;
  /** Lifetime of events tokens in seconds (default 300). */
  EVENTS_TOKEN_TTL_SECONDS?: string;
  PUBLIC_BASE_URL?: string;
  SIMULATOR_ENABLED?: string;
  SIMULATOR_TIME_SCALE?: string;
  /** "true" counts Worker, object and D1 usage for the cost benchmark; honoured only with the simulator enabled. */
  USAGE_METER?: string;
  /** Each carrier's REST origin (default its public API): a regional endpoint, a proxy or a test server. */
  TWILIO_API_BASE?: string;
  PLIVO_API_BASE?: string;
  VOBIZ_API_BASE?: string;
  /** Space-separated StatusCallbackEvent list for Twilio calls (default "answered completed"); benchmarks compare. */
  TWILIO_STATUS_EVENTS?: string;
}

/** Who is calling a tenant route, resolved by the auth middleware. */
export interface Caller {
  accountId: string;
  /** `key_…` for an API key, the JWT `sub` for a session. */
  actor: string;
  kind: "api_key" | "session" | "events_token" | "call_token";
  /** For an events token: the one campaign whose events it may read. */
  campaignId?: string;
  /** For a call token: the one call whose result it may report. */
  callId?: string;
}

export type AppEnv = { Bindings: Env; Variables: { caller: Caller } };
