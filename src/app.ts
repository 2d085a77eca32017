import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import type { AppEnv } from "./env";
import { requireTenant } from "./http/auth";
import { eventsCors } from "./http/cors";
import { d1Sessions } from "./http/d1-session";
import { ApiError, errorResponse, shortened } from "./http/errors";
import { idempotentRequests } from "./http/idempotency";
import { API_MOUNTS } from "./http/mounts";
import { noSniff } from "./http/security-headers";
import { buildOpenApiDocument, type DocumentedMount, type OpenApiDocument } from "./openapi/document";
import { accountRoutes } from "./routes/account";
import { adminRoutes } from "./routes/admin";
import { agentRoutes } from "./routes/agents";
import { callRoutes } from "./routes/calls";
import { campaignRoutes } from "./routes/campaigns";
import { carrierCallbackRoutes } from "./routes/carrier-callbacks";
import { contactPolicyRoutes } from "./routes/contact-policy";
import { dncRoutes } from "./routes/dnc";
import { serviceRoutes } from "./routes/service";
import { simulatorRoutes } from "./routes/simulator";
import { telephonyRoutes } from "./routes/telephony";
import { usageRoutes } from "./routes/usage";
import { webhookSinkRoutes } from "./routes/webhook-sink";
import { webhookRoutes } from "./routes/webhooks";

/** The tenant API, built whole before it is mounted (Hono copies routes at mount time). */
function tenantApi() {
  const api = new OpenAPIHono<AppEnv>();
  api.use(eventsCors);
  api.use(requireTenant);
  // Outside the D1 session, so a kept answer carries the bookmark of the write it reports.
  api.use(idempotentRequests(API_MOUNTS));
  api.use(d1Sessions);
  return api
    .route("/", accountRoutes)
    .route("/agents", agentRoutes)
    .route("/telephony", telephonyRoutes)
    .route("/campaigns", campaignRoutes)
    .route("/dnc", dncRoutes)
    .route("/contact-policy", contactPolicyRoutes)
    .route("/calls", callRoutes)
    .route("/webhooks", webhookRoutes);
}

export function createApp() {
  const app = new Hono<AppEnv>();
  app.use(noSniff);
  const api = tenantApi();
  const documents = new Map<string, OpenApiDocument>();
  const document = (publicOrigin: string) =>
    documents.get(publicOrigin) ?? documents.set(publicOrigin, buildOpenApiDocument(documented, publicOrigin, API_MOUNTS[0])).get(publicOrigin)!;
  /** Every route the app serves, each under the one prefix the OpenAPI document lists it by. */
  const documented: DocumentedMount[] = [
    ["/", serviceRoutes(document)],
    ["/admin/v1", adminRoutes],
    ["/webhooks", carrierCallbackRoutes],
    [API_MOUNTS[0], api],
  ];
  for (const [prefix, routes] of documented) app.route(prefix, routes);
  // The aliases serve the very same sub-app; the document says so instead of listing them thrice.
  for (const alias of API_MOUNTS.slice(1)) app.route(alias, api);
  // Local stand-ins for carriers' REST APIs and a webhook receiver (off in production), not part of edgedial's API.
  app.route("/simulator/webhook-sink", webhookSinkRoutes);
  app.route("/simulator/usage", usageRoutes);
  app.route("/simulator", simulatorRoutes);

  app.notFound((c) => errorResponse(c, new ApiError("not_found", `No route for ${c.req.method} ${shortened(new URL(c.req.url).pathname)}.`)));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    console.error("unhandled error", c.req.method, c.req.path, error);
    return errorResponse(c, new ApiError("internal_error", "Something went wrong on our side; the request can be retried."));
  });
  return app;
}
