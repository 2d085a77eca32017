import { isTerminal } from "./lifecycle";
import type { CampaignRow } from "./store";

export const SNAPSHOT_INTERVAL_MS = 2_000;
export const HEARTBEAT_INTERVAL_MS = 15_000;
/** Streams close after this long; EventSource reconnects by itself (told by `retry:`). */
export const STREAM_LIFETIME_MS = 30 * 60_000;
export const RECONNECT_HINT_MS = 3_000;

export interface Snapshot {
  campaign_id: string;
  status: CampaignRow["status"];
  status_reason: string | null;
  stats: { total: number; pending: number; originated: number; connected: number; completed: number; failed: number; cancelled: number };
  in_flight: number;
  attempts: number;
  at: string;
}

export function snapshotOf(row: CampaignRow, live: { inFlight: number; attempts: number }): Snapshot {
  return {
    campaign_id: row.id,
    status: row.status,
    status_reason: row.statusReason,
    stats: {
      total: row.total,
      pending: row.pending,
      originated: row.originated,
      connected: row.connected,
      completed: row.completed,
      failed: row.failed,
      cancelled: row.cancelled,
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
