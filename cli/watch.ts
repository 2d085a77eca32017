/**
 * `edgedial campaigns watch`: follows a campaign's live events (through the client's stream reader,
 * which reconnects after the last event seen) and shows its progress until it ends.
 */

import type { Campaign, CampaignStatus, Edgedial, Snapshot } from "../client/index.js";
import { DialRate, type ProgressView, renderPlainLine, renderProgress } from "./progress.js";

/** The exit status a finished watch answers; docs/cli.md lists them. */
const EXIT_CAMPAIGN_FAILED = 3;

/** `completed` (a stopped campaign is `completed` too) is success; `failed` is not. */
export const exitCodeForStatus = (status: CampaignStatus): number => (status === "failed" ? EXIT_CAMPAIGN_FAILED : 0);

const isFinished = (status: CampaignStatus) => status === "completed" || status === "failed";

export interface Terminal {
  write(text: string): void;
  /** Redraw in place (a terminal) or print a line per change (a pipe, a file, a CI log). */
  live: boolean;
  columns: () => number;
  color: boolean;
}

interface Display {
  /** `cause` is what changed the view: a snapshot (every 2 s while running), or a single transition. */
  show(view: ProgressView, cause: "snapshot" | "transition"): void;
  finish(view: ProgressView): void;
}

/**
 * Lines for logs and pipes: at most one per snapshot, and only when a count or the status changed
 * (a rate that merely decays while nothing happens would fill a log); the last line always.
 */
function plainDisplay(terminal: Terminal): Display {
  let lastLine = "";
  let lastCounts = "";
  const print = (view: ProgressView) => {
    lastLine = renderPlainLine(view);
    lastCounts = renderPlainLine({ ...view, dialsPerMinute: 0 });
    terminal.write(`${lastLine}\n`);
  };
  return {
    show: (view, cause) => {
      if (cause === "snapshot" && renderPlainLine({ ...view, dialsPerMinute: 0 }) !== lastCounts) print(view);
    },
    finish: (view) => {
      if (renderPlainLine(view) !== lastLine) print(view);
    },
  };
}

/** Two lines redrawn in place, at most ten times a second, and once a second so the rate decays. */
function liveDisplay(terminal: Terminal, latest: () => ProgressView): Display & { stop(): void } {
  let drawn = 0;
  let lastDraw = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const draw = () => {
    timer = null;
    lastDraw = Date.now();
    const lines = renderProgress(latest(), { columns: terminal.columns(), color: terminal.color });
    // Up over what was drawn before, then each line cleared and written again.
    terminal.write(`${drawn ? `\x1b[${drawn}A` : "\x1b[?25l"}${lines.map((line) => `\r\x1b[2K${line}\n`).join("")}`);
    drawn = lines.length;
  };
  const ticker = setInterval(draw, 1_000);
  let stopped = false;
  const stop = () => {
    clearInterval(ticker);
    if (timer) clearTimeout(timer);
    timer = null;
    if (!stopped) terminal.write("\x1b[?25h");
    stopped = true;
  };
  return {
    show() {
      if (timer) return;
      timer = setTimeout(draw, Math.max(0, 100 - (Date.now() - lastDraw)));
    },
    finish() {
      if (timer) clearTimeout(timer);
      draw();
      stop();
    },
    stop,
  };
}

const viewOfCampaign = (campaign: Campaign): ProgressView => ({
  name: campaign.name,
  status: campaign.status,
  stats: campaign.stats,
  inFlight: campaign.stats.originated + campaign.stats.connected,
  dialsPerMinute: 0,
});

const viewOfSnapshot = (snapshot: Snapshot, dialsPerMinute: number): ProgressView => ({
  name: snapshot.name,
  status: snapshot.status,
  stats: snapshot.stats,
  inFlight: snapshot.in_flight,
  dialsPerMinute,
});

/**
 * Shows the campaign until it is completed or failed and answers the exit status. The first read
 * is a plain GET, so a wrong id, key or address fails at once rather than after the stream's retries.
 * The stream starts from the first event the server still keeps, so the dial rate is right at once.
 */
export async function watchCampaign(client: Edgedial, id: string, terminal: Terminal): Promise<{ code: number; view: ProgressView; reason: string | null }> {
  const campaign = await client.campaigns.get(id);
  let view = viewOfCampaign(campaign);
  let reason = campaign.status_reason;
  const rate = new DialRate();
  // The server's clock, carried forward by ours: dial times are the server's, and the two may differ.
  let serverAt = Date.now();
  let seenAt = Date.now();
  const serverNow = () => serverAt + (Date.now() - seenAt);
  const noteServerTime = (at: string) => {
    const parsed = Date.parse(at);
    if (Number.isFinite(parsed) && parsed >= serverAt) {
      serverAt = parsed;
      seenAt = Date.now();
    }
  };
  const current = () => ({ ...view, dialsPerMinute: rate.perMinute(serverNow()) });
  const live = terminal.live ? liveDisplay(terminal, current) : null;
  const display = live ?? plainDisplay(terminal);
  try {
    display.show(current(), "snapshot");
    if (!isFinished(view.status)) {
      for await (const event of client.campaigns.streamEvents(id, { lastEventId: 0 })) {
        if (event.type === "contact") {
          noteServerTime(event.data.at);
          if (event.data.status === "originated") rate.record(Date.parse(event.data.at));
        } else if (event.type === "snapshot" || event.type === "end") {
          noteServerTime(event.data.at);
          view = viewOfSnapshot(event.data, 0);
          reason = event.data.status_reason;
        }
        display.show(current(), event.type === "snapshot" || event.type === "end" ? "snapshot" : "transition");
        if (event.type === "end") break;
      }
    }
    display.finish(current());
  } finally {
    live?.stop();
  }
  return { code: exitCodeForStatus(view.status), view: current(), reason };
}
