import { getAccountStub } from "../accounts/account-do";
import type { Env } from "../env";
import type { CallEvents } from "./call-events";
import type { CarrierLink } from "./carrier-link";
import type { ObjectStorage } from "./object-storage/object-storage";

/** An attempt with no carrier id is looked up at the carrier after this long. */
export const RECONCILE_AFTER_MS = 15_000;
/** A live call silent this long is asked about at the carrier. */
const STALE_AFTER_MS = 90_000;
/** How often open calls are checked and their slot leases renewed. */
export const STALE_INTERVAL_MS = 30_000;

/**
 * Calls without a final callback are settled by asking the carrier, through its own call lookups;
 * leases of calls still live are renewed. A contact is dialled again only when the carrier
 * confirms the earlier call does not exist.
 */
export class Reconciler {
  constructor(
    private readonly env: Env,
    private readonly storage: ObjectStorage,
    private readonly carrier: CarrierLink,
    private readonly events: CallEvents,
  ) {}

  async reconcile() {
    const state = this.storage.campaign.get();
    const open = this.storage.attempts.open();
    if (!state || open.length === 0) return;
    const carrier = await this.carrier.get();
    const now = Date.now();
    for (const attempt of open) {
      if (!attempt.call_id) {
        if (now - attempt.created_at < RECONCILE_AFTER_MS) continue;
        const found = await carrier.adapter.findCall(attempt.phone, carrier.from, attempt.created_at);
        if (found.kind === "found") this.events.apply(attempt.attempt_id, found.event);
        // The carrier confirms there is no such call: it was never placed, so it may be dialled again.
        else if (found.kind === "absent") this.events.unplace(attempt.attempt_id);
      } else if (now - attempt.last_event_at >= STALE_AFTER_MS) {
        const found = await carrier.adapter.fetchStatus(attempt.call_id, attempt.carrier_ref);
        if (found.kind === "found") {
          this.events.apply(attempt.attempt_id, found.event);
          this.storage.attempts.patch(attempt.attempt_id, { last_event_at: now });
        } else if (found.kind === "absent") {
          const current = this.storage.attempts.get(attempt.attempt_id);
          if (current && current.state !== "ended") this.events.finish(current, "failed", 0, "The carrier has no record of this call.");
        }
      }
    }
    const stillOpen = this.storage.attempts.open();
    if (stillOpen.length > 0) {
      await getAccountStub(this.env, state.account_id).renewLeases(stillOpen.map((a) => a.lease_id));
      this.storage.timers.set("stale", now + STALE_INTERVAL_MS);
    }
  }
}
