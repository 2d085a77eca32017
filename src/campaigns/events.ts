import type { CampaignStatus, ContactStatus } from "../db/schema";
import type { CampaignState } from "./campaign-store";
import { isTerminal } from "./lifecycle";

export const SNAPSHOT_INTERVAL_MS = 2_000;
export const HEARTBEAT_INTERVAL_MS = 15_000;
/** Streams close after this long; EventSource reconnects by itself (told by `retry:`). */
export const STREAM_LIFETIME_MS = 30 * 60_000;
export const RECONNECT_HINT_MS = 3_000;

export interface Snapshot {
  campaign_id: string;
  status: CampaignStatus;
  status_reason: string | null;
  stats: { total: number; pending: number; originated: number; connected: number; completed: number; failed: number; cancelled: number };
  in_flight: number;
  attempts: number;
  at: string;
}

export function snapshotOf(state: CampaignState, stats: Record<ContactStatus, number>, live: { inFlight: number; attempts: number }): Snapshot {
  const total = Object.values(stats).reduce((sum, n) => sum + n, 0);
  return {
    campaign_id: state.campaign_id,
    status: state.status,
    status_reason: state.status_reason,
    stats: {
      total,
      pending: stats.pending,
      originated: stats.originated,
      connected: stats.connected,
      completed: stats.completed,
      failed: stats.failed,
      cancelled: stats.cancelled,
    },
    in_flight: live.inFlight,
    attempts: live.attempts,
    at: new Date().toISOString(),
  };
}

export const isFinal = (snapshot: Snapshot) => isTerminal(snapshot.status);

const encoder = new TextEncoder();

/** SSE framing: one `data:` line per JSON document, a blank line ends the event. */
export const sse = {
  retry: (ms: number) => encoder.encode(`retry: ${ms}\n\n`),
  snapshot: (snapshot: Snapshot) => encoder.encode(`data: ${JSON.stringify(snapshot)}\n\n`),
  end: (snapshot: Snapshot) => encoder.encode(`event: end\ndata: ${JSON.stringify(snapshot)}\n\n`),
  heartbeat: () => encoder.encode(": heartbeat\n\n"),
};
