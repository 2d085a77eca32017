import type { Env } from "../env";
import { decryptSecret } from "../http/crypto";
import { PLIVO_API_BASE, PlivoAdapter } from "./plivo";
import type { PlivoFamilyCredentials } from "./plivo-family";
import { TwilioAdapter, type TwilioCredentials } from "./twilio";
import type { CallEvent, CarrierAdapter, CarrierKind, FetchLike, LookupResult, OriginateResult } from "./types";
import { VOBIZ_API_BASE, VobizAdapter } from "./vobiz";

export const TWILIO_API_BASE = "https://api.twilio.com";

export const publicBase = (env: Env) => (env.PUBLIC_BASE_URL || "http://127.0.0.1:8787").replace(/\/$/, "");

/**
 * Requests to this Worker's own origin (the simulator, its callbacks) go through the loopback
 * binding: the same Request, URL and signature, without a trip through the network.
 */
export function fetcherFor(env: Env, loopback: Fetcher | undefined): FetchLike {
  const own = new URL(publicBase(env)).origin;
  return (input, init) => {
    const request = new Request(input, init);
    if (loopback && new URL(request.url).origin === own) return loopback.fetch(request);
    return fetch(request);
  };
}

/** Carriers whose dialing is not built yet still satisfy the interface, and fail the campaign clearly. */
class UnsupportedCarrier implements CarrierAdapter {
  constructor(readonly kind: CarrierKind) {}
  private readonly detail = () => `Dialing through ${this.kind} is not available yet; use a twilio or simulator number.`;
  async originate(): Promise<OriginateResult> {
    return { kind: "campaign_error", detail: this.detail() };
  }
  async fetchStatus(): Promise<LookupResult> {
    return { kind: "error", detail: this.detail() };
  }
  async findCall(): Promise<LookupResult> {
    return { kind: "error", detail: this.detail() };
  }
  async cancel() {}
  async verifyCallback() {
    return false;
  }
  nonceOf() {
    return null;
  }
  parseCallback(): CallEvent | null {
    return null;
  }
  answerDocument() {
    return { body: '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>', contentType: "text/xml" };
  }
}

/** The simulator speaks the wire of one carrier per provider; Twilio's when none is named. */
export const SIMULATOR_DIALECTS = ["twilio", "plivo", "vobiz"] as const;
export type SimulatorDialect = (typeof SIMULATOR_DIALECTS)[number];

/** The simulator's auth token is derived from its account id, so nothing else has to be stored. */
export async function simulatorToken(env: Env, accountId: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(`simulator:${env.SECRETS_KEY ?? ""}`), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(accountId));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const randomHex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Credentials shaped like the dialect's own: Twilio's account_sid, or Plivo/Vobiz's auth_id, each with its token. */
export async function simulatorCredentials(env: Env, dialect: SimulatorDialect = "twilio"): Promise<Record<string, string>> {
  if (dialect === "twilio") {
    const accountSid = `AC${randomHex(16)}`;
    return { account_sid: accountSid, auth_token: await simulatorToken(env, accountSid) };
  }
  const authId = dialect === "plivo" ? `MA${randomHex(9).toUpperCase()}` : `MA_${randomHex(8).toUpperCase()}`;
  return { dialect, auth_id: authId, auth_token: await simulatorToken(env, authId) };
}

/** The account id a simulator provider's calls are kept under (its shards' names start with it). */
export const simulatorAccountId = (credentials: Record<string, string>) => credentials.account_sid ?? credentials.auth_id ?? "";

/** Until the carrier-neutral webhook routes land, Plivo and Vobiz calls could not report back: refuse them clearly. */
const PLIVO_FAMILY_ROUTED = false;

export async function carrierAdapter(env: Env, provider: string, sealedCredentials: string, loopback: Fetcher | undefined): Promise<CarrierAdapter> {
  const credentials = JSON.parse(await decryptSecret(sealedCredentials, env.SECRETS_KEY)) as Record<string, string>;
  const fetcher = fetcherFor(env, loopback);
  const plivoFamily = credentials as unknown as PlivoFamilyCredentials;
  switch (provider) {
    case "twilio":
      return new TwilioAdapter(credentials as unknown as TwilioCredentials, env.TWILIO_API_BASE || TWILIO_API_BASE, fetcher);
    case "plivo":
      return PLIVO_FAMILY_ROUTED ? new PlivoAdapter(plivoFamily, PLIVO_API_BASE, fetcher) : new UnsupportedCarrier("plivo");
    case "vobiz":
      return PLIVO_FAMILY_ROUTED ? new VobizAdapter(plivoFamily, VOBIZ_API_BASE, fetcher) : new UnsupportedCarrier("vobiz");
    case "simulator":
      return simulatorAdapter(env, credentials, fetcher);
    default:
      throw new Error(`unknown carrier provider ${provider}`);
  }
}

/** A simulator provider is reached as the carrier whose dialect it speaks, under /simulator[/dialect]. */
export function simulatorAdapter(env: Env, credentials: Record<string, string>, fetcher: FetchLike): CarrierAdapter {
  const base = `${publicBase(env)}/simulator`;
  switch (credentials.dialect ?? "twilio") {
    case "plivo":
      return PLIVO_FAMILY_ROUTED
        ? new PlivoAdapter(credentials as unknown as PlivoFamilyCredentials, `${base}/plivo`, fetcher)
        : new UnsupportedCarrier("plivo");
    case "vobiz":
      return PLIVO_FAMILY_ROUTED
        ? new VobizAdapter(credentials as unknown as PlivoFamilyCredentials, `${base}/vobiz`, fetcher)
        : new UnsupportedCarrier("vobiz");
    default:
      return new TwilioAdapter(credentials as unknown as TwilioCredentials, base, fetcher);
  }
}
