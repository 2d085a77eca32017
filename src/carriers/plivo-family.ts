import { type CallRecord, callEventFromCallback, callEventFromRecord, plivoAnswerXml, plivoHoldXml, plivoVoicemailXml } from "./plivo-events";
import type {
  AnswerDocument,
  CallEvent,
  CarrierAdapter,
  FetchLike,
  LateVerdictCarrier,
  LookupResult,
  OriginateRequest,
  OriginateResult,
  SignedCallback,
  VoicemailMessage,
} from "./types";

export interface PlivoFamilyCredentials {
  auth_id: string;
  auth_token: string;
}

type Json = Record<string, unknown>;

export type ApiAnswer = { status: number; body: Json; retryAfter: string | null };

/** Plivo answers {error: "text"}, Vobiz {error: {code, message}}: one sentence either way. */
function errorText(body: Json, statusText: string): string {
  const error = body.error;
  if (typeof error === "string") return error;
  if (error && typeof error === "object") {
    const { code, message } = error as Json;
    return [code, message].filter((part) => typeof part === "string" && part !== "").join(": ") || statusText;
  }
  return typeof body.message === "string" ? body.message : statusText;
}

/**
 * What a create-call answer means for the campaign (CARRIERS.md "Mapping to contact states"):
 * account problems fail the campaign with a reason saying what to fix, a refused number is an
 * attempt, and throttling or a carrier fault before the call exists is no attempt at all.
 */
function originateOutcome(carrier: string, answer: ApiAnswer): OriginateResult {
  const { status, body } = answer;
  if (status === 200 || status === 201) {
    const id = body.request_uuid;
    return typeof id === "string" && id !== ""
      ? { kind: "accepted", callId: id }
      : { kind: "unknown", detail: `${carrier} accepted the call without a request_uuid` };
  }
  const text = errorText(body, `HTTP ${status}`);
  const said = `${carrier} ${status}: ${text}`;
  if (status === 429) {
    const seconds = Number(answer.retryAfter);
    return { kind: "retry_later", detail: said, retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined };
  }
  if (status >= 500) return { kind: "retry_later", detail: said };
  if (status === 401)
    return { kind: "campaign_error", detail: `${said}. ${carrier} refused the auth_id and auth_token: correct this number's provider credentials.` };
  if (status === 402 || /credit|balance|insufficient|fund/i.test(text)) {
    return { kind: "campaign_error", detail: `${said}. The ${carrier} account is out of credit: add credit in the ${carrier} console, then resume.` };
  }
  if (/caller.?id|\bfrom\b|\bsrc\b|source number/i.test(text)) {
    return { kind: "campaign_error", detail: `${said}. ${carrier} does not accept this caller id: use a number the ${carrier} account owns or has verified.` };
  }
  if (status === 403 || /geo|permission|barred|not allowed|disabled|suspended/i.test(text)) {
    return { kind: "campaign_error", detail: `${said}. The ${carrier} account may not place this call: check its geo permissions and account status.` };
  }
  // What is left concerns this destination; failing the campaign on it would stop every other contact.
  return { kind: "contact_error", outcome: "invalid_number", detail: said };
}

/** A number as Plivo-family list filters take it: digits only. */
export const digits = (number: string) => number.replace(/\D/g, "");

/** Numbers compare by digits: Plivo-family APIs echo them with or without the "+". */
export const sameNumber = (a: unknown, b: string) => typeof a === "string" && digits(a) === digits(b);

/**
 * What Plivo and Vobiz share: JSON REST under /Account/{auth_id}/, the create-call answer and its
 * errors, the form callbacks and the XML answer. Each subclass says how it authenticates, which
 * URLs it is given, how callbacks are signed and how calls are looked up.
 */
export abstract class PlivoFamilyAdapter implements CarrierAdapter, LateVerdictCarrier {
  abstract readonly kind: "plivo" | "vobiz";
  /** The verdict comes on machine_detection_url after the answer URL has run. */
  readonly lateVerdict: LateVerdictCarrier = this;
  /** The carrier's name as its customers know it, used in every error detail. */
  protected abstract readonly carrierName: string;
  protected readonly accountBase: string;

  constructor(
    protected readonly credentials: PlivoFamilyCredentials,
    accountPath: string,
    private readonly fetcher: FetchLike,
    private readonly requestTimeoutMs = 10_000,
  ) {
    this.accountBase = `${accountPath.replace(/\/$/, "")}/Account/${encodeURIComponent(credentials.auth_id)}`;
  }

  protected abstract authHeaders(): Record<string, string>;
  /** Whether ringing is reported to a ring_url; Vobiz has none and sends ringing to the answer_url instead. */
  protected abstract readonly ringCallbacks: boolean;
  /** The header holding the nonce each signed callback carries. */
  protected abstract readonly nonceHeader: string;
  abstract verifyCallback(callback: SignedCallback): Promise<boolean>;
  abstract fetchStatus(callId: string, carrierRef?: string | null): Promise<LookupResult>;
  abstract findCall(to: string, from: string, since: number): Promise<LookupResult>;
  abstract cancel(callId: string, carrierRef?: string | null): Promise<void>;

  /** One REST request; rejects only when no answer came back. */
  protected async api(method: "GET" | "POST" | "DELETE", path: string, body?: Json): Promise<ApiAnswer> {
    // A cleared timer, not AbortSignal.timeout: that one stays armed after the answer and keeps the object awake.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
    try {
      const response = await this.fetcher(`${this.accountBase}${path}`, {
        method,
        headers: { ...this.authHeaders(), Accept: "application/json", ...(body && { "Content-Type": "application/json" }) },
        body: body && JSON.stringify(body),
        signal: controller.signal,
      });
      const text = await response.text();
      let parsed: Json = {};
      try {
        parsed = text ? (JSON.parse(text) as Json) : {};
      } catch {
        parsed = { error: text.slice(0, 200) };
      }
      return { status: response.status, body: parsed, retryAfter: response.headers.get("Retry-After") };
    } finally {
      clearTimeout(timer);
    }
  }

  async originate(request: OriginateRequest): Promise<OriginateResult> {
    let answer: ApiAnswer;
    try {
      answer = await this.api("POST", "/Call/", this.createCallBody(request));
    } catch (error) {
      // A rejected fetch cannot say whether the request reached the carrier: reconcile before redialling.
      return { kind: "unknown", detail: `no answer from ${this.carrierName}: ${error instanceof Error ? error.message : String(error)}` };
    }
    return originateOutcome(this.carrierName, answer);
  }

  /** Every callback goes to the attempt's status URL; the answer request to its answer URL. */
  private createCallBody(request: OriginateRequest): Json {
    const events = request.statusCallbackUrl;
    return {
      from: request.from,
      to: request.to,
      answer_url: request.answerUrl,
      answer_method: "POST",
      ...(this.ringCallbacks && { ring_url: events, ring_method: "POST" }),
      hangup_url: events,
      hangup_method: "POST",
      // "true" keeps the call going to the agent; the verdict arrives asynchronously as a MachineDetection request.
      machine_detection: "true",
      machine_detection_url: events,
      machine_detection_method: "POST",
      ring_timeout: Math.max(15, request.ringTimeoutSeconds),
      time_limit: request.timeLimitSeconds,
    };
  }

  nonceOf(callback: SignedCallback): string | null {
    return callback.headers[this.nonceHeader] || null;
  }

  /** GET a live or queued call by id: the event, null when the carrier says 404, or an error. */
  protected async lookup(path: string, toRecord: (body: Json) => CallRecord | null): Promise<LookupResult | null> {
    const answer = await this.api("GET", path);
    if (answer.status === 404) return null;
    if (answer.status !== 200) return { kind: "error", detail: `${this.carrierName} ${answer.status} on ${path}` };
    const record = toRecord(answer.body);
    const event = record && callEventFromRecord(record);
    return event ? { kind: "found", event } : { kind: "error", detail: `${this.carrierName} answered ${path} with an unreadable call` };
  }

  /** Runs lookups in order until one finds the call; every one answering 404 means the carrier has no such call. */
  protected async firstFound(lookups: (() => Promise<LookupResult | null>)[]): Promise<LookupResult> {
    try {
      for (const lookup of lookups) {
        const result = await lookup();
        if (result) return result;
      }
      return { kind: "absent" };
    } catch (error) {
      return { kind: "error", detail: String(error) };
    }
  }

  /** Among listed live or queued call ids, the first whose details show this destination and caller id. */
  protected async matchListed(listPath: string, detailPath: (id: string) => string, to: string, from: string, toRecord: (body: Json) => CallRecord | null) {
    const listed = await this.api("GET", listPath);
    if (listed.status === 404) return null;
    if (listed.status !== 200) return { kind: "error", detail: `${this.carrierName} ${listed.status} on ${listPath}` } as const;
    const ids = Array.isArray(listed.body.calls) ? listed.body.calls.filter((id): id is string => typeof id === "string").slice(0, 50) : [];
    for (const id of ids) {
      const detail = await this.api("GET", detailPath(id));
      if (detail.status !== 200 || !sameNumber(detail.body.to ?? detail.body.to_number, to) || !sameNumber(detail.body.from ?? detail.body.from_number, from))
        continue;
      const found = foundRecord(toRecord(detail.body));
      if (found) return found;
    }
    return null;
  }

  parseCallback(params: [string, string][]): CallEvent | null {
    return callEventFromCallback(params);
  }

  answerDocument(streamUrl: string | null, parameters: Record<string, string>) {
    return plivoAnswerXml(streamUrl, parameters);
  }

  voicemailDocument(message: VoicemailMessage): AnswerDocument {
    return plivoVoicemailXml(message);
  }

  holdDocument(agentUrl: string, seconds: number): AnswerDocument {
    return plivoHoldXml(agentUrl, seconds);
  }

  /** The transfer-call API: the A leg (the callee) is given a new document URL; Plivo answers 202. */
  async transferCall(callId: string, carrierRef: string | null, url: string): Promise<boolean> {
    const path = `/Call/${encodeURIComponent(carrierRef || callId)}/`;
    try {
      const answer = await this.api("POST", path, { legs: "aleg", aleg_url: url, aleg_method: "POST" });
      return answer.status >= 200 && answer.status < 300;
    } catch {
      return false;
    }
  }
}

/** A call record found by a lookup, as its answer; null when there is none or it is unreadable. */
export function foundRecord(record: CallRecord | null | undefined): LookupResult | null {
  const event = record ? callEventFromRecord(record) : null;
  return event ? { kind: "found", event } : null;
}

/** A live or queued call as Plivo and Vobiz describe it. */
export function liveRecord(body: Json): CallRecord | null {
  const callId = typeof body.request_uuid === "string" ? body.request_uuid : typeof body.call_uuid === "string" ? body.call_uuid : null;
  if (!callId || typeof body.call_status !== "string") return null;
  return { callId, carrierRef: typeof body.call_uuid === "string" ? body.call_uuid : undefined, status: body.call_status };
}
