import type { Env } from "../env";
import { decryptSecret } from "../http/crypto";
import { TWILIO_STATUS_EVENTS, TwilioAdapter, type TwilioCredentials } from "./twilio";
import type { AnswerDocument, CallEvent, CarrierAdapter, CarrierKind, FetchLike, LookupResult, OriginateResult } from "./types";

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
  nonceOf(): string | null {
    return null;
  }
  parseCallback(): CallEvent | null {
    return null;
  }
  answerDocument(): AnswerDocument {
    return { body: '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>', contentType: "text/xml" };
  }
}

/** TWILIO_STATUS_EVENTS (space-separated) overrides the callbacks Twilio calls ask for; for benchmarks. */
function twilioStatusEvents(env: Env): readonly string[] {
  const configured = env.TWILIO_STATUS_EVENTS?.split(/[\s,]+/).filter(Boolean);
  return configured && configured.length > 0 ? configured : TWILIO_STATUS_EVENTS;
}

/** The simulator's auth token is derived from its account sid, so nothing else has to be stored. */
export async function simulatorToken(env: Env, accountSid: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(`simulator:${env.SECRETS_KEY ?? ""}`), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(accountSid));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function simulatorCredentials(env: Env): Promise<TwilioCredentials> {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const accountSid = `AC${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  return { account_sid: accountSid, auth_token: await simulatorToken(env, accountSid) };
}

export async function carrierAdapter(env: Env, provider: string, sealedCredentials: string, loopback: Fetcher | undefined): Promise<CarrierAdapter> {
  const credentials = JSON.parse(await decryptSecret(sealedCredentials, env.SECRETS_KEY)) as Record<string, string>;
  const fetcher = fetcherFor(env, loopback);
  switch (provider) {
    case "twilio":
      return new TwilioAdapter(
        credentials as unknown as TwilioCredentials,
        env.TWILIO_API_BASE || TWILIO_API_BASE,
        fetcher,
        undefined,
        twilioStatusEvents(env),
      );
    case "simulator":
      return new TwilioAdapter(credentials as unknown as TwilioCredentials, `${publicBase(env)}/simulator`, fetcher, undefined, twilioStatusEvents(env));
    case "plivo":
    case "vobiz":
      return new UnsupportedCarrier(provider);
    default:
      throw new Error(`unknown carrier provider ${provider}`);
  }
}
