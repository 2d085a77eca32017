/** Call progress as every carrier's callbacks are normalised to (Twilio's vocabulary). */
export type CallProgress = "queued" | "initiated" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed" | "canceled" | "timeout";

export const FINAL_PROGRESS: ReadonlySet<CallProgress> = new Set(["completed", "busy", "no-answer", "failed", "canceled", "timeout"]);

export interface CallEvent {
  callId: string;
  progress: CallProgress;
  /** Carrier's per-call event counter where it has one; used only to order duplicates. */
  sequence?: number;
  durationSeconds?: number;
  answeredBy?: string;
  sipCode?: number;
}

export interface OriginateRequest {
  to: string;
  from: string;
  /** Where status callbacks go; carries the attempt id so a lost REST answer loses nothing. */
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
  /** The exact URL the carrier was given (scheme to end of query). */
  url: string;
  headers: Record<string, string>;
  params: [string, string][];
}

/** One interface for every carrier: only fetch and Web Crypto behind it. */
export interface CarrierAdapter {
  readonly kind: string;
  originate(request: OriginateRequest): Promise<OriginateResult>;
  /** Current state of a call we know the id of. */
  fetchStatus(callId: string): Promise<LookupResult>;
  /** A call to `to` from `from` started at or after `since`, for attempts whose REST answer was lost. */
  findCall(to: string, from: string, since: number): Promise<LookupResult>;
  cancel(callId: string): Promise<void>;
  verifyCallback(callback: SignedCallback): Promise<boolean>;
  parseCallback(params: [string, string][]): CallEvent | null;
}

export type FetchLike = (input: string | Request, init?: RequestInit) => Promise<Response>;
