import { type CdrFields, cdrRecord } from "./plivo-events";
import { digits, foundRecord, liveRecord, PlivoFamilyAdapter, sameNumber } from "./plivo-family";
import type { FetchLike, LookupResult, SignedCallback } from "./types";
import { VOBIZ_NONCE_HEADER, verifyVobizCallback } from "./v3-signatures";

export const VOBIZ_API_BASE = "https://api.vobiz.ai";

type Json = Record<string, unknown>;

/** Vobiz's cdr endpoints name the call's id uuid, and some records give the cause's name as hangup_cause. */
const VOBIZ_CDR: CdrFields = { id: "uuid", billedSeconds: "billsec", durationSeconds: "duration", causeNames: ["hangup_cause_name", "hangup_cause"] };

/**
 * Vobiz: Plivo's REST shape under /api/v1 with X-Auth-ID / X-Auth-Token headers. Its request_uuid
 * and CallUUID are the same id. No ring_url: ringing and the answer (StartApp) come to answer_url as
 * events, the end of the call to hangup_url. Its V3 signature covers only the URL path and the nonce,
 * so the callback path itself carries an HMAC of the attempt id (checked by the webhook route).
 */
export class VobizAdapter extends PlivoFamilyAdapter {
  readonly kind = "vobiz" as const;
  protected readonly carrierName = "Vobiz";
  protected readonly ringCallbacks = false;
  protected readonly nonceHeader = VOBIZ_NONCE_HEADER;

  constructor(credentials: { auth_id: string; auth_token: string }, baseUrl: string, fetcher: FetchLike, requestTimeoutMs?: number) {
    super(credentials, `${baseUrl.replace(/\/$/, "")}/api/v1`, fetcher, requestTimeoutMs);
  }

  protected authHeaders() {
    return { "X-Auth-ID": this.credentials.auth_id, "X-Auth-Token": this.credentials.auth_token };
  }

  verifyCallback(callback: SignedCallback): Promise<boolean> {
    return verifyVobizCallback(this.credentials.auth_token, callback);
  }

  fetchStatus(callId: string, carrierRef?: string | null): Promise<LookupResult> {
    const uuid = encodeURIComponent(carrierRef || callId);
    const keepId = (body: Json) => liveRecord({ ...body, request_uuid: callId });
    return this.firstFound([
      () => this.lookup(`/Call/${uuid}?status=live`, keepId),
      () => this.lookup(`/Call/${uuid}/?status=queued`, keepId),
      () => this.lookup(`/cdr/${uuid}`, (body) => cdrRecord(VOBIZ_CDR, callId)((body.data ?? body) as Json)),
    ]);
  }

  findCall(to: string, from: string, since: number): Promise<LookupResult> {
    return this.firstFound([
      () => this.matchListed("/Call?status=live", (id) => `/Call/${encodeURIComponent(id)}?status=live`, to, from, liveRecord),
      () => this.matchListed("/Call/?status=queued", (id) => `/Call/${encodeURIComponent(id)}/?status=queued`, to, from, liveRecord),
      async () => {
        const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
        const query = new URLSearchParams({
          from_number: digits(from),
          to_number: digits(to),
          start_date: day(since - 86_400_000),
          end_date: day(Date.now() + 86_400_000),
          per_page: "20",
        });
        const answer = await this.api("GET", `/cdr?${query}`);
        if (answer.status !== 200) return { kind: "error", detail: `Vobiz ${answer.status} listing call records` };
        const rows = Array.isArray(answer.body.data) ? (answer.body.data as Json[]) : [];
        const recent = rows.filter((row) => {
          const started = Date.parse(String(row.start_time ?? ""));
          // One-second timestamps and clock skew: allow a few seconds before the attempt.
          return sameNumber(row.destination_number, to) && (Number.isNaN(started) || started >= since - 5_000);
        });
        return foundRecord(recent.map(cdrRecord(VOBIZ_CDR, null))[0]);
      },
    ]);
  }

  async cancel(callId: string, carrierRef?: string | null): Promise<void> {
    await this.api("DELETE", `/Call/${encodeURIComponent(carrierRef || callId)}`);
  }
}
