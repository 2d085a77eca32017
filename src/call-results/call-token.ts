import type { Env } from "../env";
import { requireSecret, safeEqual } from "../http/crypto";

/** A result URL works this long after the dial (SPEC "Call results"). */
export const CALL_TOKEN_TTL_MS = 48 * 3_600_000;
const PREFIX = "ct_";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** Its own key, derived from SECRETS_KEY under a label, so it never doubles as another key. */
function tokenKey(env: Env): Promise<CryptoKey> {
  const secret = requireSecret(env.SECRETS_KEY, "SECRETS_KEY");
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(`call-result-token:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

const b64url = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

async function macOf(env: Env, callId: string, expiresAtSeconds: number, accountId: string): Promise<string> {
  return b64url(await crypto.subtle.sign("HMAC", await tokenKey(env), encoder.encode(`${callId}.${expiresAtSeconds}.${accountId}`)));
}

/**
 * A capability for reporting the result of one call until `expiresAt`:
 * `ct_<expiry seconds>.<account id>.<HMAC of call id, expiry and account>`. The account rides in the
 * token so a result needs no lookup to learn whose call it is (account ids hold no dot).
 */
export async function mintCallToken(env: Env, callId: string, accountId: string, expiresAt: number): Promise<string> {
  const seconds = Math.floor(expiresAt / 1000);
  return `${PREFIX}${seconds}.${accountId}.${await macOf(env, callId, seconds, accountId)}`;
}

export type CallTokenCheck = { kind: "ok"; accountId: string } | { kind: "invalid" } | { kind: "expired" };

/** Another call's token, a changed expiry, account or MAC, and anything malformed are all "invalid"; the MAC is compared in constant time. */
export async function verifyCallToken(env: Env, callId: string, token: string, now = Date.now()): Promise<CallTokenCheck> {
  const match = /^ct_(\d{1,12})\.([a-z0-9][a-z0-9_-]{0,62})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return { kind: "invalid" };
  const seconds = Number(match[1]);
  const accountId = match[2] as string;
  if (!(await safeEqual(match[3] as string, await macOf(env, callId, seconds, accountId)))) return { kind: "invalid" };
  return seconds * 1000 <= now ? { kind: "expired" } : { kind: "ok", accountId };
}
