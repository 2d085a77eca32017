import type { Env } from "../env";
import { decryptSecret, hmac, toHex } from "../http/crypto";
import type { OwnOrigin } from "./own-origin";
import { PLIVO_API_BASE, PlivoAdapter } from "./plivo";
import type { PlivoFamilyCredentials } from "./plivo-family";
import { TWILIO_STATUS_EVENTS, TwilioAdapter, type TwilioCredentials } from "./twilio";
import type { CarrierAdapter, FetchLike } from "./types";
import { VOBIZ_API_BASE, VobizAdapter } from "./vobiz";

const TWILIO_API_BASE = "https://api.twilio.com";

export const publicBase = (env: Env) => (env.PUBLIC_BASE_URL || "http://127.0.0.1:8787").replace(/\/$/, "");

/**
 * Requests to this Worker's own origin (the simulator, its callbacks) go to the app in-process
 * (own-origin.ts): the same Request, URL and signature, without a trip through the network.
 */
export function fetcherFor(env: Env, loopback: OwnOrigin | undefined): FetchLike {
  const own = new URL(publicBase(env)).origin;
  return (input, init) => {
    const request = new Request(input, init);
    if (loopback && new URL(request.url).origin === own) return loopback.fetch(request);
    return fetch(request);
  };
}

/** TWILIO_STATUS_EVENTS (space-separated) overrides the callbacks Twilio calls ask for; for benchmarks. */
function twilioStatusEvents(env: Env): readonly string[] {
  const configured = env.TWILIO_STATUS_EVENTS?.split(/[\s,]+/).filter(Boolean);
  return configured && configured.length > 0 ? configured : TWILIO_STATUS_EVENTS;
}

/** The simulator speaks the wire of one carrier per provider; Twilio's when none is named. */
export const SIMULATOR_DIALECTS = ["twilio", "plivo", "vobiz"] as const;
export type SimulatorDialect = (typeof SIMULATOR_DIALECTS)[number];

/** The simulator's auth token is derived from its account id, so nothing else has to be stored. */
export async function simulatorToken(env: Env, accountId: string): Promise<string> {
  return toHex(await hmac(`simulator:${env.SECRETS_KEY ?? ""}`, accountId));
}

const randomHex = (bytes: number) => toHex(crypto.getRandomValues(new Uint8Array(bytes)));

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

export async function carrierAdapter(env: Env, provider: string, sealedCredentials: string, loopback: OwnOrigin | undefined): Promise<CarrierAdapter> {
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
    case "plivo":
      return new PlivoAdapter(credentials as unknown as PlivoFamilyCredentials, env.PLIVO_API_BASE || PLIVO_API_BASE, fetcher);
    case "vobiz":
      return new VobizAdapter(credentials as unknown as PlivoFamilyCredentials, env.VOBIZ_API_BASE || VOBIZ_API_BASE, fetcher);
    case "simulator":
      return simulatorAdapter(env, credentials, fetcher);
    default:
      throw new Error(`unknown carrier provider ${provider}`);
  }
}

/** A simulator provider is reached as the carrier whose dialect it speaks, under /simulator[/plivo|/vobiz]. */
function simulatorAdapter(env: Env, credentials: Record<string, string>, fetcher: FetchLike): CarrierAdapter {
  const base = `${publicBase(env)}/simulator`;
  switch (credentials.dialect ?? "twilio") {
    case "plivo":
      return new PlivoAdapter(credentials as unknown as PlivoFamilyCredentials, `${base}/plivo`, fetcher);
    case "vobiz":
      return new VobizAdapter(credentials as unknown as PlivoFamilyCredentials, `${base}/vobiz`, fetcher);
    default:
      return new TwilioAdapter(credentials as unknown as TwilioCredentials, base, fetcher, undefined, twilioStatusEvents(env));
  }
}
