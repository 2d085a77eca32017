import type { Env } from "../env";

/** Browser access to one campaign's events: EventSource cannot send headers, so the URL carries this. */
export const EVENTS_TOKEN_TTL_MS = 5 * 60_000;
const PREFIX = "evt_";

interface Claims {
  c: string;
  a: string;
  exp: number;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const fromB64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function key(env: Env): Promise<CryptoKey> {
  const secret = `events-token:${env.API_KEY_PEPPER ?? ""}`;
  return crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function mintEventsToken(env: Env, accountId: string, campaignId: string, now = Date.now()) {
  const claims: Claims = { c: campaignId, a: accountId, exp: now + EVENTS_TOKEN_TTL_MS };
  const body = b64url(new TextEncoder().encode(JSON.stringify(claims)));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key(env), new TextEncoder().encode(body)));
  return { token: `${PREFIX}${body}.${b64url(mac)}`, expires_at: new Date(claims.exp).toISOString() };
}

export type EventsTokenCheck = { ok: true; accountId: string; campaignId: string } | { ok: false; reason: "invalid" | "expired" };

export async function verifyEventsToken(env: Env, token: string, now = Date.now()): Promise<EventsTokenCheck> {
  if (!token.startsWith(PREFIX)) return { ok: false, reason: "invalid" };
  const [body, mac] = token.slice(PREFIX.length).split(".");
  if (!body || !mac) return { ok: false, reason: "invalid" };
  try {
    const valid = await crypto.subtle.verify("HMAC", await key(env), fromB64url(mac), new TextEncoder().encode(body));
    if (!valid) return { ok: false, reason: "invalid" };
    const claims = JSON.parse(new TextDecoder().decode(fromB64url(body))) as Claims;
    if (typeof claims.exp !== "number" || claims.exp <= now) return { ok: false, reason: "expired" };
    return { ok: true, accountId: claims.a, campaignId: claims.c };
  } catch {
    return { ok: false, reason: "invalid" };
  }
}
