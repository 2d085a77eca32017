import type { Env } from "../env";
import type { CampaignDO } from "./campaign-do";

export { MAX_CAMPAIGN_CONTACTS } from "./append-rules";
export type { CarrierReply } from "./carrier-events/carrier-callbacks";
export type { LifecycleResult } from "./lifecycle-runner";

/** The campaign's object: Worker code reaches it only through this getter and the result types beside it. */
export const getCampaignStub = (env: Env, campaignId: string) =>
  (env.CAMPAIGNS as DurableObjectNamespace<CampaignDO>).get(env.CAMPAIGNS.idFromName(campaignId));
