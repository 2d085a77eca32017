import { describe, expect, it } from "vitest";
import { AlarmClock } from "../src/campaign-object/alarm-clock";
import type { Timers } from "../src/campaign-object/storage/timers";

/** The alarm as storage holds it, and how many writes reached it. */
function fakeStorage() {
  const state = { alarm: null as number | null, writes: 0 };
  const storage = {
    getAlarm: async () => state.alarm,
    setAlarm: async (at: number) => {
      state.alarm = at;
      state.writes++;
    },
    deleteAlarm: async () => {
      state.alarm = null;
      state.writes++;
    },
  } as unknown as DurableObjectStorage;
  return { state, storage };
}

function clockWith(due: { timer: number | null; outbox: number | null }) {
  const { state, storage } = fakeStorage();
  const timers = { earliest: () => due.timer } as unknown as Timers;
  return { state, clock: new AlarmClock(storage, timers, () => due.outbox) };
}

describe("AlarmClock with the webhook outbox", () => {
  it.each([
    { timer: 2_000, outbox: 1_000, armed: 1_000 },
    { timer: 1_000, outbox: 2_000, armed: 1_000 },
    { timer: null, outbox: 3_000, armed: 3_000 },
    { timer: 4_000, outbox: null, armed: 4_000 },
    { timer: null, outbox: null, armed: null },
  ])("timer $timer, outbox $outbox → one alarm at $armed", async ({ timer, outbox, armed }) => {
    const { state, clock } = clockWith({ timer, outbox });
    state.alarm = 99;
    await clock.arm();
    expect(state.alarm).toBe(armed);
  });

  it("arms nothing while the handler runs, then arms on its way out at the outbox's due time that came in meanwhile", async () => {
    const due = { timer: 5_000 as number | null, outbox: null as number | null };
    const { state, storage } = fakeStorage();
    const clock = new AlarmClock(storage, { earliest: () => due.timer } as unknown as Timers, () => due.outbox);
    await clock.arm();
    expect(state).toEqual({ alarm: 5_000, writes: 1 });
    clock.fired();
    due.outbox = 1_500;
    await clock.arm();
    expect(state).toEqual({ alarm: 5_000, writes: 1 });
    await clock.handlerDone();
    expect(state).toEqual({ alarm: 1_500, writes: 2 });
    await clock.arm();
    expect(state.writes).toBe(2);
  });
});
