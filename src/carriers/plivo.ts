import { type CdrFields, cdrRecord } from "./plivo-events";
import { digits, foundRecord, liveRecord, PlivoFamilyAdapter, sameNumber } from "./plivo-family";
import type { FetchLike, LookupResult, SignedCallback } from "./types";
import { PLIVO_NONCE_HEADER, verifyPlivoCallback } from "./v3-signatures";

export const PLIVO_API_BASE = "https://api.plivo.com";

type Json = Record<string, unknown>;

/** Plivo's call-record filters take "YYYY-MM-DD HH:MM:SS" in UTC. */
const plivoTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

const PLIVO_CDR: CdrFields = { id: "call_uuid", billedSeconds: "bill_duration", durationSeconds: "call_duration", causeNames: ["hangup_cause_name"] };

/**
 * Plivo Voice: JSON REST with Basic auth. The REST answer's request_uuid is the call's id (every
 * callback carries it as RequestUUID); the CallUUID arrives with the first callback and is what
 * the live-call and call-record lookups take.
 */
export class PlivoAdapter extends PlivoFamilyAdapter {
  readonly kind = "plivo" as const;
  protected readonly carrierName = "Plivo";
  protected readonly ringCallbacks = true;
  protected readonly nonceHeader = PLIVO_NONCE_HEADER;

  constructor(credentials: { auth_id: string; auth_token: string }, baseUrl: string, fetcher: FetchLike, requestTimeoutMs?: number) {
    super(credentials, `${baseUrl.replace(/\/$/, "")}/v1`, fetcher, requestTimeoutMs);
  }

  protected authHeaders() {
    return { Authorization: `Basic ${btoa(`${this.credentials.auth_id}:${this.credentials.auth_token}`)}` };
  }

  verifyCallback(callback: SignedCallback): Promise<boolean> {
    return verifyPlivoCallback(this.credentials.auth_token, callback);
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
      () => this.lookup(`/Call/${id(carrierRef)}/`, cdrRecord(PLIVO_CDR, callId)),
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
        return foundRecord(objects.filter((o) => sameNumber(o.to_number, to)).map(cdrRecord(PLIVO_CDR, null))[0]);
      },
    ]);
  }

  async cancel(callId: string, carrierRef?: string | null): Promise<void> {
    // A call that has a CallUUID is hung up; one still queued or ringing is cancelled by its request id.
    const path = carrierRef ? `/Call/${encodeURIComponent(carrierRef)}/` : `/Request/${encodeURIComponent(callId)}/`;
    await this.api("DELETE", path);
  }
}
