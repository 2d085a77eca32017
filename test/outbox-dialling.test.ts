import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { getCampaignStub } from "../src/campaign-object/stub";
import type { FetchLike } from "../src/carriers/types";
import { OUTBOX_LIMITS, Outbox } from "../src/outbox/outbox";
import { newTenant } from "./helpers";
import { useSimulatedTime } from "./sim";
import { createEndpoint, newSink, sinkUrl } from "./webhook-helpers";

let restore: () => void = () => undefined;
afterEach(() => restore());

/** A receiver that holds requests open while `holding`, counting what it holds; release answers them all. */
function heldReceiver() {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  const state = { open: 0, holding: true };
  const fetch: FetchLike = async () => {
    if (state.holding) {
      state.open++;
      await gate;
      state.open--;
    }
    return new Response(null, { status: 200 });
  };
  const releaseAll = () => {
    state.holding = false;
    release();
  };
  const holdAgain = () => {
    state.holding = true;
    gate = new Promise<void>((r) => (release = r));
  };
  return { fetch, state, releaseAll, holdAgain };
}

const settled = async (outbox: Outbox, open: () => number, want: number) => {
  for (let i = 0; i < 200 && open() < want; i++) await new Promise((r) => setTimeout(r, 1));
  return outbox.inspect().in_flight;
};

describe("the outbox gives way to dialling", () => {
  it("keeps at most 12 requests open while its host dials, and 32 once it does not", async () => {
    restore = useSimulatedTime(Date.now() + 3_600_000);
    const t = await newTenant();
    await createEndpoint(t, { url: sinkUrl(newSink("held")) });
    const stub = getCampaignStub(env, `outbox-dialling-${t.accountId}`);
    await runInDurableObject(stub, async (_instance, state) => {
      const receiver = heldReceiver();
      let dialling = true;
      const outbox = new Outbox(state.storage.sql, { env, fetch: receiver.fetch, wake: () => undefined, dialling: () => dialling });
      outbox.createSchema();
      outbox.setAccount(t.accountId);
      await outbox.refreshEndpoints();
      for (let i = 0; i < 100; i++) outbox.enqueue({ type: "contact.completed", data: { i }, at: Date.now() });

      const whileDialling = outbox.pump();
      expect(await settled(outbox, () => receiver.state.open, OUTBOX_LIMITS.maxInFlightWhileDialling)).toBe(12);
      expect(receiver.state.open).toBe(12);
      receiver.releaseAll();
      await whileDialling;

      // The dial-out is over: a second later (a full start budget), the next pass opens 32.
      dialling = false;
      receiver.holdAgain();
      vi.setSystemTime(Date.now() + 1_000);
      const afterDialling = outbox.pump();
      expect(await settled(outbox, () => receiver.state.open, OUTBOX_LIMITS.maxInFlight)).toBe(32);
      expect(receiver.state.open).toBe(32);
      receiver.releaseAll();
      await afterDialling;
      await outbox.idle();
    });
  });
});
