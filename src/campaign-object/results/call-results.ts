import { type CallResultInput, dispositionProblem } from "../../call-results/result-input";
import { resultView } from "../../call-results/result-view";
import { type CallingWindow, contactZones } from "../../calling-window/calling-window";
import { nowIso } from "../../db/client";
import { addNumber } from "../../dnc/store";
import type { Env } from "../../env";
import type { AlarmClock } from "../alarm-clock";
import { ContactLookup, type FoundContact } from "../contact-lookup";
import type { D1Sync } from "../d1-sync";
import { isTerminal } from "../lifecycle";
import type { EventHub } from "../live/event-hub";
import { contactWebhookView } from "../reports/webhook-reports";
import type { CallRecord } from "../storage/call-records";
import { type CampaignState, resultSettingsOfState } from "../storage/campaign-state";
import type { ObjectStorage } from "../storage/object-storage";
import type { ContactPatch, LiveContact } from "../storage/working-contacts";
import type { Transitions } from "../transitions";
import { callbackDueAt } from "./callback-rules";

export type ContactView = ReturnType<typeof contactWebhookView>;
type Refusal = { ok: false; reason: "not_found" | "conflict" | "invalid"; message: string };
export type ResultOutcome = { ok: true; contact: ContactView } | Refusal;

/** Contact changes reach D1 this soon after a result, when no tick is due sooner. */
const FLUSH_DELAY_MS = 250;

const windowOf = (state: CampaignState) => (state.calling_window ? (JSON.parse(state.calling_window) as CallingWindow) : null);
const inFlight = (contact: Pick<LiveContact, "status">) => contact.status === "originated" || contact.status === "connected";
const refuse = (reason: Refusal["reason"], message: string): Refusal => ({ ok: false, reason, message });

/** What the rules read of a found contact, wherever it was found. */
const factsOf = (found: FoundContact) =>
  "live" in found
    ? {
        id: found.live.contact_id,
        phone: found.live.phone,
        timezone: found.live.timezone,
        status: found.live.status,
        attempts: found.live.attempts,
        callbacks: found.live.callbacks,
      }
    : {
        id: found.row.id,
        phone: found.row.phone_number,
        timezone: found.row.timezone,
        status: found.row.status,
        attempts: found.row.attempts,
        callbacks: found.row.callbacks,
      };
type ContactFacts = ReturnType<typeof factsOf>;

/**
 * Where a call result is stored and acted on (SPEC "Call results"): the result on the contact with
 * its counters, events and webhook in one write; an opt-out listed and fenced before that write; a
 * callback made one more due time of the contact (its window applied), like a retry that uses none.
 */
export class CallResults {
  private readonly lookup: ContactLookup;

  constructor(
    private readonly parts: {
      env: Env;
      storage: ObjectStorage;
      transitions: Transitions;
      d1: D1Sync;
      hub: EventHub;
      alarm: AlarmClock;
      /** Waits out this campaign's ticks under way (Dispatcher.fence); the Worker fences the account's other campaigns. */
      fenceOwnDials: () => Promise<void>;
    },
  ) {
    this.lookup = new ContactLookup(parts);
  }

  /**
   * A result for `callId` from `accountId`'s caller (a key, a session, or the call's own token);
   * `callbackAt` is the asked time (epoch ms) the Worker checked against the clock, or null.
   */
  async report(campaignId: string, callId: string, accountId: string, input: CallResultInput, callbackAt: number | null): Promise<ResultOutcome> {
    const { d1, storage, env } = this.parts;
    const state = await d1.load(campaignId);
    // Another account's call is answered like one that does not exist.
    if (!state || state.account_id !== accountId) return refuse("not_found", `Call ${callId} was not found.`);
    const unknownDisposition = dispositionProblem(input.disposition, resultSettingsOfState(state).dispositions);
    if (unknownDisposition) return refuse("invalid", unknownDisposition);
    const known = storage.calls.getWithContact(callId);
    if (!known) return refuse("not_found", `Call ${callId} was not found, or the 48 hours in which it takes a result have passed.`);
    const { call } = known;
    const found: FoundContact | null = known.live ? { live: known.live } : await this.find(state, call.contact_id, call.seq);
    if (!found) return refuse("not_found", `Call ${callId} was not found.`);
    const contact = factsOf(found);
    if (call.attempt !== contact.attempts) {
      return refuse(
        "conflict",
        `Call ${callId} is not the contact's latest call (attempt ${call.attempt} of ${contact.attempts}); report the latest call's result.`,
      );
    }
    let dueAt: number | null = null;
    if (callbackAt !== null && !input.opt_out) {
      // A second result for the same call moves its callback instead of adding one.
      const plan = this.planCallback(state, contact, callbackAt, call.callback_scheduled ? contact.callbacks - 1 : contact.callbacks);
      if (!plan.ok) return plan;
      dueAt = plan.dueAt;
    }
    if (input.opt_out) {
      // Listed before the result is stored, then this campaign's ticks under way are waited out; the Worker
      // fences the account's other campaigns before it answers (routes/calls.ts), as a DNC add does.
      await addNumber(env.DB, state.account_id, contact.phone, `opt-out on call ${callId}`, nowIso());
      await this.parts.fenceOwnDials();
    }
    // Read again after the opt-out's awaits: the call may have ended and its contact left the working set meanwhile.
    const current = input.opt_out ? await this.find(state, call.contact_id, call.seq) : found;
    if (!current) return refuse("not_found", `Call ${callId} was not found.`);
    return { ok: true, contact: this.store(state, call, current, input, dueAt) };
  }

  /** An operator's callback for one contact (SPEC "Operators schedule a callback"). */
  async scheduleCallback(campaignId: string, contactId: string, seq: number, callbackAt: number): Promise<ResultOutcome> {
    const { d1 } = this.parts;
    const state = await d1.load(campaignId);
    if (!state) return refuse("not_found", `Campaign ${campaignId} was not found.`);
    const found = await this.find(state, contactId, seq);
    if (!found) return refuse("not_found", `Contact ${contactId} was not found.`);
    const contact = factsOf(found);
    if (inFlight(contact)) return refuse("conflict", `Contact ${contactId} is in a call now; schedule its callback once the call has ended.`);
    const plan = this.planCallback(state, contact, callbackAt, contact.callbacks);
    if (!plan.ok) return plan;
    const live = this.adopt(found);
    const at = nowIso();
    const next = this.parts.transitions.contact(
      live,
      { status: "pending", outcome: "callback", next_attempt_at: plan.dueAt, callbacks: live.callbacks + 1 },
      live.attempts,
      at,
    );
    this.afterWrite(plan.dueAt);
    return { ok: true, contact: contactWebhookView(state.campaign_id, next, at, windowOf(state)) };
  }

  private planCallback(state: CampaignState, contact: ContactFacts, callbackAt: number, callbacksSoFar: number): { ok: true; dueAt: number } | Refusal {
    if (isTerminal(state.status)) {
      return refuse("conflict", `The campaign is ${state.status}, so no callback can be placed; report the result without a callback, or clone the campaign.`);
    }
    const window = windowOf(state);
    const zones = window ? contactZones(window, { phone: contact.phone, timezone: contact.timezone }).zones : [];
    const plan = callbackDueAt(callbackAt, window, zones, callbacksSoFar);
    return plan.ok ? plan : refuse("conflict", plan.message);
  }

  /** The result, its counters, any callback and the opt-out's cancel of a waiting dial, in one synchronous write. */
  private store(state: CampaignState, call: CallRecord, found: FoundContact, input: CallResultInput, dueAt: number | null): ContactView {
    const { storage, transitions } = this.parts;
    const contact = this.adopt(found);
    const now = Date.now();
    const at = nowIso(now);
    let patch: ContactPatch = { result: JSON.stringify(resultView(input, call.call_id, at)), disposition: input.disposition };
    if (dueAt !== null) {
      const callbacks = contact.callbacks + (call.callback_scheduled ? 0 : 1);
      // A live call settles into its callback when it ends (call-events.ts); an ended one waits for it now.
      patch = inFlight(contact)
        ? { ...patch, callbacks, callback_at: dueAt }
        : { ...patch, callbacks, status: "pending", outcome: "callback", next_attempt_at: dueAt };
      storage.calls.markCallbackScheduled(call.call_id);
    } else if (input.opt_out && contact.status === "pending") {
      // A retry or callback still waiting for the number that asked to stop ends now.
      patch = { ...patch, status: "cancelled", outcome: "dnc", next_attempt_at: null };
    } else if (input.opt_out && inFlight(contact)) {
      patch = { ...patch, callback_at: null };
    }
    const next = transitions.result(contact, patch, {
      contact_id: contact.contact_id,
      call_id: call.call_id,
      disposition: input.disposition,
      callback_at: dueAt === null ? null : nowIso(dueAt),
      opt_out: input.opt_out === true,
      at,
    });
    this.afterWrite(dueAt);
    return contactWebhookView(state.campaign_id, next, at, windowOf(state));
  }

  private afterWrite(dueAt: number | null) {
    const { storage, hub, alarm } = this.parts;
    const now = Date.now();
    if (dueAt !== null) storage.timers.setNoLater("dispatch", dueAt);
    storage.timers.setNoLater("flush", now + FLUSH_DELAY_MS);
    hub.publish();
    void alarm.arm();
  }

  private find(state: CampaignState, contactId: string, seq: number): Promise<FoundContact | null> {
    return this.lookup.find(state.campaign_id, contactId, seq);
  }

  private adopt(found: FoundContact): LiveContact {
    return this.lookup.adopt(found);
  }
}
