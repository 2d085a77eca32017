import { constantTimeEqual, hmac, toBase64 } from "../http/crypto";
import { answerTwiml, voicemailTwiml } from "./twiml";
import type {
  AnswerDocument,
  CallEvent,
  CallProgress,
  CarrierAdapter,
  FetchLike,
  LookupResult,
  OriginateRequest,
  OriginateResult,
  SignedCallback,
  VoicemailMessage,
} from "./types";

export interface TwilioCredentials {
  account_sid: string;
  auth_token: string;
}

/** X-Twilio-Signature: base64(HMAC-SHA1(token, url + sorted name+value pairs)). */
export async function twilioSignature(authToken: string, url: string, params: [string, string][]): Promise<string> {
  const sorted = [...params].sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  let data = url;
  for (const [name, value] of sorted) data += name + value;
  return toBase64(await hmac(authToken, data, "SHA-1"));
}

/** Twilio's own validators also accept the URL with the default port spelled out, or without it. */
function urlVariants(url: string): string[] {
  const parsed = new URL(url);
  const defaultPort = parsed.protocol === "https:" ? "443" : "80";
  const withPort = `${parsed.protocol}//${parsed.hostname}:${parsed.port || defaultPort}${parsed.pathname}${parsed.search}`;
  const withoutPort = parsed.port === "" || parsed.port === defaultPort ? `${parsed.protocol}//${parsed.hostname}${parsed.pathname}${parsed.search}` : withPort;
  return [...new Set([url, withPort, withoutPort])];
}

export async function verifyTwilioSignature(authToken: string, callback: SignedCallback): Promise<boolean> {
  const given = callback.headers["x-twilio-signature"];
  if (!given) return false;
  for (const url of urlVariants(callback.url)) {
    if (constantTimeEqual(await twilioSignature(authToken, url, callback.params), given)) return true;
  }
  return false;
}

/** Twilio REST error codes that concern the whole account, not one contact. */
const CAMPAIGN_ERRORS = new Set([20003, 20005, 21210, 21215, 21216, 13227, 32205, 21212, 21606, 20008]);
const INVALID_NUMBER_ERRORS = new Set([21211, 21214, 21217, 13224, 21401, 21407]);

const STATUS: Record<string, CallProgress> = {
  queued: "queued",
  initiated: "initiated",
  ringing: "ringing",
  "in-progress": "in-progress",
  answered: "in-progress",
  completed: "completed",
  busy: "busy",
  "no-answer": "no-answer",
  failed: "failed",
  canceled: "canceled",
};

function callEventFromResource(resource: Record<string, unknown>): CallEvent | null {
  const progress = STATUS[String(resource.status)];
  const sid = resource.sid;
  if (!progress || typeof sid !== "string") return null;
  const duration = Number(resource.duration);
  return {
    callId: sid,
    progress,
    durationSeconds: Number.isFinite(duration) ? duration : undefined,
    answeredBy: typeof resource.answered_by === "string" ? resource.answered_by : undefined,
  };
}

/**
 * The status callbacks a call asks for: only those that change a contact. `initiated` and
 * `ringing` add nothing a contact records (it is originated at REST acceptance), and each
 * callback is a paid request and a trip through the Worker and the campaign's object.
 */
export const TWILIO_STATUS_EVENTS: readonly string[] = ["answered", "completed"];

export class TwilioAdapter implements CarrierAdapter {
  readonly kind = "twilio";
  /** DetectMessageEnd makes Twilio request the answer URL after the greeting's beep, verdict included. */
  readonly lateVerdict = null;
  private readonly base: string;

  constructor(
    private readonly credentials: TwilioCredentials,
    baseUrl: string,
    private readonly fetcher: FetchLike,
    private readonly requestTimeoutMs = 10_000,
    private readonly statusEvents: readonly string[] = TWILIO_STATUS_EVENTS,
  ) {
    this.base = `${baseUrl.replace(/\/$/, "")}/2010-04-01/Accounts/${encodeURIComponent(credentials.account_sid)}`;
  }

  private async request(method: string, path: string, body?: URLSearchParams): Promise<Response> {
    const auth = btoa(`${this.credentials.account_sid}:${this.credentials.auth_token}`);
    // A cleared timer, not AbortSignal.timeout: that one stays armed after the answer and keeps the object awake.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
    try {
      return await this.fetcher(`${this.base}${path}`, {
        method,
        headers: {
          Authorization: `Basic ${auth}`,
          Accept: "application/json",
          ...(body && { "Content-Type": "application/x-www-form-urlencoded" }),
        },
        body,
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async originate(request: OriginateRequest): Promise<OriginateResult> {
    const form = new URLSearchParams({
      To: request.to,
      From: request.from,
      Url: request.answerUrl,
      Method: "POST",
      StatusCallback: request.statusCallbackUrl,
      StatusCallbackMethod: "POST",
      Timeout: String(Math.max(15, request.ringTimeoutSeconds)),
      TimeLimit: String(request.timeLimitSeconds),
      MachineDetection: "DetectMessageEnd",
    });
    for (const event of this.statusEvents) form.append("StatusCallbackEvent", event);

    let response: Response;
    try {
      response = await this.request("POST", "/Calls.json", form);
    } catch (error) {
      // A rejected fetch cannot say whether the request reached the carrier: reconcile before redialling.
      return { kind: "unknown", detail: `no answer from the carrier: ${error instanceof Error ? error.message : String(error)}` };
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 201 || response.status === 200) {
      const sid = body.sid;
      return typeof sid === "string" ? { kind: "accepted", callId: sid } : { kind: "unknown", detail: "carrier accepted the call without a sid" };
    }
    const code = Number(body.code);
    const detail = `Twilio ${response.status}${Number.isFinite(code) ? ` (${code})` : ""}: ${String(body.message ?? response.statusText)}`;
    if (response.status === 429 || code === 20429) {
      const retryAfter = Number(response.headers.get("Retry-After"));
      return { kind: "retry_later", detail, retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined };
    }
    if (response.status >= 500) return { kind: "retry_later", detail };
    if (INVALID_NUMBER_ERRORS.has(code)) return { kind: "contact_error", outcome: "invalid_number", detail };
    if (CAMPAIGN_ERRORS.has(code) || response.status === 401 || response.status === 403) return { kind: "campaign_error", detail };
    // An unrecognised 4xx is about this request; failing the campaign on it would stop every other contact.
    return { kind: "contact_error", outcome: "invalid_number", detail };
  }

  async fetchStatus(callId: string): Promise<LookupResult> {
    try {
      const response = await this.request("GET", `/Calls/${encodeURIComponent(callId)}.json`);
      if (response.status === 404) return { kind: "absent" };
      if (!response.ok) return { kind: "error", detail: `Twilio ${response.status}` };
      const event = callEventFromResource((await response.json()) as Record<string, unknown>);
      return event ? { kind: "found", event } : { kind: "error", detail: "unreadable call resource" };
    } catch (error) {
      return { kind: "error", detail: String(error) };
    }
  }

  async findCall(to: string, from: string, since: number): Promise<LookupResult> {
    const day = new Date(since - 86_400_000).toISOString().slice(0, 10);
    const query = new URLSearchParams({ To: to, From: from, "StartTime>": day, PageSize: "20" });
    try {
      const response = await this.request("GET", `/Calls.json?${query}`);
      if (!response.ok) return { kind: "error", detail: `Twilio ${response.status}` };
      const body = (await response.json()) as { calls?: Record<string, unknown>[] };
      const candidates = (body.calls ?? []).filter((call) => {
        const created = Date.parse(String(call.date_created ?? ""));
        // date_created has one-second precision; allow for that and for clock skew.
        return Number.isNaN(created) || created >= since - 5_000;
      });
      const event = candidates[0] ? callEventFromResource(candidates[0]) : null;
      return event ? { kind: "found", event } : { kind: "absent" };
    } catch (error) {
      return { kind: "error", detail: String(error) };
    }
  }

  async cancel(callId: string): Promise<void> {
    await this.request("POST", `/Calls/${encodeURIComponent(callId)}.json`, new URLSearchParams({ Status: "canceled" }));
  }

  verifyCallback(callback: SignedCallback): Promise<boolean> {
    return verifyTwilioSignature(this.credentials.auth_token, callback);
  }

  /** Twilio signs no nonce; its duplicates are harmless because events apply monotonically. */
  nonceOf(): string | null {
    return null;
  }

  answerDocument(streamUrl: string | null, parameters: Record<string, string>): AnswerDocument {
    return { body: answerTwiml(streamUrl, parameters), contentType: "text/xml" };
  }

  voicemailDocument(message: VoicemailMessage): AnswerDocument {
    return { body: voicemailTwiml(message), contentType: "text/xml" };
  }

  parseCallback(params: [string, string][]): CallEvent | null {
    const get = (name: string) => params.find(([k]) => k === name)?.[1];
    const callId = get("CallSid");
    const progress = STATUS[get("CallStatus") ?? ""];
    if (!callId || !progress) return null;
    const number = (name: string) => {
      const raw = get(name);
      const value = raw === undefined || raw === "" ? Number.NaN : Number(raw);
      return Number.isFinite(value) ? value : undefined;
    };
    return {
      callId,
      progress,
      sequence: number("SequenceNumber"),
      durationSeconds: number("CallDuration"),
      answeredBy: get("AnsweredBy") || undefined,
      sipCode: number("SipResponseCode"),
    };
  }
}
