import { callIdOf } from "../../call-results/call-id";
import { answeredByWord, resultUrl } from "../../call-results/result-url";
import type { ResultSettings } from "../../call-results/settings";
import { documentStageOf, stageUrls } from "../../carriers/callback-urls";
import { EMPTY_RESPONSE_XML, XML_CONTENT_TYPE } from "../../carriers/twiml";
import type { AnswerDocument, CallEvent, CarrierAdapter, CarrierKind, SignedCallback, VoicemailMessage } from "../../carriers/types";
import type { Env } from "../../env";
import type { AlarmClock } from "../alarm-clock";
import type { CarrierLink } from "../carrier-link";
import type { D1Sync } from "../d1-sync";
import type { EventHub } from "../live/event-hub";
import type { Attempt } from "../storage/attempts";
import { type CampaignState, resultSettingsOfState } from "../storage/campaign-state";
import type { ObjectStorage } from "../storage/object-storage";
import type { CallEvents } from "./call-events";

export type CarrierReply = { status: number; body: string; contentType?: string };

const forbidden = (body: string): CarrierReply => ({ status: 403, body });

/** Plivo's machine detection decides within 5 s of the answer by default; the hold allows for the verdict's trip here. */
const HOLD_FOR_VERDICT_SECONDS = 8;

const reply = (document: AnswerDocument): CarrierReply => ({ status: 200, body: document.body, contentType: document.contentType });

function voicemailMessage(voicemail: ResultSettings["voicemail"]): VoicemailMessage {
  if (voicemail.action !== "message") return null;
  return voicemail.audioUrl ? { kind: "play", url: voicemail.audioUrl } : { kind: "speak", text: voicemail.message ?? "" };
}

/** GET callbacks carry their parameters in the query; POST ones in the form body. */
const fieldsOf = (callback: SignedCallback): [string, string][] => (callback.method === "GET" ? [...new URL(callback.url).searchParams] : callback.params);

/** A callback for a call this object does not know (a deleted campaign, a forgotten attempt, a made-up id): acknowledged, ignored. */
const UNKNOWN_CALL: CarrierReply = { status: 200, body: "unknown attempt; ignored" };

/**
 * The campaign object's side of the carrier webhooks: the carrier's signature first, then the
 * nonce replay check, then the event is parsed and applied once.
 */
export class CarrierCallbacks {
  constructor(
    private readonly parts: {
      env: Env;
      storage: ObjectStorage;
      d1: D1Sync;
      carrier: CarrierLink;
      events: CallEvents;
      hub: EventHub;
      alarm: AlarmClock;
    },
  ) {}

  /** A status callback. Late callbacks for a deleted campaign or a forgotten attempt are acknowledged and ignored. */
  async callback(campaignId: string, attemptId: string, kind: CarrierKind, callback: SignedCallback): Promise<CarrierReply> {
    const { d1, storage, events, hub, alarm } = this.parts;
    // One answer for a missing campaign and a missing attempt: an outsider must not learn which campaign ids exist.
    if (!(await d1.load(campaignId)) || !storage.attempts.get(attemptId)) return UNKNOWN_CALL;
    const checked = await this.authenticate(kind, callback);
    if (!("adapter" in checked)) return checked;
    storage.carrierRequests.count("callback");
    const event = checked.adapter.parseCallback(fieldsOf(callback));
    if (!event) return { status: 400, body: "The callback has no call id or call status." };
    events.apply(attemptId, event);
    hub.publish();
    await alarm.arm();
    if (event.machineVerdict) await this.moveHeldCall(campaignId, attemptId, checked.adapter, event);
    return { status: 200, body: "" };
  }

  /**
   * A late machine verdict (Plivo, Vobiz) for a call held at its answer: a machine gets the message,
   * a person the agent. Whichever comes first, this or the hold's own redirect, releases the call.
   */
  private async moveHeldCall(campaignId: string, attemptId: string, adapter: CarrierAdapter, event: CallEvent) {
    const { storage, env } = this.parts;
    const state = storage.campaign.get();
    const attempt = storage.attempts.get(attemptId);
    if (!state || !attempt || attempt.state === "ended" || !adapter.lateVerdict) return;
    if (resultSettingsOfState(state).voicemail.action === "agent" || !storage.holds.release(attemptId, Date.now())) return;
    const urls = await stageUrls(env, adapter.kind, campaignId, attemptId);
    const machine = answeredByWord(event.answeredBy) === "machine";
    const moved = await adapter.lateVerdict.transferCall(
      attempt.call_id ?? event.callId,
      event.carrierRef ?? attempt.carrier_ref,
      machine ? urls.voicemail : urls.agent,
    );
    // The carrier refused the move: the call is still held, and its redirect must bring the agent.
    if (!moved) storage.holds.markTransferRefused(attemptId);
  }

  /**
   * The answer request (and, for Plivo and Vobiz, the agent or voicemail document a held call is
   * moved to): applies the event it carries, then answers with the carrier's document. Vobiz also
   * sends ringing to the answer URL; that gets a document with no verbs, so no second stream starts.
   * With voicemail_action hangup or message, a machine gets the message (Twilio: the answer request
   * comes after the beep with the verdict), and a Plivo-family call is held until its verdict.
   */
  async answer(campaignId: string, attemptId: string, kind: CarrierKind, callback: SignedCallback): Promise<CarrierReply> {
    const { d1, storage, events, hub, alarm } = this.parts;
    const state = await d1.load(campaignId);
    const attempt = state ? storage.attempts.get(attemptId) : null;
    if (!state || !attempt) return { status: 404, body: "This call is not known." };
    const stage = documentStageOf(callback.url);
    if (stage === null) return { status: 404, body: "This answer URL names no document." };
    const checked = await this.authenticate(kind, callback);
    if (!("adapter" in checked)) return checked;
    const { adapter } = checked;
    storage.carrierRequests.count("answer");
    const event = adapter.parseCallback(fieldsOf(callback));
    if (event) {
      events.apply(attemptId, event);
      hub.publish();
      await alarm.arm();
    }
    const voicemail = resultSettingsOfState(state).voicemail;
    if (stage === "voicemail") return this.leaveVoicemail(state, attemptId, adapter, voicemail);
    if (stage === "answer") {
      if (event?.progress !== "in-progress") return { status: 200, body: EMPTY_RESPONSE_XML, contentType: XML_CONTENT_TYPE };
      if (voicemail.action !== "agent" && adapter.lateVerdict) {
        const urls = await stageUrls(this.parts.env, kind, campaignId, attemptId);
        return reply(adapter.lateVerdict.holdDocument(urls["after-hold"], HOLD_FOR_VERDICT_SECONDS));
      }
      if (voicemail.action !== "agent" && answeredByWord(event.answeredBy) === "machine") return this.leaveVoicemail(state, attemptId, adapter, voicemail);
    }
    // The hold ran out with no verdict; one that came first has moved the call, unless the carrier refused the move.
    if (stage === "after-hold" && !storage.holds.release(attemptId, Date.now()) && !storage.holds.transferRefused(attemptId)) {
      return { status: 200, body: EMPTY_RESPONSE_XML, contentType: XML_CONTENT_TYPE };
    }
    return reply(await this.agentDocument(state, attempt, adapter, event));
  }

  /** The message (or the bare hang-up) for a machine; a message served is the contact's `voicemail_left` result. */
  private leaveVoicemail(state: CampaignState, attemptId: string, adapter: CarrierAdapter, voicemail: ResultSettings["voicemail"]): CarrierReply {
    const message = voicemailMessage(voicemail);
    if (message) {
      this.parts.events.recordVoicemailLeft(attemptId, callIdOf(state.campaign_id, attemptId));
      this.parts.hub.publish();
      void this.parts.alarm.arm();
    }
    return reply(adapter.voicemailDocument(message));
  }

  /** The stream to the agent, with the contact's fields, the call's id, the verdict so far and the result URL. */
  private async agentDocument(state: CampaignState, attempt: Attempt, adapter: CarrierAdapter, event: CallEvent | null): Promise<AnswerDocument> {
    const { storage, d1 } = this.parts;
    const contact = storage.contacts.get(attempt.contact_id);
    const fields = contact ? (JSON.parse(contact.custom_fields) as Record<string, string>) : {};
    const callId = callIdOf(state.campaign_id, attempt.attempt_id);
    const parameters = {
      ...fields,
      campaign_id: state.campaign_id,
      contact_id: attempt.contact_id,
      phone_number: attempt.phone,
      call_id: callId,
      answered_by: answeredByWord(event?.answeredBy ?? storage.attempts.get(attempt.attempt_id)?.answered_by),
      result_url: await resultUrl(this.parts.env, callId, state.account_id, attempt.created_at),
    };
    return adapter.answerDocument(await d1.agentStreamUrl(state.agent_id), parameters);
  }

  /** Signature, then replay: a request whose nonce was seen before is refused like a forged one, and changes nothing. */
  private async authenticate(kind: CarrierKind, callback: SignedCallback): Promise<{ adapter: CarrierAdapter } | CarrierReply> {
    const { adapter } = await this.parts.carrier.get();
    if (adapter.kind !== kind) return forbidden(`This campaign dials through ${adapter.kind}; its callbacks do not come to the ${kind} path.`);
    if (!(await adapter.verifyCallback(callback))) return forbidden("The callback signature is not valid.");
    const nonce = adapter.nonceOf(callback);
    if (nonce !== null && !this.parts.storage.carrierRequests.rememberNonce(nonce, Date.now())) {
      return forbidden("This request was received before (its nonce is used); a replay changes nothing.");
    }
    return { adapter };
  }
}
