import type { CampaignStatus, ContactStatus } from "../../db/schema";
import { isTerminal } from "../lifecycle";
import type { CampaignState } from "../storage/campaign-state";

export interface Snapshot {
  campaign_id: string;
  status: CampaignStatus;
  status_reason: string | null;
  stats: { total: number; pending: number; originated: number; connected: number; completed: number; failed: number; cancelled: number };
  in_flight: number;
  attempts: number;
  at: string;
  /** The campaign's name, so a page holding only an events token can title it. */
  name: string;
}

export function snapshotOf(state: CampaignState, stats: Record<ContactStatus, number>, live: { inFlight: number; attempts: number }): Snapshot {
  const total = Object.values(stats).reduce((sum, n) => sum + n, 0);
  return {
    campaign_id: state.campaign_id,
    status: state.status,
    status_reason: state.status_reason,
    stats: { total, ...stats },
    in_flight: live.inFlight,
    attempts: live.attempts,
    at: new Date().toISOString(),
    name: state.name,
  };
}

export const isFinal = (snapshot: Snapshot) => isTerminal(snapshot.status);
