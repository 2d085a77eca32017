/** Call progress as every carrier's callbacks are normalised to (Twilio's vocabulary). */
export type CallProgress = "queued" | "initiated" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "canceled" | "timeout";

export const FINAL_PROGRESS: ReadonlySet<CallProgress> = new Set(["completed", "busy", "no-answer", "failed", "canceled", "timeout"]);

/** The carriers edgedial dials through; also the first segment of their webhook paths. */
export type CarrierKind = "twilio" | "plivo" | "vobiz";

export interface CallEvent {
  /** The id shared by the REST answer and every callback (Twilio CallSid; Plivo/Vobiz request_uuid / RequestUUID). */
  callId: string;
  /** The carrier's own call id where it differs from callId (Plivo/Vobiz CallUUID); used for lookups. */
  carrierRef?: string;
  progress: CallProgress;
  /** Carrier's per-call event counter where it has one; used only to order duplicates. */
  sequence?: number;
  durationSeconds?: number;
  answeredBy?: string;
  sipCode?: number;
  /** The carrier's hangup cause text or code where it has one, for last_error. */
  cause?: string;
  /** True on a machine-detection request of its own (Plivo, Vobiz): the verdict, apart from the answer. */
  machineVerdict?: boolean;
}

export interface OriginateRequest {
  to: string;
  from: string;
  /** Where status callbacks go (Plivo/Vobiz: hangup, ring and machine-detection URLs); carries the attempt id so a lost REST answer loses nothing. */
  statusCallbackUrl: string;
  answerUrl: string;
  ringTimeoutSeconds: number;
  timeLimitSeconds: number;
}

export type OriginateResult =
  | { kind: "accepted"; callId: string }
  /** The carrier refused this number for good (invalid, unreachable): an attempt, never retried. */
  | { kind: "contact_error"; outcome: "invalid_number"; detail: string }
  /** The carrier refused the account (auth, caller id, geo, credit): the campaign fails. */
  | { kind: "campaign_error"; detail: string }
  /** Not placed (429, 5xx, network before sending): not an attempt; try again after a pause. */
  | { kind: "retry_later"; detail: string; retryAfterMs?: number }
  /** Sent, but no answer came back: the call may exist; reconcile before anything else. */
  | { kind: "unknown"; detail: string };

export type LookupResult = { kind: "found"; event: CallEvent } | { kind: "absent" } | { kind: "error"; detail: string };

export interface SignedCallback {
  /** The exact URL the carrier was given (PUBLIC_BASE_URL + path + query). */
  url: string;
  method: "POST" | "GET";
  /** Every request header, names lower-cased. */
  headers: Record<string, string>;
  /** Form-encoded body parameters (POST); empty for GET. */
  params: [string, string][];
}

export interface AnswerDocument {
  body: string;
  contentType: string;
}

/** What a voicemail hears: text the carrier speaks, or an audio file it plays; null hangs up without a word. */
export type VoicemailMessage = { kind: "speak"; text: string } | { kind: "play"; url: string } | null;

/**
 * A carrier whose machine verdict comes after the answer (Plivo, Vobiz): the answered call is held
 * silently, then moved to the agent or to the message once the verdict is in.
 */
export interface LateVerdictCarrier {
  /** Holds the line for `seconds`, then fetches the agent's document from `agentUrl` if no verdict moved the call first. */
  holdDocument(agentUrl: string, seconds: number): AnswerDocument;
  /** Moves the live call to the document at `url`; false when the carrier refused. */
  transferCall(callId: string, carrierRef: string | null, url: string): Promise<boolean>;
}

/** One interface for every carrier: only fetch and Web Crypto behind it. */
export interface CarrierAdapter {
  readonly kind: CarrierKind;
  originate(request: OriginateRequest): Promise<OriginateResult>;
  /** Current state of a call we know the id of; `carrierRef` is the carrier's own id last seen for it, if any. */
  fetchStatus(callId: string, carrierRef?: string | null): Promise<LookupResult>;
  /** A call to `to` from `from` started at or after `since`, for attempts whose REST answer was lost. */
  findCall(to: string, from: string, since: number): Promise<LookupResult>;
  cancel(callId: string, carrierRef?: string | null): Promise<void>;
  /** Signature only; replay is the caller's job through nonceOf. */
  verifyCallback(callback: SignedCallback): Promise<boolean>;
  /** The nonce a signed request carries (Plivo/Vobiz V3 nonce header); null where the carrier signs none (Twilio). */
  nonceOf(callback: SignedCallback): string | null;
  parseCallback(params: [string, string][]): CallEvent | null;
  /**
   * The carrier's own XML answer document (TwiML, Plivo XML, VobizXML) that streams the call to the
   * agent's stream_url with the contact's variables; a hang-up document when streamUrl is null.
   */
  answerDocument(streamUrl: string | null, parameters: Record<string, string>): AnswerDocument;
  /** The message (or the bare hang-up) for an answering machine, in the carrier's own XML. */
  voicemailDocument(message: VoicemailMessage): AnswerDocument;
  /** Null where the answer request itself carries the verdict (Twilio with DetectMessageEnd: after the greeting's beep). */
  readonly lateVerdict: LateVerdictCarrier | null;
}

export type FetchLike = (input: string | Request, init?: RequestInit) => Promise<Response>;

/** SIP answers that mean the number itself is wrong (not found, gone, incomplete, declined everywhere): never retried. */
const INVALID_SIP = new Set([404, 410, 484, 604]);

export function sipIsInvalidNumber(code: number | undefined): boolean {
  return code !== undefined && INVALID_SIP.has(code);
}
