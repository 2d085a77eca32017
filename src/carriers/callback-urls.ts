import type { Env } from "../env";
import { requireSecret } from "../http/crypto";
import { publicBase } from "./registry";
import type { CarrierKind } from "./types";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function pathKey(env: Env): Promise<CryptoKey> {
  const secret = requireSecret(env.SECRETS_KEY, "SECRETS_KEY");
  let key = keys.get(secret);
  if (!key) {
    // Its own key, derived from SECRETS_KEY under a label, so it never doubles as the credentials key.
    key = crypto.subtle.importKey("raw", encoder.encode(`callback-path:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/**
 * The MAC a Vobiz callback path carries: Vobiz signs only the URL and a nonce, not what the path
 * means, so the path proves itself. First 32 hex characters of HMAC-SHA256("vobiz:campaign:attempt").
 */
export async function callbackPathMac(env: Env, campaignId: string, attemptId: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await pathKey(env), encoder.encode(`vobiz:${campaignId}:${attemptId}`));
  return [...new Uint8Array(mac)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 32);
}

/** Constant time over the expected length; any other length is simply wrong. */
export async function callbackPathMacMatches(env: Env, campaignId: string, attemptId: string, given: string): Promise<boolean> {
  const expected = await callbackPathMac(env, campaignId, attemptId);
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}

/** Where a carrier sends an attempt's callbacks and its answer request (routes in src/routes/carrier-callbacks.ts). */
export async function callbackUrls(env: Env, kind: CarrierKind, campaignId: string, attemptId: string) {
  let path = `/webhooks/${kind}/${campaignId}/${attemptId}`;
  if (kind === "vobiz") path += `/${await callbackPathMac(env, campaignId, attemptId)}`;
  const statusCallbackUrl = `${publicBase(env)}${path}`;
  return { statusCallbackUrl, answerUrl: `${statusCallbackUrl}/answer` };
}
