import { getAccountStub } from "../../accounts/stub";
import { callIdOf } from "../../call-results/call-id";
import { CALL_TOKEN_TTL_MS } from "../../call-results/call-token";
import { callbackUrls } from "../../carriers/callback-urls";
import type { OriginateResult } from "../../carriers/types";
import { nowIso } from "../../db/client";
import type { Env } from "../../env";
import { newId } from "../../ids";
import type { CallEvents } from "../carrier-events/call-events";
import { RECONCILE_AFTER_MS, STALE_INTERVAL_MS } from "../carrier-events/reconciler";
import type { CampaignCarrier, CarrierLink } from "../carrier-link";
import type { D1Sync } from "../d1-sync";
import type { EventHub } from "../live/event-hub";
import type { Attempt } from "../storage/attempts";
import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";
import type { Transitions } from "../transitions";
import { FailureBreaker } from "./failure-breaker";
import { rampedConcurrency } from "./ramp-up";

/** Ring time given to the carrier (Twilio's Timeout; at least 15 s). */
export const RING_TIMEOUT_S = 30;
/** Longest call we pay for; the carrier hangs up after it. */
export const TIME_LIMIT_S = 3600;
/** Contacts read from D1 per page, by seq cursor. */
const PAGE_SIZE = 500;
const MAX_BACKOFF_MS = 60_000;
/** Due contacts the stages may look at in one tick; past it the next tick follows at once. */
const MAX_EXAMINED_PER_TICK = 2_000;

/**
 * A check between "due" and "lease a slot" (the calling window, then the DNC list, each its own
 * module). It returns the contacts that may be dialled now, in order, and deals with the others
 * itself: through Transitions (e.g. cancelled) or by moving their next_attempt_at.
 */
export interface DialStage {
  admit(contacts: LiveContact[], now: number): LiveContact[] | Promise<LiveContact[]>;
  /**
   * A cheap stage (no I/O) whose held-back contacts stop being due: when it holds some back, the
   * next due contacts are put to it in the same tick. Refilling stages run before the others.
   */
  readonly refills?: boolean;
  /** The status_reason to show when a tick could dial no one, if this stage is why (e.g. all wait for their window). */
  waitingReason?(now: number): string | null;
  /** At the start of every tick, before anything is read: a stage that keeps books of earlier dials brings them up to date. */
  tickStarted?(now: number): void;
  /** The contact's dial is being written as this attempt: called in the same write, before any carrier hears of it. */
  dialPlaced?(contactId: string, attemptId: string): void;
  /** When the tick is over, whatever it dialled (it also ends a tick that failed). */
  tickEnded?(): Promise<void>;
}

type RetryLater = Extract<OriginateResult, { kind: "retry_later" }>;

/**
 * One tick of dialing. A dial passes, in order: due contact → each DialStage → account slot
 * lease → attempt record on disk → carrier request. Finished calls' slots go back in the same
 * AccountDO call that leases new ones.
 */
export class Dispatcher {
  /** The last status_reason a stage gave, so it can be cleared once no stage gives one. */
  private stageReason: string | null = null;
  /** Slots the account granted when it last held some back (pacing, its slots), or null when it last granted all. */
  private grantedWhenHeld: number | null = null;

  constructor(
    private readonly parts: {
      env: Env;
      durable: DurableObjectStorage;
      storage: ObjectStorage;
      transitions: Transitions;
      d1: D1Sync;
      hub: EventHub;
      carrier: CarrierLink;
      events: CallEvents;
      /** A campaign-level carrier error fails the campaign (lifecycle-runner.ts). */
      fail: (reason: string) => Promise<void>;
      /** The failure breaker tripped: the campaign pauses itself (lifecycle-runner.ts). */
      pauseForFailures: (reason: string) => Promise<void>;
      stages: DialStage[];
    },
  ) {
    this.breaker = new FailureBreaker(parts.storage, parts.pauseForFailures);
  }

  /** Pauses a running campaign whose latest dials mostly failed, before it dials again. */
  private readonly breaker: FailureBreaker;
  /** Ticks under way; fence() waits for them. */
  private readonly ticking = new Set<Promise<void>>();
  /** Appends seen by this instance: a page read while one landed may not mark D1 as read to the end. */
  private appends = 0;

  /**
   * Contacts were appended to D1 after the cursor: page again, and dial them at once when running.
   * Called after the append's D1 write, in the same synchronous step that counts them.
   */
  contactsAdded() {
    const { storage } = this.parts;
    this.appends++;
    storage.campaign.patch({ exhausted: 0 });
    if (storage.campaign.get()?.status === "running") storage.timers.setNoLater("dispatch", Date.now());
  }

  async tick() {
    const run = this.runTick();
    this.ticking.add(run);
    try {
      await run;
    } finally {
      this.ticking.delete(run);
    }
  }

  /**
   * Resolves once every tick under way when it was called has finished, carrier requests answered.
   * A tick that starts later runs its DialStages afresh, so it sees whatever was written before.
   */
  async fence(): Promise<void> {
    await Promise.allSettled([...this.ticking]);
  }

  private async runTick() {
    const { stages } = this.parts;
    for (const stage of stages) stage.tickStarted?.(Date.now());
    try {
      await this.dialDue();
    } finally {
      for (const stage of stages) await stage.tickEnded?.();
    }
  }

  private async dialDue() {
    const { env, storage } = this.parts;
    await this.breaker.check();
    const state = storage.campaign.get();
    if (!state) return;
    const now = Date.now();
    const releases = storage.attempts.unreleased();
    let dialable: LiveContact[] = [];
    let waitingReason: string | null = null;
    // A backoff (the carrier's or the eligibility check's) keeps the dispatch timer at its end, whatever else took the timer meanwhile.
    if (state.status === "running" && now < state.dial_after) storage.timers.setNoLater("dispatch", state.dial_after);
    if (state.status === "running" && now >= state.dial_after) {
      const ramp = rampedConcurrency(state.max_concurrent_calls, state.ramp_up_seconds, state.ramp_started_at, now);
      // Concurrency rises with time alone, so the next step needs its own tick even when no call ends.
      if (ramp.nextRiseAt !== null) storage.timers.setNoLater("dispatch", ramp.nextRiseAt);
      const free = ramp.limit - storage.attempts.inFlight();
      // While the account holds slots back, the stages (the ledger's reservations above all) see about what it will grant, not every free line.
      const wanted = this.grantedWhenHeld === null ? free : Math.min(free, Math.max(1, this.grantedWhenHeld * 2));
      if (free > 0) {
        dialable = await this.admit(now, wanted);
        waitingReason = dialable.length === 0 ? this.stageWaitingReason(now) : null;
        if (waitingReason) this.setReason(waitingReason);
        else if (this.stageReason !== null && state.status_reason === this.stageReason) this.setReason(null);
        this.stageReason = waitingReason;
      }
      const retryAt = storage.contacts.nextRetryAt();
      // A due retry with every line busy waits for a call to end, which arms the next tick; arming it in the past would spin the alarm.
      if (retryAt !== null && (retryAt > now || free > 0)) storage.timers.setNoLater("dispatch", retryAt);
    }
    if (releases.length === 0 && dialable.length === 0) return;

    const account = getAccountStub(env, state.account_id);
    const result = await account.settle(state.account_id, {
      campaignId: state.campaign_id,
      release: releases.map((r) => ({ leaseId: r.lease_id, talkSeconds: r.talk_seconds })),
      want: dialable.length,
    });
    storage.attempts.markReleased(releases.map((r) => r.attempt_id));
    if (dialable.length > 0) this.grantedWhenHeld = result.blocked ? result.leases.length : null;

    const current = storage.campaign.get();
    if (current?.status !== "running") {
      if (result.leases.length > 0) await this.releaseLeases(result.leases);
      return;
    }
    if (result.blocked) {
      this.setReason(result.blocked.reason);
      storage.timers.setNoLater("dispatch", result.blocked.retryAt);
    } else if (current.status_reason && current.backoff_ms === 0 && !waitingReason) {
      this.setReason(null);
    }
    if (result.leases.length > 0) await this.placeCalls(result.leases, dialable);
  }

  /**
   * Due contacts (retries first, then CSV order) that every stage lets through. Contacts a
   * refilling stage holds back (waiting for their window) are no longer due, so the next ones are
   * looked at in the same tick and a contact held back never blocks the ones behind it. The other
   * stages (the DNC query) then see the tick's batch once.
   */
  private async admit(now: number, limit: number): Promise<LiveContact[]> {
    const { storage, stages } = this.parts;
    const batch = await this.refill(
      now,
      limit,
      stages.filter((s) => s.refills),
    );
    let contacts = batch;
    for (const stage of stages.filter((s) => !s.refills)) {
      if (contacts.length === 0) break;
      contacts = await stage.admit(contacts, now);
    }
    // Slots the held-back contacts would have taken go to the next ones at once, not when a call ends.
    if (contacts.length < batch.length) storage.timers.setNoLater("dispatch", now);
    return contacts;
  }

  /** Up to `limit` due contacts that the refilling stages let through, looking past those they hold back. */
  private async refill(now: number, limit: number, stages: DialStage[]): Promise<LiveContact[]> {
    const { storage } = this.parts;
    const admitted: LiveContact[] = [];
    const taken = new Set<string>();
    let examined = 0;
    while (admitted.length < limit) {
      await this.topUp(limit - admitted.length);
      const candidates = storage.contacts.due(now, limit).filter((c) => !taken.has(c.contact_id));
      if (candidates.length === 0) break;
      let contacts = candidates;
      for (const stage of stages) {
        if (contacts.length === 0) break;
        contacts = await stage.admit(contacts, now);
      }
      for (const contact of contacts) {
        taken.add(contact.contact_id);
        admitted.push(contact);
      }
      if (contacts.length === candidates.length) break;
      examined += candidates.length;
      if (examined >= MAX_EXAMINED_PER_TICK) {
        storage.timers.setNoLater("dispatch", now);
        break;
      }
    }
    return admitted.slice(0, limit);
  }

  private stageWaitingReason(now: number): string | null {
    for (const stage of this.parts.stages) {
      const reason = stage.waitingReason?.(now) ?? null;
      if (reason) return reason;
    }
    return null;
  }

  /** Keeps enough fresh contacts in the working set, reading D1 in pages by seq cursor. */
  private async topUp(needed: number) {
    const { storage, d1 } = this.parts;
    const state = storage.campaign.get();
    if (!state || state.exhausted || storage.contacts.countFreshPending() >= needed) return;
    const limit = Math.max(PAGE_SIZE, needed * 4);
    const appendsBefore = this.appends;
    const rows = await d1.pendingPage(state.campaign_id, state.cursor_seq, limit);
    storage.contacts.addPending(rows);
    // A short page read before an append landed says nothing about the appended rows: read again next time.
    const readToEnd = rows.length < limit && this.appends === appendsBefore;
    storage.campaign.patch({ cursor_seq: rows.at(-1)?.seq ?? state.cursor_seq, exhausted: readToEnd ? 1 : 0 });
  }

  private async placeCalls(leases: string[], admitted: LiveContact[]) {
    const { storage, transitions, durable, hub, events } = this.parts;
    const state = storage.campaign.get();
    if (!state) return;
    const now = Date.now();
    const at = nowIso(now);
    // Still pending after the lease was awaited (a stop meanwhile cancels them).
    const contacts = admitted
      .map((c) => storage.contacts.get(c.contact_id))
      .filter((c): c is LiveContact => c?.status === "pending")
      .slice(0, leases.length);
    const attempts = contacts.map((contact, i) => {
      const attempt: Attempt = {
        attempt_id: newId("att", now),
        contact_id: contact.contact_id,
        lease_id: leases[i] as string,
        phone: contact.phone,
        created_at: now,
        call_id: null,
        carrier_ref: null,
        answered_by: null,
        lookup_errors: 0,
        rank: 0,
        state: "dialing",
        last_event_at: now,
        outcome: null,
        talk_seconds: 0,
        released: 0,
      };
      storage.attempts.create(attempt);
      for (const stage of this.parts.stages) stage.dialPlaced?.(contact.contact_id, attempt.attempt_id);
      storage.calls.record({
        call_id: callIdOf(state.campaign_id, attempt.attempt_id),
        contact_id: contact.contact_id,
        seq: contact.seq,
        attempt: contact.attempts + 1,
        dialled_at: now,
      });
      transitions.contact(contact, { status: "originated", attempts: contact.attempts + 1, next_attempt_at: null, call_id: null }, contact.attempts + 1, at);
      return attempt;
    });
    // Results are taken for 48 h after a dial; older call records go as new ones come.
    storage.calls.prune(now - CALL_TOKEN_TTL_MS);
    const spare = leases.slice(contacts.length);
    const inFlight = storage.attempts.inFlight();
    if (inFlight > state.high_water) storage.campaign.patch({ high_water: inFlight });
    storage.timers.setNoLater("stale", now + STALE_INTERVAL_MS);
    // The attempt records must be on disk before any carrier hears of the call.
    await durable.sync();
    // Subscribers hear of the dials in the next push, not after the slowest carrier request returns.
    hub.publish();
    if (spare.length > 0) await this.releaseLeases(spare);

    let carrier: CampaignCarrier;
    try {
      carrier = await this.parts.carrier.get();
    } catch (error) {
      for (const attempt of attempts) events.unplace(attempt.attempt_id);
      await this.parts.fail(`The campaign's number or carrier credentials could not be loaded: ${String(error)}`);
      return;
    }
    const results = await Promise.all(attempts.map(async (attempt) => ({ attempt, result: await this.originate(state.campaign_id, carrier, attempt) })));
    let campaignError: string | null = null;
    let retryLater: RetryLater | null = null;
    for (const { attempt, result } of results) {
      this.applyOriginateResult(attempt.attempt_id, result);
      if (result.kind === "campaign_error") campaignError ??= result.detail;
      if (result.kind === "retry_later") retryLater ??= result;
    }
    if (campaignError) await this.parts.fail(`The carrier refused the campaign: ${campaignError}`);
    else if (retryLater) this.backOff(retryLater);
    else if (storage.campaign.get()?.backoff_ms) {
      storage.campaign.patch({ backoff_ms: 0, dial_after: 0 });
      this.setReason(null);
    }
  }

  private async originate(campaignId: string, carrier: CampaignCarrier, attempt: Attempt): Promise<OriginateResult> {
    const urls = await callbackUrls(this.parts.env, carrier.adapter.kind, campaignId, attempt.attempt_id);
    return carrier.adapter.originate({
      to: attempt.phone,
      from: carrier.from,
      ...urls,
      ringTimeoutSeconds: RING_TIMEOUT_S,
      timeLimitSeconds: TIME_LIMIT_S,
    });
  }

  private applyOriginateResult(attemptId: string, result: OriginateResult) {
    const { storage, events } = this.parts;
    const attempt = storage.attempts.get(attemptId);
    if (!attempt) return;
    switch (result.kind) {
      case "accepted":
        // Callbacks may have beaten the REST answer here; they already moved the attempt on.
        storage.attempts.patch(attemptId, { call_id: attempt.call_id ?? result.callId, ...(attempt.state === "dialing" && { state: "live" }) });
        return;
      case "contact_error":
        events.finish(attempt, result.outcome, 0, result.detail);
        return;
      case "unknown":
        storage.attempts.patch(attemptId, { state: "unknown" });
        storage.timers.setNoLater("stale", Date.now() + RECONCILE_AFTER_MS);
        return;
      case "campaign_error":
      case "retry_later":
        events.unplace(attemptId);
        return;
    }
  }

  private backOff(result: RetryLater) {
    const { storage } = this.parts;
    const state = storage.campaign.get();
    if (!state) return;
    const next = Math.min(MAX_BACKOFF_MS, Math.max(1_000, state.backoff_ms * 2, result.retryAfterMs ?? 0));
    const dialAfter = Date.now() + next;
    storage.campaign.patch({ backoff_ms: next, dial_after: dialAfter });
    this.setReason(`Waiting: the carrier asked us to slow down (${result.detail}); dialing again in ${Math.round(next / 1000)} s.`);
    storage.timers.set("dispatch", dialAfter);
  }

  private setReason(reason: string | null) {
    const { storage } = this.parts;
    const state = storage.campaign.get();
    if (!state || state.status_reason === reason) return;
    storage.campaign.patch({ status_reason: reason });
    storage.timers.setNoLater("flush", Date.now());
  }

  private async releaseLeases(leaseIds: string[]) {
    const { env, storage } = this.parts;
    const state = storage.campaign.get();
    if (!state) return;
    await getAccountStub(env, state.account_id).settle(state.account_id, {
      campaignId: state.campaign_id,
      release: leaseIds.map((leaseId) => ({ leaseId, talkSeconds: 0 })),
      want: 0,
    });
  }
}
