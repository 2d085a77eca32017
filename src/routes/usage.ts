import { Hono } from "hono";
import type { AppEnv } from "../env";
import { requireAdmin } from "../http/auth";
import { ApiError } from "../http/errors";
import { meteringOn } from "../usage/meter";
import { usageReport } from "../usage/usage-counts";

/**
 * GET /simulator/usage: what this isolate has asked of the platform so far (Worker and object
 * requests, alarms, D1 rows), for the cost benchmark. Answers only where metering is on.
 */
export const usageRoutes = new Hono<AppEnv>().use(requireAdmin).get("/", (c) => {
  if (!meteringOn(c.env)) throw new ApiError("not_found", "Usage metering is off: it needs SIMULATOR_ENABLED and USAGE_METER set to true.");
  return c.json(usageReport());
});
