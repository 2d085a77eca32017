import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AlarmClock } from "../src/campaign-object/alarm-clock";
import { Timers } from "../src/campaign-object/storage/timers";

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

describe("Timers", () => {
  it("answers from memory exactly what its rows hold, through every change, and reads the rows again after a wipe", async () => {
    const stub = env.CAMPAIGNS.get(env.CAMPAIGNS.idFromName(`timers-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const timers = new Timers(sql);
      timers.createSchema();
      const rows = () =>
        Object.fromEntries(
          sql
            .exec<{ name: string; due_at: number }>("SELECT name, due_at FROM timers")
            .toArray()
            .map((r) => [r.name, r.due_at]),
        );
      // What a fresh instance (a restarted object) reads must be what this one answers.
      const agree = () => {
        const fresh = new Timers(sql);
        for (const name of ["dispatch", "stale", "scheduled_start", "flush"] as const) expect(timers.dueAt(name)).toBe(fresh.dueAt(name));
        expect(timers.earliest()).toBe(fresh.earliest());
      };
      timers.set("dispatch", 5_000.7);
      timers.setNoLater("flush", 3_000);
      timers.setNoLater("flush", 4_000);
      expect(rows()).toEqual({ dispatch: 5_000, flush: 3_000 });
      agree();
      timers.setNoLater("dispatch", 2_000);
      timers.set("stale", 9_000);
      timers.clear("flush");
      timers.clear("scheduled_start");
      expect(rows()).toEqual({ dispatch: 2_000, stale: 9_000 });
      expect(timers.earliest()).toBe(2_000);
      agree();
      expect(timers.takeDue(1_999)).toEqual([]);
      expect(timers.takeDue(9_000).sort()).toEqual(["dispatch", "stale"]);
      expect(rows()).toEqual({});
      expect(timers.earliest()).toBeNull();
      agree();
      // Rows written behind its back (a wiped and re-created table) are read again after createSchema.
      timers.set("dispatch", 1_000);
      sql.exec("DROP TABLE timers");
      timers.createSchema();
      sql.exec("INSERT INTO timers (name, due_at) VALUES ('stale', 7000)");
      expect(timers.dueAt("dispatch")).toBeNull();
      expect(timers.earliest()).toBe(7_000);
    });
  });
});
