/**
 * What `edgedial campaigns watch` draws: a pure function of the campaign's latest snapshot and its
 * dial rate, so every layout decision is testable without a terminal.
 */

import type { CampaignStatus, Stats } from "../client/index.js";

export interface ProgressView {
  name: string;
  status: CampaignStatus;
  stats: Pick<Stats, "total" | "pending" | "originated" | "connected" | "completed" | "failed" | "cancelled">;
  inFlight: number;
  dialsPerMinute: number;
}

/** The bar's parts, left to right: finished contacts first, then calls under way, then what waits. */
const SEGMENTS = [
  { key: "completed", label: "completed", glyph: "█", color: 32 },
  { key: "failed", label: "failed", glyph: "▓", color: 31 },
  { key: "cancelled", label: "cancelled", glyph: "░", color: 90 },
  { key: "calling", label: "calling", glyph: "▒", color: 33 },
  { key: "pending", label: "pending", glyph: "·", color: 2 },
] as const;

type SegmentKey = (typeof SEGMENTS)[number]["key"];

const countsOf = (stats: ProgressView["stats"]): Record<SegmentKey, number> => ({
  completed: stats.completed,
  failed: stats.failed,
  cancelled: stats.cancelled,
  calling: stats.originated + stats.connected,
  pending: stats.pending,
});

const doneOf = (stats: ProgressView["stats"]) => stats.completed + stats.failed + stats.cancelled;

/**
 * Splits `width` cells among `counts` in proportion, by largest remainder, so the cells always add
 * up to `width` exactly and a part never gets more than its share rounded up.
 */
export function allocateCells(counts: readonly number[], width: number): number[] {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total <= 0 || width <= 0) return counts.map(() => 0);
  const exact = counts.map((count) => (count * width) / total);
  const cells = exact.map(Math.floor);
  let left = width - cells.reduce((sum, n) => sum + n, 0);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (left === 0) break;
    cells[index] = (cells[index] ?? 0) + 1;
    left--;
  }
  return cells;
}

const paint = (text: string, code: number, color: boolean) => (color && text ? `\x1b[${code}m${text}\x1b[0m` : text);

/** Cuts a plain-text line to the terminal's width, so a redraw never wraps and miscounts its lines. */
const clip = (text: string, columns: number) => (text.length <= columns ? text : `${text.slice(0, Math.max(0, columns - 1))}…`);

const percentDone = (stats: ProgressView["stats"]) => (stats.total === 0 ? 100 : Math.floor((doneOf(stats) * 100) / stats.total));

/**
 * The two lines a terminal shows, redrawn in place: the name, status and bar, then a legend with
 * each part's count, the calls in flight and the dial rate. Both fit in `columns`.
 */
export function renderProgress(view: ProgressView, options: { columns: number; color: boolean }): [string, string] {
  const { columns, color } = options;
  const counts = countsOf(view.stats);
  const tail = `  ${String(percentDone(view.stats)).padStart(3)}%  ${doneOf(view.stats)}/${view.stats.total}`;
  const head = `${view.name} · ${view.status}  `;
  // The bar takes what the text leaves, between 10 and 50 cells; a long name is cut first.
  const barWidth = Math.max(10, Math.min(50, columns - head.length - tail.length - 2));
  const cells = allocateCells(
    SEGMENTS.map((segment) => counts[segment.key]),
    barWidth,
  );
  const plainBar = SEGMENTS.map((segment, i) => segment.glyph.repeat(cells[i] ?? 0)).join("");
  const bar = SEGMENTS.map((segment, i) => paint(segment.glyph.repeat(cells[i] ?? 0), segment.color, color)).join("");
  const headRoom = Math.max(0, columns - plainBar.length - tail.length - 2);
  const shownHead = clip(head, headRoom);
  const first = `${shownHead}[${bar}]${tail}`;
  const legend = SEGMENTS.map((segment) => `${paint(segment.glyph, segment.color, color)} ${segment.label} ${counts[segment.key]}`);
  const rate = `${view.inFlight} in flight · ${view.dialsPerMinute} dials/min`;
  const plainLegendLength = SEGMENTS.reduce((sum, segment) => sum + `${segment.glyph} ${segment.label} ${counts[segment.key]}`.length + 2, 0) + rate.length;
  const second =
    plainLegendLength <= columns
      ? `${legend.join("  ")}  ${rate}`
      : clip(`${doneOf(view.stats)} done, ${counts.calling} calling, ${counts.pending} pending · ${rate}`, columns);
  return [first, second];
}

/** One line for logs and pipes: every count by name, so a reader (or grep) needs no legend. */
export function renderPlainLine(view: ProgressView): string {
  const { stats } = view;
  return (
    `${view.status}: ${doneOf(stats)} of ${stats.total} done (${stats.completed} completed, ${stats.failed} failed, ${stats.cancelled} cancelled), ` +
    `${stats.originated + stats.connected} calling, ${stats.pending} pending, ${view.inFlight} in flight, ${view.dialsPerMinute} dials/min`
  );
}

/** Dials in the minute before `now`, counted from the `originated` transitions' own timestamps. */
export class DialRate {
  private readonly times: number[] = [];

  record(at: number) {
    this.times.push(at);
  }

  perMinute(now: number): number {
    // Transitions arrive nearly in time order; dropping from the front keeps this cheap for a long watch.
    while (this.times.length > 0 && (this.times[0] ?? 0) <= now - 60_000) this.times.shift();
    return this.times.filter((at) => at > now - 60_000 && at <= now).length;
  }
}
