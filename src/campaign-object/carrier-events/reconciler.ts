import { getAccountStub } from "../../accounts/stub";
import type { LookupResult } from "../../carriers/types";
import type { Env } from "../../env";
import type { CarrierLink } from "../carrier-link";
import type { Attempt } from "../storage/attempts";
import type { ObjectStorage } from "../storage/object-storage";
import type { CallEvents } from "./call-events";

/** An attempt with no carrier id is looked up at the carrier after this long. */
export const RECONCILE_AFTER_MS = 15_000;
/** A live call silent this long is asked about at the carrier. */
const STALE_AFTER_MS = 90_000;
/** Consecutive failed status lookups of a call without a carrier ref before it is looked up by number instead. */
export const LOOKUP_ERRORS_BEFORE_FIND = 3;
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
        this.adoptFound(attempt, await carrier.adapter.findCall(attempt.phone, carrier.from, attempt.created_at));
      } else if (now - attempt.last_event_at >= STALE_AFTER_MS) {
        const found = await carrier.adapter.fetchStatus(attempt.call_id, attempt.carrier_ref);
        if (found.kind === "found") {
          this.events.apply(attempt.attempt_id, found.event);
          this.storage.attempts.patch(attempt.attempt_id, { last_event_at: now, lookup_errors: 0 });
        } else if (found.kind === "absent") {
          const current = this.storage.attempts.get(attempt.attempt_id);
          if (current && current.state !== "ended") this.events.finish(current, "failed", 0, "The carrier has no record of this call.");
        } else {
          const errors = attempt.lookup_errors + 1;
          this.storage.attempts.patch(attempt.attempt_id, { lookup_errors: errors });
          // Plivo finds a call by request id only while it is queued; without its CallUUID the listing by number is the way left.
          if (errors >= LOOKUP_ERRORS_BEFORE_FIND && !attempt.carrier_ref) {
            this.adoptFound(attempt, await carrier.adapter.findCall(attempt.phone, carrier.from, attempt.created_at), now);
          }
        }
      }
    }
    const stillOpen = this.storage.attempts.open();
    if (stillOpen.length > 0) {
      await getAccountStub(this.env, state.account_id).renewLeases(stillOpen.map((a) => a.lease_id));
      this.storage.timers.set("stale", now + STALE_INTERVAL_MS);
    }
  }

  /**
   * A call found by its numbers and time, as for a lost REST answer: its state is applied. When the
   * carrier has none, a lost REST answer means the call was never placed (the contact may be dialled
   * again), but a call the carrier accepted ends as failed. The listing may name the call by its
   * CallUUID (call records carry no request id), so a match keeps the attempt's own call id.
   */
  private adoptFound(attempt: Attempt, found: LookupResult, now?: number) {
    if (found.kind === "found") {
      const { callId, carrierRef } = found.event;
      const event = attempt.call_id
        ? { ...found.event, callId: attempt.call_id, carrierRef: carrierRef ?? (callId !== attempt.call_id ? callId : undefined) }
        : found.event;
      this.events.apply(attempt.attempt_id, event);
      if (now !== undefined) this.storage.attempts.patch(attempt.attempt_id, { last_event_at: now, lookup_errors: 0 });
    } else if (found.kind === "absent") {
      // A call the carrier accepted is never dialled again on a listing's word (records may lag): it ends as failed, retried by policy.
      if (attempt.call_id) this.events.finish(attempt, "failed", 0, "The carrier has no record of this call.");
      else this.events.unplace(attempt.attempt_id);
    }
  }
}
