import { toHex } from "../../http/crypto";
import { E164 } from "../../uploads/phone";
import { twilioSignature } from "../twilio";
import { outcomeFor, type SimulatedOutcome, timelineFor } from "./outcomes";
import type { SimResponse } from "./plivo-wire";

/** A call as the simulator stores it; the Twilio dialect reads these columns. */
export interface TwilioCallRow {
  sid: string;
  account_sid: string;
  to_number: string;
  from_number: string;
  status: string;
  outcome: string;
  created_at: number;
  duration: number;
  answered_by: string | null;
  auth_token: string;
  dialect: string;
}

/** An error in Twilio's REST shape. */
export const twilioError = (status: number, code: number, message: string): SimResponse => ({
  status,
  json: JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }),
});

const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace("GMT", "+0000");

/** A Twilio call sid whose first hex digit after "CA" names the shard, so a lookup by sid finds its shard. */
export function shardedCallSid(shard: string): string {
  const hex = toHex(crypto.getRandomValues(new Uint8Array(16)));
  return `CA${shard}${hex.slice(1)}`;
}

export interface TwilioCallPlan {
  to: string;
  from: string;
  outcome: Exclude<SimulatedOutcome, "invalid_number">;
  callbackUrl: string | undefined;
  /** The Url Twilio requests for TwiML when the call is answered. */
  answerUrl: string | undefined;
  requestedEvents: Set<string>;
  ringTimeoutS: number;
}

/** Reads a Calls.json form as Twilio validates it; a number the digits table calls invalid fails like a bad one. */
export function readTwilioCreateCall(form: [string, string][]): TwilioCallPlan | SimResponse {
  const get = (name: string) => form.find(([k]) => k === name)?.[1];
  const to = get("To");
  const from = get("From");
  if (!to || !from) return twilioError(400, 21201, "No 'To' or 'From' number is specified");
  if (!get("Url") && !get("Twiml")) return twilioError(400, 21205, "Url parameter is required.");
  if (!E164.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  const outcome = outcomeFor(to);
  if (outcome === "invalid_number") return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
  const ringTimeout = Number(get("Timeout") ?? "60");
  return {
    to,
    from,
    outcome,
    callbackUrl: get("StatusCallback"),
    answerUrl: get("Url"),
    requestedEvents: new Set(form.filter(([k]) => k === "StatusCallbackEvent").map(([, v]) => v)),
    ringTimeoutS: Number.isFinite(ringTimeout) ? ringTimeout : 60,
  };
}

const PROGRESS_EVENTS: Record<string, string> = { initiated: "initiated", ringing: "ringing", "in-progress": "answered" };

/**
 * Every request the call will make (seconds from creation), by outcome: the TwiML request to Url
 * when it is answered, as Twilio makes it, and the status callbacks (none without a StatusCallback).
 */
export function twilioDeliveries(
  plan: TwilioCallPlan,
  ids: { sid: string; accountSid: string },
): { at: number; url: string; params: Record<string, string>; role?: "answer" }[] {
  const url = plan.callbackUrl;
  const out: { at: number; url: string; params: Record<string, string>; role?: "answer" }[] = [];
  let sequence = 0;
  for (const step of timelineFor(plan.outcome, plan.ringTimeoutS)) {
    if (step.status === "in-progress" && plan.answerUrl) {
      const answer = { AccountSid: ids.accountSid, ApiVersion: "2010-04-01", CallSid: ids.sid, CallStatus: step.status, Direction: "outbound-api" };
      out.push({ at: step.at, url: plan.answerUrl, params: { ...answer, From: plan.from, To: plan.to, ...step.extra }, role: "answer" });
    }
    if (!url) continue;
    const progress = PROGRESS_EVENTS[step.status];
    // Progress events only when asked for; final statuses always reach StatusCallback.
    if (progress && !plan.requestedEvents.has(progress)) continue;
    const params: Record<string, string> = {
      AccountSid: ids.accountSid,
      ApiVersion: "2010-04-01",
      CallSid: ids.sid,
      CallStatus: step.status,
      CallbackSource: "call-progress-events",
      Direction: "outbound-api",
      From: plan.from,
      To: plan.to,
      SequenceNumber: String(sequence++),
      ...step.extra,
    };
    out.push({ at: step.at, url, params });
  }
  return out;
}

/** A call as Twilio's REST API describes it. */
export function twilioResource(call: TwilioCallRow) {
  return {
    sid: call.sid,
    account_sid: call.account_sid,
    to: call.to_number,
    from: call.from_number,
    status: call.status,
    direction: "outbound-api",
    duration: String(call.duration),
    answered_by: call.answered_by,
    date_created: rfc2822(call.created_at),
    api_version: "2010-04-01",
  };
}

export type TwilioResource = ReturnType<typeof twilioResource>;

/** The status callback as Twilio sends it: form body, a Timestamp, and X-Twilio-Signature. */
export async function signedTwilioRequest(authToken: string, url: string, params: Record<string, string>): Promise<Request> {
  const pairs = Object.entries({ ...params, Timestamp: rfc2822(Date.now()) });
  return new Request(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": await twilioSignature(authToken, url, pairs),
      "User-Agent": "TwilioProxy/1.1 (edgedial simulator)",
    },
    body: new URLSearchParams(pairs),
  });
}
