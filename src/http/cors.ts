import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";

/** The two URLs a read-only events token opens. */
const EVENTS_PATH = /\/campaigns\/[^/]+\/events(\/ws)?$/;

/** Open to every origin: the token in the URL is the capability, so no cookie or credential is ever involved. */
const EVENTS_CORS_HEADERS = { "Access-Control-Allow-Origin": "*" } as const;

/** EventSource adds Last-Event-ID on its reconnects (and may add Cache-Control), which makes them preflighted. */
const EVENTS_PREFLIGHT_HEADERS = {
  ...EVENTS_CORS_HEADERS,
  "Access-Control-Allow-Methods": "GET, OPTIONS",
  "Access-Control-Allow-Headers": "Last-Event-ID, Cache-Control",
  "Access-Control-Max-Age": "86400",
} as const;

/** A request that an events token authenticates: an events URL with `?token=` and no Authorization header. */
function isTokenEventsRequest(c: Context<AppEnv>): boolean {
  return EVENTS_PATH.test(c.req.path) && c.req.query("token") !== undefined && !c.req.header("Authorization");
}

/**
 * CORS for token-authenticated events routes only, on every answer including errors, so a page can
 * read why it was refused. Key and JWT routes never get CORS: secret keys do not belong in a page.
 */
export const eventsCors = createMiddleware<AppEnv>(async (c, next) => {
  if (!isTokenEventsRequest(c)) return next();
  if (c.req.method === "OPTIONS") return c.body(null, 204, EVENTS_PREFLIGHT_HEADERS);
  await next();
  for (const [name, value] of Object.entries(EVENTS_CORS_HEADERS)) c.header(name, value);
});
