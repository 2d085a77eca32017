import { decryptSecret } from "../http/crypto";
import { importSigningKey } from "./signing";
import { checkWebhookUrl, type UrlCheck, urlPolicyFor } from "./url-policy";

/** An endpoint as an outbox needs it: where, what it wants, and the key to sign with. */
export interface DeliveryEndpoint {
  id: string;
  url: string;
  events: ReadonlySet<string>;
  enabled: boolean;
  disabledReason: string | null;
  key: CryptoKey;
  /** The URL checked again under this deployment's policy, once per read rather than once per request. */
  target: UrlCheck;
}

/** Endpoints are re-read from D1 at most this often: a change reaches running campaigns within it. */
const ENDPOINT_TTL_MS = 10_000;

interface EndpointRow {
  id: string;
  url: string;
  events: string;
  enabled: number;
  disabled_reason: string | null;
  secret: string;
}

/**
 * One object's copy of its account's endpoints. Reads are synchronous (enqueue runs inside a
 * transition); refreshing is async and happens in the outbox's own pass.
 */
export class EndpointCache {
  private endpoints: Map<string, DeliveryEndpoint> | null = null;
  private loadedAt = 0;
  /** Keys by sealed secret: a refresh does not decrypt and import what it already has. */
  private keys = new Map<string, CryptoKey>();

  constructor(private readonly env: { DB: D1Database; SECRETS_KEY?: string; SIMULATOR_ENABLED?: string }) {}

  /** The list if it is younger than the TTL, else null (the caller then leaves the choice to the next pass). */
  fresh(now: number): ReadonlyMap<string, DeliveryEndpoint> | null {
    const age = now - this.loadedAt;
    // A clock that went backwards (a test restoring real time) makes the copy stale, not fresh forever.
    return this.endpoints && age >= 0 && age < ENDPOINT_TTL_MS ? this.endpoints : null;
  }

  /** The last list read, however old; null before the first read. */
  known(): ReadonlyMap<string, DeliveryEndpoint> | null {
    return this.endpoints;
  }

  invalidate() {
    this.loadedAt = 0;
  }

  async refresh(accountId: string, now: number): Promise<ReadonlyMap<string, DeliveryEndpoint>> {
    const current = this.fresh(now);
    if (current) return current;
    const { results } = await this.env.DB.prepare("SELECT id, url, events, enabled, disabled_reason, secret FROM webhook_endpoints WHERE account_id = ?")
      .bind(accountId)
      .all<EndpointRow>();
    const next = new Map<string, DeliveryEndpoint>();
    const keys = new Map<string, CryptoKey>();
    for (const row of results) {
      const key = this.keys.get(row.secret) ?? (await importSigningKey(await decryptSecret(row.secret, this.env.SECRETS_KEY)));
      keys.set(row.secret, key);
      next.set(row.id, {
        id: row.id,
        url: row.url,
        events: new Set(JSON.parse(row.events) as string[]),
        enabled: Boolean(row.enabled),
        disabledReason: row.disabled_reason,
        key,
        target: checkWebhookUrl(row.url, urlPolicyFor(this.env)),
      });
    }
    this.endpoints = next;
    this.keys = keys;
    this.loadedAt = now;
    return next;
  }

  /** What this object learnt first-hand (it disabled the endpoint), without waiting for the TTL. */
  markDisabled(id: string, reason: string) {
    const endpoint = this.endpoints?.get(id);
    if (endpoint) this.endpoints?.set(id, { ...endpoint, enabled: false, disabledReason: reason });
  }
}

/** Endpoints that take a message of this type now. */
export const subscribersOf = (endpoints: ReadonlyMap<string, DeliveryEndpoint>, type: string) =>
  [...endpoints.values()].filter((e) => e.enabled && e.events.has(type)).map((e) => e.id);
