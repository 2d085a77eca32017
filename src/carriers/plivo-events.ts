import { escapeXml } from "./twiml";
import type { AnswerDocument, CallEvent, CallProgress, VoicemailMessage } from "./types";

/** Plivo's hangup cause for a destination that does not exist; Vobiz uses the same table. */
const INVALID_DESTINATION_CODE = 2000;
/** The SIP answer the contact machine reads as "invalid number" (it speaks Twilio's SIP vocabulary). */
const INVALID_NUMBER_SIP = 404;

const CALL_STATUS: Record<string, CallProgress> = {
  queued: "queued",
  ringing: "ringing",
  "early media": "ringing",
  "in-progress": "in-progress",
  completed: "completed",
  busy: "busy",
  "no-answer": "no-answer",
  failed: "failed",
  timeout: "timeout",
};

export interface HangupCause {
  name?: string;
  code?: number;
}

const numberOf = (raw: unknown): number | undefined => {
  if (raw === undefined || raw === null || raw === "") return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
};

const describeCause = ({ name, code }: HangupCause): string | undefined =>
  name ? `${name}${code !== undefined ? ` (${code})` : ""}` : code !== undefined ? `hangup cause ${code}` : undefined;

function isInvalidDestination({ name, code }: HangupCause): boolean {
  return code === INVALID_DESTINATION_CODE || /invalid destination/i.test(name ?? "");
}

const isMachine = ({ name }: HangupCause) => /machine/i.test(name ?? "");
const isApiCancel = ({ name, code }: HangupCause) => code === 1000 || /^cancel+ed$/i.test(name ?? "");

/** A final status read from the hangup cause alone (call records carry no CallStatus). */
export function progressFromCause(cause: HangupCause, answered: boolean): CallProgress {
  const name = cause.name ?? "";
  if (isInvalidDestination(cause)) return "failed";
  if (isMachine(cause) || answered) return "completed";
  if (/busy|rejected/i.test(name)) return "busy";
  if (/no answer|ring timeout|not answered/i.test(name)) return "no-answer";
  if (isApiCancel(cause)) return "canceled";
  if (cause.code === 4000 || cause.code === 4010 || /normal hangup|end of xml/i.test(name)) return "completed";
  return "failed";
}

/**
 * One Plivo-family request (ring, answer, machine detection or hangup) as a call event. The
 * RequestUUID is the call's id: the REST answer returns it and every callback carries it.
 */
export function callEventFromCallback(params: [string, string][]): CallEvent | null {
  const get = (name: string) => params.find(([k]) => k === name)?.[1];
  const callId = get("RequestUUID") || get("ALegRequestUUID") || get("CallUUID");
  if (!callId) return null;
  const cause: HangupCause = { name: get("HangupCause") || undefined, code: numberOf(get("HangupCauseCode")) };
  const machine = get("Machine");
  const event = get("Event") ?? "";
  let progress: CallProgress | undefined;
  if (event === "MachineDetection" || event === "StartApp") progress = "in-progress";
  else if (event === "Ring") progress = "ringing";
  else {
    const status = (get("CallStatus") ?? "").toLowerCase();
    // "cancel" is also what a callee who declines produces; only our own cancel ends a contact for good.
    progress = status === "cancel" ? (isApiCancel(cause) || !cause.name ? "canceled" : "no-answer") : CALL_STATUS[status];
    if (!progress && event === "Hangup") progress = progressFromCause(cause, numberOf(get("BillDuration")) !== undefined && Number(get("BillDuration")) > 0);
  }
  if (!progress) return null;
  const invalid = isInvalidDestination(cause);
  if (invalid) progress = "failed";
  const answeredBy = machine === "true" || isMachine(cause) ? "machine_start" : machine === "false" ? "human" : undefined;
  return {
    callId,
    carrierRef: get("CallUUID") || undefined,
    progress,
    durationSeconds: numberOf(get("BillDuration")) ?? numberOf(get("Duration")),
    answeredBy,
    sipCode: invalid ? INVALID_NUMBER_SIP : numberOf(get("SIPResponseCode")),
    cause: describeCause(cause),
    ...(event === "MachineDetection" && { machineVerdict: true }),
  };
}

export interface CallRecord {
  callId: string;
  carrierRef?: string;
  /** Live/queued lookups carry a status; call records only a hangup cause. */
  status?: string;
  cause?: HangupCause;
  answered?: boolean;
  durationSeconds?: number;
}

/** Where a carrier's call detail record keeps each fact: Plivo and Vobiz name the same fields differently. */
export interface CdrFields {
  /** The call's uuid, its CallUUID. */
  id: string;
  billedSeconds: string;
  /** The call's length when it carries no billed seconds. */
  durationSeconds: string;
  /** Fields that may hold the hangup cause's name, the first string one wins. */
  causeNames: readonly string[];
}

/** A finished call's record (CDR): no status, only its hangup cause; `callId` is the attempt's id when known. */
export function cdrRecord(fields: CdrFields, callId: string | null) {
  return (body: Record<string, unknown>): CallRecord | null => {
    const uuid = body[fields.id];
    if (typeof uuid !== "string" || uuid === "") return null;
    const billed = numberOf(body[fields.billedSeconds]);
    const name = fields.causeNames.map((field) => body[field]).find((value): value is string => typeof value === "string");
    return {
      callId: callId ?? uuid,
      carrierRef: uuid,
      cause: { name, code: numberOf(body.hangup_cause_code) },
      answered: (typeof body.answer_time === "string" && body.answer_time !== "") || (billed ?? 0) > 0,
      durationSeconds: billed ?? numberOf(body[fields.durationSeconds]),
    };
  };
}

/** A lookup answer (live, queued or finished call) as a call event. */
export function callEventFromRecord(record: CallRecord): CallEvent | null {
  const cause = record.cause ?? {};
  const progress = record.status !== undefined ? CALL_STATUS[record.status.toLowerCase()] : progressFromCause(cause, record.answered ?? false);
  if (!progress) return null;
  const invalid = isInvalidDestination(cause);
  return {
    callId: record.callId,
    carrierRef: record.carrierRef,
    progress,
    durationSeconds: record.durationSeconds,
    answeredBy: isMachine(cause) ? "machine_start" : undefined,
    sipCode: invalid ? INVALID_NUMBER_SIP : undefined,
    cause: describeCause(cause),
  };
}

/**
 * Plivo XML (VobizXML is the same language): a bidirectional <Stream> to the agent. Stream's
 * extraHeaders take only [A-Za-z0-9] and 512 bytes, so the contact's variables ride on the
 * stream URL's query string instead, where the agent reads them at the WebSocket handshake.
 */
export function plivoAnswerXml(streamUrl: string | null, parameters: Record<string, string>): { body: string; contentType: string } {
  const contentType = "text/xml; charset=utf-8";
  if (!streamUrl) {
    return { body: '<?xml version="1.0" encoding="UTF-8"?><Response><Speak>Sorry, no agent is available.</Speak><Hangup/></Response>', contentType };
  }
  const url = new URL(streamUrl);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return {
    body: `<?xml version="1.0" encoding="UTF-8"?><Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000">${escapeXml(url.toString())}</Stream></Response>`,
    contentType,
  };
}

const PLIVO_XML = "text/xml; charset=utf-8";

/** Plivo XML for an answering machine: <Speak> or <Play>, then <Hangup/>. */
export function plivoVoicemailXml(message: VoicemailMessage): AnswerDocument {
  const words = message === null ? "" : message.kind === "speak" ? `<Speak>${escapeXml(message.text)}</Speak>` : `<Play>${escapeXml(message.url)}</Play>`;
  return { body: `<?xml version="1.0" encoding="UTF-8"?><Response>${words}<Hangup/></Response>`, contentType: PLIVO_XML };
}

/** Silence while the machine verdict is awaited; without one by then, <Redirect> fetches the agent's document. */
export function plivoHoldXml(agentUrl: string, seconds: number): AnswerDocument {
  return {
    body: `<?xml version="1.0" encoding="UTF-8"?><Response><Wait length="${seconds}"/><Redirect method="POST">${escapeXml(agentUrl)}</Redirect></Response>`,
    contentType: PLIVO_XML,
  };
}
