import { type CallRecord, callEventFromRecord } from "./plivo-events";
import { liveRecord, PlivoFamilyAdapter, sameNumber } from "./plivo-family";
import type { FetchLike, LookupResult, OriginateRequest, SignedCallback } from "./types";
import { PLIVO_NONCE_HEADER, verifyPlivoCallback } from "./v3-signatures";

export const PLIVO_API_BASE = "https://api.plivo.com";

type Json = Record<string, unknown>;

const digits = (number: string) => number.replace(/\D/g, "");
/** Plivo's call-record filters take "YYYY-MM-DD HH:MM:SS" in UTC. */
const plivoTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);
const numberOf = (raw: unknown) => (raw === null || raw === undefined || raw === "" || !Number.isFinite(Number(raw)) ? undefined : Number(raw));

/** A finished call's record (CDR): no status, only its hangup cause. */
function cdrRecord(callId: string | null) {
  return (body: Json): CallRecord | null => {
    const uuid = typeof body.call_uuid === "string" ? body.call_uuid : null;
    if (!uuid) return null;
    const billed = numberOf(body.bill_duration);
    return {
      callId: callId ?? uuid,
      carrierRef: uuid,
      cause: { name: typeof body.hangup_cause_name === "string" ? body.hangup_cause_name : undefined, code: numberOf(body.hangup_cause_code) },
      answered: (typeof body.answer_time === "string" && body.answer_time !== "") || (billed ?? 0) > 0,
      durationSeconds: billed ?? numberOf(body.call_duration),
    };
  };
}

/**
 * Plivo Voice: JSON REST with Basic auth. The REST answer's request_uuid is the call's id (every
 * callback carries it as RequestUUID); the CallUUID arrives with the first callback and is what
 * the live-call and call-record lookups take.
 */
export class PlivoAdapter extends PlivoFamilyAdapter {
  readonly kind = "plivo" as const;
  protected readonly carrierName = "Plivo";

  constructor(credentials: { auth_id: string; auth_token: string }, baseUrl: string, fetcher: FetchLike, requestTimeoutMs?: number) {
    super(credentials, `${baseUrl.replace(/\/$/, "")}/v1`, fetcher, requestTimeoutMs);
  }

  protected authHeaders() {
    return { Authorization: `Basic ${btoa(`${this.credentials.auth_id}:${this.credentials.auth_token}`)}` };
  }

  protected callOptions(request: OriginateRequest) {
    const events = request.statusCallbackUrl;
    return {
      ring_url: events,
      ring_method: "POST",
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

  verifyCallback(callback: SignedCallback): Promise<boolean> {
    return verifyPlivoCallback(this.credentials.auth_token, callback);
  }

  nonceOf(callback: SignedCallback): string | null {
    return callback.headers[PLIVO_NONCE_HEADER] || null;
  }

  fetchStatus(callId: string, carrierRef?: string | null): Promise<LookupResult> {
    const id = encodeURIComponent;
    if (!carrierRef) {
      // Before its first callback a call is known by request_uuid only, which just the queue lookup takes.
      return this.firstFound([
        () => this.lookup(`/Call/${id(callId)}/?status=queued`, liveRecord),
        async () => ({ kind: "error", detail: "Plivo has sent no CallUUID for this call and it is not queued; look it up by number with findCall." }),
      ]);
    }
    return this.firstFound([
      () => this.lookup(`/Call/${id(carrierRef)}/?status=live`, (body) => liveRecord({ ...body, request_uuid: body.request_uuid ?? callId })),
      () => this.lookup(`/Call/${id(carrierRef)}/`, cdrRecord(callId)),
    ]);
  }

  findCall(to: string, from: string, since: number): Promise<LookupResult> {
    const filter = new URLSearchParams({ from_number: digits(from), to_number: digits(to) });
    return this.firstFound([
      () => this.matchListed("/Call/?status=queued", (id) => `/Call/${encodeURIComponent(id)}/?status=queued`, to, from, liveRecord),
      () => this.matchListed(`/Call/?status=live&${filter}`, (id) => `/Call/${encodeURIComponent(id)}/?status=live`, to, from, liveRecord),
      async () => {
        const query = new URLSearchParams({ from_number: digits(from), to_number: digits(to), end_time__gte: plivoTime(since - 5_000), limit: "20" });
        const answer = await this.api("GET", `/Call/?${query}`);
        if (answer.status !== 200) return { kind: "error", detail: `Plivo ${answer.status} listing calls` };
        const objects = Array.isArray(answer.body.objects) ? (answer.body.objects as Json[]) : [];
        const record = objects.filter((o) => sameNumber(o.to_number, to)).map(cdrRecord(null))[0];
        const event = record ? callEventFromRecord(record) : null;
        return event ? { kind: "found", event } : null;
      },
    ]);
  }

  async cancel(callId: string, carrierRef?: string | null): Promise<void> {
    // A call that has a CallUUID is hung up; one still queued or ringing is cancelled by its request id.
    const path = carrierRef ? `/Call/${encodeURIComponent(carrierRef)}/` : `/Request/${encodeURIComponent(callId)}/`;
    await this.api("DELETE", path);
  }
}
