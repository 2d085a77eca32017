import { z } from "zod";
import type { Env } from "../env";
import { hmac, hmacKey, toBase64 } from "./crypto";
import { ApiError } from "./errors";

/** Browser access to one campaign's events: EventSource cannot send headers, so the URL carries this. */
const DEFAULT_EVENTS_TOKEN_TTL_SECONDS = 300;
const MAX_EVENTS_TOKEN_TTL_SECONDS = 86_400;
const PREFIX = "evt_";

interface Claims {
  c: string;
  a: string;
  exp: number;
  /** The one page origin allowed to use the token, when it was minted with one. */
  o?: string;
}

/** `scheme://host[:port]` exactly as a browser's Origin header spells it, nothing more. */
const tokenOriginSchema = z.string().superRefine((raw, ctx) => {
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {}
  if (url && (url.protocol === "https:" || url.protocol === "http:") && url.origin === raw) return;
  const hint = url && url.origin !== "null" ? ` (did you mean "${url.origin}"?)` : "";
  ctx.addIssue({ code: "custom", message: `must be an origin: scheme, host and port only, such as "https://crm.example.com"; got "${raw}"${hint}` });
});

export const mintEventsTokenSchema = z.object({ origin: tokenOriginSchema.optional() });

const b64url = (bytes: Uint8Array) => toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const fromB64url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

// Its own key, the pepper under a label, so an events token never doubles as an API key hash.
const tokenSecret = (env: Env) => `events-token:${env.API_KEY_PEPPER ?? ""}`;

/** Token lifetime from EVENTS_TOKEN_TTL_SECONDS (tests shorten it), 5 minutes by default. */
export function eventsTokenTtlMs(env: Env): number {
  const raw = env.EVENTS_TOKEN_TTL_SECONDS;
  if (raw === undefined || raw === "") return DEFAULT_EVENTS_TOKEN_TTL_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_EVENTS_TOKEN_TTL_SECONDS) {
    throw new ApiError("not_configured", `EVENTS_TOKEN_TTL_SECONDS must be a whole number of seconds from 1 to ${MAX_EVENTS_TOKEN_TTL_SECONDS}; got "${raw}".`);
  }
  return seconds * 1000;
}

export async function mintEventsToken(env: Env, accountId: string, campaignId: string, options: { origin?: string; now?: number } = {}) {
  const now = options.now ?? Date.now();
  const claims: Claims = { c: campaignId, a: accountId, exp: now + eventsTokenTtlMs(env), ...(options.origin && { o: options.origin }) };
  const body = b64url(new TextEncoder().encode(JSON.stringify(claims)));
  const mac = new Uint8Array(await hmac(tokenSecret(env), body));
  return { token: `${PREFIX}${body}.${b64url(mac)}`, expires_at: new Date(claims.exp).toISOString() };
}

export type EventsTokenCheck = { ok: true; accountId: string; campaignId: string; origin: string | null } | { ok: false; reason: "invalid" | "expired" };

export async function verifyEventsToken(env: Env, token: string, now = Date.now()): Promise<EventsTokenCheck> {
  if (!token.startsWith(PREFIX)) return { ok: false, reason: "invalid" };
  const [body, mac] = token.slice(PREFIX.length).split(".");
  if (!body || !mac) return { ok: false, reason: "invalid" };
  try {
    const valid = await crypto.subtle.verify("HMAC", await hmacKey(tokenSecret(env)), fromB64url(mac), new TextEncoder().encode(body));
    if (!valid) return { ok: false, reason: "invalid" };
    const claims = JSON.parse(new TextDecoder().decode(fromB64url(body))) as Claims;
    if (typeof claims.exp !== "number" || claims.exp <= now) return { ok: false, reason: "expired" };
    return { ok: true, accountId: claims.a, campaignId: claims.c, origin: typeof claims.o === "string" ? claims.o : null };
  } catch {
    return { ok: false, reason: "invalid" };
  }
}
