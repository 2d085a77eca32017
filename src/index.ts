import { createApp } from "./app";
import { rearmLiveCampaigns } from "./campaigns/maintenance";
import { serveOwnOrigin } from "./carriers/own-origin";
import type { Env } from "./env";
import { pruneDeliveryLog } from "./outbox/retention";
import { meteredEnv, meterWorkerRequest } from "./usage/meter";

export { AccountDO } from "./accounts/account-do";
export { CampaignDO } from "./campaign-object/campaign-do";
export { SimulatorDO } from "./carriers/simulator/simulator-do";
export { ContactLedgerDO } from "./contact-policy/ledger-do";
export { WebhookSinkDO } from "./outbox/webhook-sink-do";

const app = createApp();
// Durable Objects reach this Worker's own origin (the simulator, its callbacks, the webhook sink) through the app in-process.
serveOwnOrigin((request, env) => app.fetch(request, env));

export default {
  fetch: (request, env, ctx) => app.fetch(request, meterWorkerRequest(request, env), ctx),
  scheduled(_controller, rawEnv, ctx) {
    const env = meteredEnv(rawEnv);
    ctx.waitUntil(rearmLiveCampaigns(env));
    ctx.waitUntil(pruneDeliveryLog(env));
  },
} satisfies ExportedHandler<Env>;
