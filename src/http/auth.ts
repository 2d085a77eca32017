import { and, eq, sql } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey, jwtVerify } from "jose";
import { verifyCallToken } from "../call-results/call-token";
import { database, preparedQuery } from "../db/client";
import { accountMembers, apiKeys } from "../db/schema";
import type { AppEnv, Caller, Env } from "../env";
import { hashApiKey, safeEqual } from "./crypto";
import { ApiError, badRequest, forbidden, quoted, shortened, unauthorized } from "./errors";
import { verifyEventsToken } from "./events-token";
import { acceptedKey, deferKeyCheck, invalidKey, mayBatchKeyCheck } from "./key-check";

export const ACCOUNT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const RESERVED_ACCOUNT = "kataven-admin";
export const API_KEY_PREFIX = "sk_live_";

function bearerToken(header: string | undefined): string {
  if (!header) throw unauthorized("Missing Authorization header: send `Authorization: Bearer <API key or session token>`.");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthorized("The Authorization header must be `Bearer <API key or session token>`.");
  return match[1];
}

/** Splits `sk_live_<account>_<secret>`; account ids may hold `_`, the secret never does. */
function parseApiKey(key: string): { accountId: string } | null {
  if (!key.startsWith(API_KEY_PREFIX)) return null;
  const rest = key.slice(API_KEY_PREFIX.length);
  const cut = rest.lastIndexOf("_");
  if (cut <= 0) return null;
  const accountId = rest.slice(0, cut);
  const secret = rest.slice(cut + 1);
  if (!ACCOUNT_ID_PATTERN.test(accountId) || !/^[A-Za-z0-9]{16,}$/.test(secret)) return null;
  return { accountId };
}

/** Every tenant request runs this lookup, so it is built once. */
const keyByHash = preparedQuery((db) =>
  db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.hash, sql.placeholder("hash")))
    .prepare(),
);

async function callerFromApiKey(env: Env, parsed: { accountId: string }, hash: string, headerAccount: string | undefined): Promise<Caller> {
  const row = acceptedKey(await keyByHash(database(env)).get({ hash }), parsed.accountId);
  if (headerAccount !== undefined && headerAccount !== row.accountId) {
    throw forbidden(`X-Account-ID ${quoted(headerAccount)} does not match the API key's account; drop the header or use a key of that account.`);
  }
  return { accountId: row.accountId, actor: row.id, kind: "api_key" };
}

const keySets = new Map<string, JWTVerifyGetKey>();

function jwksFor(env: Env): JWTVerifyGetKey | null {
  const source = env.JWT_JWKS || env.JWT_JWKS_URL;
  if (!source) return null;
  let keySet = keySets.get(source);
  if (!keySet) {
    if (env.JWT_JWKS) {
      try {
        keySet = createLocalJWKSet(JSON.parse(env.JWT_JWKS));
      } catch {
        throw new ApiError("not_configured", "JWT_JWKS is not a valid JSON Web Key Set.");
      }
    } else {
      keySet = createRemoteJWKSet(new URL(source));
    }
    keySets.set(source, keySet);
  }
  return keySet;
}

async function callerFromSession(env: Env, token: string, headerAccount: string | undefined): Promise<Caller> {
  const keySet = jwksFor(env);
  if (!keySet) throw unauthorized("Session tokens are not enabled on this deployment; use an API key.");
  if (!env.JWT_ISSUER || !env.JWT_AUDIENCE) {
    throw new ApiError("not_configured", "JWT_ISSUER and JWT_AUDIENCE must be set before session tokens are accepted.");
  }
  let subject: string | undefined;
  try {
    const { payload } = await jwtVerify(token, keySet, { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, requiredClaims: ["exp", "sub"] });
    subject = payload.sub;
  } catch {
    throw unauthorized("The session token is invalid or expired; sign in again.");
  }
  if (!subject) throw unauthorized("The session token has no subject.");
  if (headerAccount === undefined) throw badRequest("Session tokens need an X-Account-ID header naming the account to act on.");
  if (!ACCOUNT_ID_PATTERN.test(headerAccount)) {
    throw badRequest("X-Account-ID must be 1–63 characters of a-z, 0-9, `_` or `-`, starting with a letter or digit.");
  }
  const member = await database(env)
    .select({ subject: accountMembers.subject })
    .from(accountMembers)
    .where(and(eq(accountMembers.accountId, headerAccount), eq(accountMembers.subject, subject)))
    .get();
  if (!member) throw forbidden(`You are not a member of account ${quoted(headerAccount)}.`);
  return { accountId: headerAccount, actor: subject, kind: "session" };
}

/** A read-only events token in `?token=`: only GET on its own campaign's events URLs, from its own origin when bound to one. */
async function callerFromEventsToken(env: Env, token: string, method: string, path: string, origin: string | undefined): Promise<Caller> {
  const check = await verifyEventsToken(env, token);
  if (!check.ok) {
    throw unauthorized(
      check.reason === "expired"
        ? "The events token has expired; get a new one with POST /api/v1/campaigns/{id}/events/token."
        : "The events token is not valid; get one with POST /api/v1/campaigns/{id}/events/token.",
    );
  }
  const match = /\/campaigns\/([^/]+)\/events(\/ws)?$/.exec(path);
  if (method !== "GET" || !match) throw forbidden("An events token can only read a campaign's events stream.");
  if (match[1] !== check.campaignId) throw forbidden(`This events token is for campaign ${check.campaignId}, not ${shortened(match[1] ?? "")}.`);
  // No Origin header means no browser (a server or a tool), which the binding does not restrict.
  if (check.origin && origin !== undefined && origin !== check.origin) {
    throw forbidden(
      `This events token was minted for another origin and cannot be used from ${shortened(origin)}; mint one with {"origin": ${quoted(origin)}} for this page.`,
    );
  }
  return { accountId: check.accountId, actor: "events_token", kind: "events_token", campaignId: check.campaignId };
}

const CALL_RESULT_PATH = /\/calls\/([^/]+)\/result$/;

/**
 * A call's result token in `?token=`: only POST on that call's result URL. The account is the call's
 * campaign's, so a valid token for a deleted campaign finds nothing (404, as a missing call).
 */
async function callerFromCallToken(env: Env, token: string, callId: string, method: string): Promise<Caller> {
  const check = await verifyCallToken(env, callId, token);
  if (check.kind === "expired")
    throw unauthorized("This call's result token has expired: a result URL works for 48 hours after the dial. Report with an API key instead.");
  if (check.kind !== "ok" || method !== "POST")
    throw unauthorized("The result token is not valid for this call; use the result_url the call was given, as it is.");
  // The MAC vouches for the account; the campaign object checks the call is that account's.
  return { accountId: check.accountId, actor: "call_token", kind: "call_token", callId };
}

/** Resolves the caller's account for every tenant route. */
export const requireTenant = createMiddleware<AppEnv>(async (c, next) => {
  const queryToken = c.req.query("token");
  if (queryToken !== undefined && !c.req.header("Authorization")) {
    const callResult = CALL_RESULT_PATH.exec(c.req.path);
    c.set(
      "caller",
      callResult
        ? await callerFromCallToken(c.env, queryToken, decodeURIComponent(callResult[1] as string), c.req.method)
        : await callerFromEventsToken(c.env, queryToken, c.req.method, c.req.path, c.req.header("Origin")),
    );
    await next();
    return;
  }
  const token = bearerToken(c.req.header("Authorization"));
  const headerAccount = c.req.header("X-Account-ID");
  if (!token.startsWith(API_KEY_PREFIX)) {
    c.set("caller", tenantOnly(await callerFromSession(c.env, token, headerAccount)));
    await next();
    return;
  }
  const parsed = parseApiKey(token);
  if (!parsed) throw invalidKey();
  const hash = await hashApiKey(token, c.env.API_KEY_PEPPER);
  if (parsed.accountId === RESERVED_ACCOUNT || !mayBatchKeyCheck(c, parsed.accountId, headerAccount)) {
    c.set("caller", tenantOnly(await callerFromApiKey(c.env, parsed, hash, headerAccount)));
    await next();
    return;
  }
  // A plain read: the key is checked in the route's first D1 batch (key-check.ts), and whatever the
  // route answered is replaced by the 401 if the key turns out not to be usable.
  const check = deferKeyCheck(c, hash, parsed.accountId);
  c.set("caller", tenantOnly(check.caller));
  await next();
  try {
    await check.finish(database(c.env));
  } catch (error) {
    await c.res.body?.cancel();
    throw error;
  }
});

function tenantOnly(caller: Caller): Caller {
  if (caller.accountId === RESERVED_ACCOUNT) throw forbidden(`The "${RESERVED_ACCOUNT}" account cannot use tenant routes.`);
  return caller;
}

/** Platform admin routes: Bearer ADMIN_TOKEN. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!c.env.ADMIN_TOKEN) throw new ApiError("not_configured", "ADMIN_TOKEN is not set; set it with `wrangler secret put ADMIN_TOKEN`.");
  if (!(await safeEqual(token, c.env.ADMIN_TOKEN))) throw unauthorized("The admin token is not valid.");
  await next();
});
