import type { ContactResultView } from "../../call-results/result-view";
import type { CallEvent } from "../../carriers/types";
import { nowIso } from "../../db/client";
import { isTerminal } from "../lifecycle";
import type { Attempt } from "../storage/attempts";
import { resultSettingsOfState } from "../storage/campaign-state";
import type { ObjectStorage } from "../storage/object-storage";
import type { Transitions } from "../transitions";
import { applyCallEvent, type CallOutcome, settleContact } from "./contact-machine";

/**
 * What last_error says about a call that ended without a conversation: the carrier's own cause
 * where it gave one (Plivo/Vobiz hangup cause), else a SIP code for a failure; null leaves the
 * outcome's name. Twilio gives no cause, so its busy or invalid numbers keep the outcome name.
 */
export function lastErrorDetail(outcome: CallOutcome, event: CallEvent): string | null {
  if (outcome === "answered" || outcome === "voicemail") return null;
  if (event.cause) return event.cause;
  return outcome === "failed" && event.sipCode ? `SIP ${event.sipCode}` : null;
}

/** The disposition edgedial itself gives a call whose answering machine got the campaign's message. */
const VOICEMAIL_LEFT = "voicemail_left";

/** Contact changes reach D1 at most this long after they happen when no tick is due sooner. */
const FLUSH_DELAY_MS = 250;

/**
 * Where a carrier event becomes an attempt's progress and a contact's status: callbacks, answer
 * requests, REST answers and reconciliation lookups all end here. Synchronous, so each event is
 * applied in one storage write.
 */
export class CallEvents {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly transitions: Transitions,
  ) {}

  /** Applies one normalised event once: duplicates and late arrivals change nothing (contact-machine.ts). */
  apply(attemptId: string, event: CallEvent) {
    const { attempts, contacts } = this.storage;
    const attempt = attempts.get(attemptId);
    if (!attempt || attempt.state === "ended") return;
    // A signed event for a different call than this attempt's is not ours to apply.
    if (attempt.call_id && attempt.call_id !== event.callId) return;
    const now = Date.now();
    // Plivo gives its machine verdict on its own request, not on the hangup: the final event is judged with it.
    const judged = event.answeredBy || !attempt.answered_by ? event : { ...event, answeredBy: attempt.answered_by };
    const decision = applyCallEvent(attempt.rank, false, judged);
    const callId = attempt.call_id ?? event.callId;
    const carrierRef = attempt.carrier_ref ?? event.carrierRef ?? null;
    attempts.patch(attemptId, {
      call_id: callId,
      last_event_at: now,
      ...(carrierRef !== attempt.carrier_ref && { carrier_ref: carrierRef }),
      ...(event.answeredBy && event.answeredBy !== attempt.answered_by && { answered_by: event.answeredBy }),
      ...(attempt.state !== "live" && { state: "live" }),
    });
    if (decision.kind === "ignore") return;
    if (decision.kind === "final") {
      const detail = lastErrorDetail(decision.outcome, event);
      this.finish({ ...attempt, call_id: callId, carrier_ref: carrierRef }, decision.outcome, decision.talkSeconds, detail);
      return;
    }
    attempts.patch(attemptId, { rank: decision.rank });
    const contact = contacts.get(attempt.contact_id);
    if (contact && decision.contactStatus === "connected" && contact.status === "originated") {
      this.transitions.contact(contact, { status: "connected", call_id: event.callId }, contact.attempts, nowIso(now));
      this.storage.timers.setNoLater("flush", now + FLUSH_DELAY_MS);
    }
  }

  /** The call ended: the contact settles (done, or pending for a retry) and the slot goes back next tick. */
  finish(attempt: Attempt, outcome: CallOutcome, talkSeconds: number, detail: string | null) {
    const now = Date.now();
    const lastError = outcome === "answered" || outcome === "voicemail" ? null : (detail ?? outcome);
    // The failure breaker judges each dial once, by how it ended (dispatcher.ts reads these).
    if (this.storage.attempts.get(attempt.attempt_id)?.state !== "ended") this.storage.dialEndings.record({ outcome, lastError });
    this.storage.attempts.patch(attempt.attempt_id, { state: "ended", outcome, talk_seconds: talkSeconds });
    const contact = this.storage.contacts.get(attempt.contact_id);
    const state = this.storage.campaign.get();
    if (contact && state && (contact.status === "originated" || contact.status === "connected")) {
      const canRetry = !isTerminal(state.status);
      const settled = settleContact(outcome, contact.attempts, state.retries_per_contact, state.retry_delay_seconds * 1000, now, canRetry, {
        retryOn: new Set(resultSettingsOfState(state).retryOn),
        callbacks: contact.callbacks,
        callbackAt: contact.callback_at,
      });
      this.transitions.contact(
        contact,
        {
          status: settled.status,
          outcome: settled.callback ? "callback" : outcome,
          last_error: lastError,
          call_id: attempt.call_id,
          next_attempt_at: settled.nextAttemptAt,
          callback_at: null,
        },
        contact.attempts,
        nowIso(now),
      );
    }
    this.storage.timers.setNoLater("dispatch", now);
  }

  /**
   * The message document was served to a machine: the contact gets the result `voicemail_left`
   * through the same write a reported result takes (counts, `event: result`, `contact.result`).
   * A repeated request for the same call's message stores nothing new.
   */
  recordVoicemailLeft(attemptId: string, callId: string) {
    const attempt = this.storage.attempts.get(attemptId);
    const contact = attempt && this.storage.contacts.get(attempt.contact_id);
    if (!contact || !(contact.status === "originated" || contact.status === "connected")) return;
    if (contact.disposition === VOICEMAIL_LEFT && contact.result && (JSON.parse(contact.result) as { call_id?: string }).call_id === callId) return;
    const now = Date.now();
    const at = nowIso(now);
    const result: ContactResultView = {
      disposition: VOICEMAIL_LEFT,
      data: null,
      summary: null,
      transcript_url: null,
      recording_url: null,
      call_id: callId,
      reported_at: at,
    };
    this.transitions.result(
      contact,
      { result: JSON.stringify(result), disposition: VOICEMAIL_LEFT },
      { contact_id: contact.contact_id, call_id: callId, disposition: VOICEMAIL_LEFT, callback_at: null, opt_out: false, at },
    );
    this.storage.timers.setNoLater("flush", now + FLUSH_DELAY_MS);
  }

  /** The carrier never took the call: it does not count as an attempt and the contact waits again. */
  unplace(attemptId: string) {
    const attempt = this.storage.attempts.get(attemptId);
    if (!attempt || attempt.state === "ended") return;
    this.storage.attempts.patch(attemptId, { state: "ended", outcome: "not_placed" });
    const contact = this.storage.contacts.get(attempt.contact_id);
    if (contact && contact.status === "originated") {
      this.transitions.contact(contact, { status: "pending", attempts: Math.max(0, contact.attempts - 1), call_id: null }, contact.attempts, nowIso());
    }
    this.storage.timers.setNoLater("dispatch", Date.now());
  }
}
