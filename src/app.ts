import { Hono } from "hono";
import type { AppEnv } from "./env";
import { requireTenant } from "./http/auth";
import { ApiError, errorResponse } from "./http/errors";
import { accountRoutes } from "./routes/account";
import { adminRoutes } from "./routes/admin";
import { agentRoutes } from "./routes/agents";
import { campaignRoutes } from "./routes/campaigns";
import { simulatorRoutes } from "./routes/simulator";
import { telephonyRoutes } from "./routes/telephony";
import { webhookEndpointRoutes } from "./routes/webhook-endpoints";
import { webhookSinkRoutes } from "./routes/webhook-sink";
import { webhookRoutes } from "./routes/webhooks";

/** The tenant API, built whole before it is mounted (Hono copies routes at mount time). */
function tenantApi() {
  return new Hono<AppEnv>()
    .use(requireTenant)
    .route("/", accountRoutes)
    .route("/agents", agentRoutes)
    .route("/telephony", telephonyRoutes)
    .route("/campaigns", campaignRoutes)
    .route("/webhooks", webhookEndpointRoutes);
}

export const API_MOUNTS = ["/api/v1", "/hub-api/api/v1", "/v1"] as const;

export function createApp() {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.route("/admin/v1", adminRoutes);
  app.route("/webhooks", webhookRoutes);
  app.route("/simulator/webhook-sink", webhookSinkRoutes);
  app.route("/simulator", simulatorRoutes);
  const api = tenantApi();
  for (const mount of API_MOUNTS) app.route(mount, api);

  app.notFound((c) => errorResponse(c, new ApiError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`)));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    console.error("unhandled error", c.req.method, c.req.path, error);
    return errorResponse(c, new ApiError("internal_error", "Something went wrong on our side; the request can be retried."));
  });
  return app;
}
