import { createApp } from "./app";
import { rearmLiveCampaigns } from "./campaigns/maintenance";
import { serveOwnOrigin } from "./carriers/own-origin";
import type { Env } from "./env";

export { AccountDO } from "./accounts/account-do";
export { CampaignDO } from "./campaigns/campaign-do";
export { SimulatorDO } from "./carriers/simulator/simulator-do";

const app = createApp();
// Durable Objects reach this Worker's own origin (the simulator and its callbacks) through the app in-process.
serveOwnOrigin((request, env) => app.fetch(request, env));

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(rearmLiveCampaigns(env));
  },
} satisfies ExportedHandler<Env>;
