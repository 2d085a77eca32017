import { describe, expect, it } from "vitest";
import { allocateCells, DialRate, type ProgressView, renderPlainLine, renderProgress } from "../../cli/progress";
import { exitCodeForStatus } from "../../cli/watch";

const view = (over: Partial<ProgressView["stats"]> = {}, rest: Partial<ProgressView> = {}): ProgressView => ({
  name: "Spring renewals",
  status: "running",
  stats: { total: 20, pending: 8, originated: 1, connected: 1, completed: 6, failed: 3, cancelled: 1, ...over },
  inFlight: 2,
  dialsPerMinute: 14,
  ...rest,
});

/** Colour codes removed; the escape character is matched as a visible stand-in, which the linter's regex rules accept. */
const uncoloured = (line: string) => line.replaceAll("\u001b", "⎋").replace(/⎋\[[0-9;]*m/g, "");
const barOf = (line: string) => /\[([^\]]*)\]/.exec(uncoloured(line))?.[1] ?? "";

describe("allocateCells", () => {
  it.each([
    [[1, 1, 1], 10, [4, 3, 3]],
    [[6, 3, 1, 2, 8], 20, [6, 3, 1, 2, 8]],
    [[6, 3, 1, 2, 8], 10, [3, 2, 0, 1, 4]],
    [[0, 0, 5], 7, [0, 0, 7]],
    [[0, 0, 0], 10, [0, 0, 0]],
    [[1, 999], 10, [0, 10]],
    [[5, 5], 0, [0, 0]],
  ])("%j in %i cells is %j", (counts, width, cells) => {
    expect(allocateCells(counts, width)).toEqual(cells);
  });

  it("always fills the width exactly, and no part strays more than one cell from its share", () => {
    for (let seed = 1; seed < 300; seed++) {
      const counts = [seed % 7, (seed * 13) % 11, (seed * 7) % 5, seed % 3, (seed * 31) % 17];
      const total = counts.reduce((a, b) => a + b, 0);
      const width = 10 + (seed % 41);
      const cells = allocateCells(counts, width);
      if (total === 0) continue;
      expect(cells.reduce((a, b) => a + b, 0)).toBe(width);
      for (const [i, n] of cells.entries()) expect(Math.abs(n - ((counts[i] ?? 0) * width) / total)).toBeLessThan(1);
    }
  });
});

describe("renderProgress", () => {
  it("draws the parts in order, finished first, with a legend of counts, the rate and in-flight calls", () => {
    const [first, second] = renderProgress(view(), { columns: 100, color: false });
    expect(first).toBe(`Spring renewals · running  [${"█".repeat(15)}${"▓".repeat(8)}${"░".repeat(2)}${"▒".repeat(5)}${"·".repeat(20)}]   50%  10/20`);
    expect(second).toBe("█ completed 6  ▓ failed 3  ░ cancelled 1  ▒ calling 2  · pending 8  2 in flight · 14 dials/min");
  });

  it("never draws a line wider than the terminal; a long name is cut, then the legend shortens", () => {
    for (const columns of [40, 60, 80, 120]) {
      const lines = renderProgress(view({}, { name: "A campaign with a rather long name for a narrow terminal" }), { columns, color: false });
      for (const line of lines) expect(line.length, `${columns} columns: ${line}`).toBeLessThanOrEqual(columns);
      expect(barOf(lines[0]).length).toBeGreaterThanOrEqual(10);
    }
    expect(renderProgress(view(), { columns: 60, color: false })[1]).toBe("10 done, 2 calling, 8 pending · 2 in flight · 14 dials/min");
  });

  it("colours each part without changing what is drawn", () => {
    const plain = renderProgress(view(), { columns: 100, color: false });
    const coloured = renderProgress(view(), { columns: 100, color: true });
    expect(coloured[0]).toContain("\x1b[32m███");
    expect(coloured.map((line) => uncoloured(line))).toEqual(plain);
  });

  it("a finished campaign is a full bar at 100%, an empty one too", () => {
    const [done] = renderProgress(view({ pending: 0, originated: 0, connected: 0, completed: 16 }, { status: "completed" }), { columns: 80, color: false });
    expect(done).toMatch(/· completed {2}\[[█▓░]+\] {2}100% {2}20\/20$/);
    const [empty] = renderProgress(view({ total: 0, pending: 0, originated: 0, connected: 0, completed: 0, failed: 0, cancelled: 0 }), {
      columns: 80,
      color: false,
    });
    expect(empty).toMatch(/ {2}\[\] {2}100% {2}0\/0$/);
  });
});

describe("renderPlainLine", () => {
  it("names every count, so a log reader needs no legend", () => {
    expect(renderPlainLine(view())).toBe("running: 10 of 20 done (6 completed, 3 failed, 1 cancelled), 2 calling, 8 pending, 2 in flight, 14 dials/min");
  });
});

describe("DialRate", () => {
  it("counts the dials of the last 60 seconds, whatever order they arrive in", () => {
    const rate = new DialRate();
    for (const at of [1_000, 30_000, 61_000, 62_000, 20_000]) rate.record(at);
    expect(rate.perMinute(62_000)).toBe(4);
    expect(rate.perMinute(80_500)).toBe(3);
    expect(rate.perMinute(121_000)).toBe(1);
    expect(rate.perMinute(200_000)).toBe(0);
  });
});

describe("watch's exit status", () => {
  it.each([
    ["completed", 0],
    ["failed", 3],
  ] as const)("%s → %i", (status, code) => expect(exitCodeForStatus(status)).toBe(code));
});
