import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { TENANT_SECURITY } from "../http/openapi";
import { documentIdempotencyKey } from "./idempotency-key";

/** A sub-app and the one prefix the document lists it under. */
export type DocumentedMount = readonly [prefix: string, routes: OpenAPIHono<AppEnv>];

const securitySchemes = {
  apiKey: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "sk_live_<account>_<secret>",
    description: "An API key; the account comes from the key. An X-Account-ID that names another account is 403.",
  },
  session: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "An interactive session token, checked against the configured JWKS (iss, aud, exp). Needs X-Account-ID, and its sub must be a member.",
  },
  accountId: { type: "apiKey", in: "header", name: "X-Account-ID", description: "The account a session acts on." },
  adminToken: { type: "http", scheme: "bearer", description: "The platform admin token (the ADMIN_TOKEN secret)." },
  eventsToken: {
    type: "apiKey",
    in: "query",
    name: "token",
    description: "A short-lived, read-only token for one campaign's events URLs (POST /api/v1/campaigns/{id}/events/token).",
  },
  callToken: {
    type: "apiKey",
    in: "query",
    name: "token",
    description: "A call's result token, in the `result_url` its answer document passed to the agent: opens that one call's result for 48 hours.",
  },
} as const;

const DESCRIPTION = `Outbound voice campaigns on Cloudflare Workers: upload contacts, and edgedial dials them through one number with one voice agent, under concurrency and rate caps, with retries and a live event stream.

Every \`/api/v1/…\` path is also served under \`/v1/…\` and \`/hub-api/api/v1/…\`, identically (the Kataven Hub paths).

Errors are one \`text/plain\` sentence saying what is wrong and how to fix it; send \`Accept: application/json\` to get \`{"error":{"code","message"}}\` instead.`;

/**
 * The OpenAPI 3.1 document of the given mounts, generated from the route definitions themselves:
 * the request schemas are the ones the routes validate with. Each sub-app is mounted once here,
 * so aliases of a mount do not repeat its paths.
 */
export function buildOpenApiDocument(mounts: readonly DocumentedMount[], publicOrigin = "http://127.0.0.1:8787", idempotentUnder?: string) {
  const described = new OpenAPIHono<AppEnv>();
  for (const [prefix, routes] of mounts) described.route(prefix, routes);
  for (const [name, scheme] of Object.entries(securitySchemes)) described.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  const document = described.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "edgedial API", version: "1", description: DESCRIPTION },
    servers: [{ url: publicOrigin, description: "This deployment (PUBLIC_BASE_URL)" }],
    security: TENANT_SECURITY,
    tags: [
      { name: "Campaigns", description: "Create, page, control and copy campaigns." },
      { name: "Campaign events", description: "The live event stream, as SSE or a WebSocket." },
      { name: "Do-not-call list", description: "Numbers the account never dials." },
      { name: "Webhook endpoints", description: "Where the account's campaign and contact events are POSTed, signed, and each delivery's state." },
      { name: "Agents" },
      { name: "Telephony", description: "Carrier credentials and the numbers that dial." },
      { name: "Account", description: "Caps and API keys of the caller's account." },
      { name: "Platform admin", description: "Accounts, their caps, keys and members (the admin token)." },
      { name: "Carrier webhooks", description: "Called by carriers, authenticated by their signatures." },
      { name: "Service", description: "Health and this reference." },
    ],
  });
  if (idempotentUnder !== undefined) documentIdempotencyKey(document, idempotentUnder);
  return document;
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
