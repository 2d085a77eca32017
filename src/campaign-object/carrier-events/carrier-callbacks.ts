import { callIdOf } from "../../call-results/call-id";
import { answeredByWord, resultUrl } from "../../call-results/result-url";
import { EMPTY_RESPONSE_XML, XML_CONTENT_TYPE } from "../../carriers/twiml";
import type { CarrierAdapter, CarrierKind, SignedCallback } from "../../carriers/types";
import type { Env } from "../../env";
import type { AlarmClock } from "../alarm-clock";
import type { CarrierLink } from "../carrier-link";
import type { D1Sync } from "../d1-sync";
import type { EventHub } from "../live/event-hub";
import type { ObjectStorage } from "../storage/object-storage";
import type { CallEvents } from "./call-events";

export type CarrierReply = { status: number; body: string; contentType?: string };

const forbidden = (body: string): CarrierReply => ({ status: 403, body });

/** GET callbacks carry their parameters in the query; POST ones in the form body. */
const fieldsOf = (callback: SignedCallback): [string, string][] => (callback.method === "GET" ? [...new URL(callback.url).searchParams] : callback.params);

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
    if (!(await d1.load(campaignId))) return { status: 200, body: "campaign not found; ignored" };
    if (!storage.attempts.get(attemptId)) return { status: 200, body: "unknown attempt; ignored" };
    const checked = await this.authenticate(kind, callback);
    if (!("adapter" in checked)) return checked;
    storage.carrierRequests.count("callback");
    const event = checked.adapter.parseCallback(fieldsOf(callback));
    if (!event) return { status: 400, body: "The callback has no call id or call status." };
    events.apply(attemptId, event);
    hub.publish();
    await alarm.arm();
    return { status: 200, body: "" };
  }

  /**
   * The answer request: applies the event it carries, then answers the answer itself with the
   * carrier's document that streams the call to the agent. Vobiz also sends ringing (and could
   * send other events) to this URL; those get a document with no verbs, so no second stream starts.
   */
  async answer(campaignId: string, attemptId: string, kind: CarrierKind, callback: SignedCallback): Promise<CarrierReply> {
    const { d1, storage, events, hub, alarm } = this.parts;
    const state = await d1.load(campaignId);
    const attempt = state ? storage.attempts.get(attemptId) : null;
    if (!state || !attempt) return { status: 404, body: "This call is not known." };
    const checked = await this.authenticate(kind, callback);
    if (!("adapter" in checked)) return checked;
    storage.carrierRequests.count("answer");
    const event = checked.adapter.parseCallback(fieldsOf(callback));
    if (event) {
      events.apply(attemptId, event);
      hub.publish();
      await alarm.arm();
    }
    if (event?.progress !== "in-progress") return { status: 200, body: EMPTY_RESPONSE_XML, contentType: XML_CONTENT_TYPE };
    const contact = storage.contacts.get(attempt.contact_id);
    const fields = contact ? (JSON.parse(contact.custom_fields) as Record<string, string>) : {};
    const callId = callIdOf(state.campaign_id, attemptId);
    const parameters = {
      ...fields,
      campaign_id: state.campaign_id,
      contact_id: attempt.contact_id,
      phone_number: attempt.phone,
      call_id: callId,
      answered_by: answeredByWord(event.answeredBy ?? storage.attempts.get(attemptId)?.answered_by),
      result_url: await resultUrl(this.parts.env, callId, attempt.created_at),
    };
    const document = checked.adapter.answerDocument(await d1.agentStreamUrl(state.agent_id), parameters);
    return { status: 200, body: document.body, contentType: document.contentType };
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
