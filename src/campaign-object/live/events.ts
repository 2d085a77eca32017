import type { CampaignStatus } from "../../db/schema";
import { isTerminal } from "../lifecycle";
import { type CampaignState, type ContactStats, type StatsWithTotal, statsWithTotal } from "../storage/campaign-state";

export interface Snapshot {
  campaign_id: string;
  status: CampaignStatus;
  status_reason: string | null;
  stats: StatsWithTotal & { dispositions: Record<string, number> };
  in_flight: number;
  attempts: number;
  at: string;
  /** The campaign's name, so a page holding only an events token can title it. */
  name: string;
}

export function snapshotOf(
  state: CampaignState,
  stats: ContactStats,
  live: { inFlight: number; attempts: number; dispositions: Record<string, number> },
): Snapshot {
  return {
    campaign_id: state.campaign_id,
    status: state.status,
    status_reason: state.status_reason,
    stats: { ...statsWithTotal(stats), dispositions: live.dispositions },
    in_flight: live.inFlight,
    attempts: live.attempts,
    at: new Date().toISOString(),
    name: state.name,
  };
}

export const isFinal = (snapshot: Snapshot) => isTerminal(snapshot.status);
