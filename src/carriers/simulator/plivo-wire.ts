import {
  newNonce,
  PLIVO_NONCE_HEADER,
  PLIVO_SIGNATURE_HEADER,
  plivoSignature,
  VOBIZ_NONCE_HEADER,
  VOBIZ_SIGNATURE_HEADER,
  vobizSignature,
} from "../v3-signatures";
import { type FamilyStep, familyTimelineFor, outcomeFor } from "./outcomes";

/** The simulator dialects that speak Plivo's wire (Vobiz is a Plivo-compatible carrier). */
export type FamilyDialect = "plivo" | "vobiz";

/** Status and JSON text: RPC carries them as they are. */
export type SimResponse = { status: number; json: string };

type Json = Record<string, unknown>;

const apiId = () => crypto.randomUUID();

/** An error in the carrier's own shape: Plivo {api_id, error}, Vobiz {status, error: {code, message}}. */
export function familyError(dialect: FamilyDialect, status: number, code: string, message: string): SimResponse {
  const body = dialect === "plivo" ? { api_id: apiId(), error: message } : { status: "error", error: { code, message }, timestamp: new Date().toISOString() };
  return { status, json: JSON.stringify(body) };
}

/** A UUID whose first hex digit names the shard, so a lookup by id finds its shard. */
export function shardedUuid(shard: string): string {
  return `${shard}${crypto.randomUUID().slice(1)}`;
}

/** The answer to a create-call request: the carrier has queued the call. */
export function familyCallFired(requestUuid: string): SimResponse {
  return { status: 201, json: JSON.stringify({ api_id: apiId(), message: "call fired", request_uuid: requestUuid }) };
}

export interface FamilyCallPlan {
  to: string;
  from: string;
  ringTimeoutS: number;
  urls: Partial<Record<FamilyStep["role"], { url: string; method: "GET" | "POST" }>>;
}

const methodOf = (raw: unknown): "GET" | "POST" => (String(raw ?? "POST").toUpperCase() === "GET" ? "GET" : "POST");
const text = (raw: unknown) => (typeof raw === "string" ? raw : typeof raw === "number" ? String(raw) : "");

/** Reads a create-call body as the dialect defines it; Vobiz has no ring_url (ringing goes to answer_url). */
export function readCreateCall(dialect: FamilyDialect, body: Json): FamilyCallPlan | SimResponse {
  const to = text(body.to);
  const from = text(body.from);
  const answerUrl = text(body.answer_url);
  if (!to || !from || !answerUrl) return familyError(dialect, 400, "VALIDATION_ERROR", "from, to and answer_url are required");
  if (!/^\+?[1-9]\d{6,14}$/.test(to)) return familyError(dialect, 400, "INVALID_NUMBER", `invalid 'to' number ${to}`);
  const hangupUrl = text(body.hangup_url) || answerUrl;
  const machineUrl = text(body.machine_detection_url);
  const ringTimeout = Number(body.ring_timeout ?? 60);
  const answer = { url: answerUrl, method: methodOf(body.answer_method) };
  return {
    to,
    from,
    ringTimeoutS: Number.isFinite(ringTimeout) && ringTimeout > 0 ? ringTimeout : 60,
    urls: {
      ring: dialect === "plivo" ? (text(body.ring_url) ? { url: text(body.ring_url), method: methodOf(body.ring_method) } : undefined) : answer,
      answer,
      machine: body.machine_detection && machineUrl ? { url: machineUrl, method: methodOf(body.machine_detection_method) } : undefined,
      hangup: { url: hangupUrl, method: methodOf(body.hangup_method) },
    },
  };
}

export interface FamilyDelivery {
  at: number;
  url: string;
  method: "GET" | "POST";
  role: FamilyStep["role"];
  params: Record<string, string>;
}

const EVENTS: Record<FamilyStep["role"], string> = { ring: "Ring", answer: "StartApp", machine: "MachineDetection", hangup: "Hangup" };

/** Every request the call will make, by outcome, in the dialect's order; steps without a URL are not sent. */
export function familyDeliveries(plan: FamilyCallPlan, ids: { callUuid: string; requestUuid: string }): FamilyDelivery[] {
  const out: FamilyDelivery[] = [];
  for (const step of familyTimelineFor(outcomeFor(plan.to), plan.ringTimeoutS)) {
    const target = plan.urls[step.role];
    if (!target) continue;
    const params: Record<string, string> = {
      CallUUID: ids.callUuid,
      RequestUUID: ids.requestUuid,
      From: plan.from.replace(/^\+/, ""),
      To: plan.to.replace(/^\+/, ""),
      Direction: "outbound",
      CallStatus: step.status,
      Event: EVENTS[step.role],
    };
    if (step.role === "machine") params.Machine = step.machine ? "true" : "false";
    if (step.role === "hangup") {
      params.HangupCause = step.cause?.name ?? "Normal Hangup";
      params.HangupCauseCode = String(step.cause?.code ?? 4000);
      params.HangupSource = step.status === "completed" ? "Callee" : "Carrier";
      params.Duration = String(step.duration ?? 0);
      params.BillDuration = String(step.duration ?? 0);
      if (step.machine) params.Machine = "true";
    }
    out.push({ at: step.at, url: target.url, method: target.method, role: step.role, params });
  }
  return out;
}

/** The transfer-call body (legs=aleg, aleg_url): where the live call's A leg fetches its next document. */
export function readTransfer(dialect: FamilyDialect, body: Json): { url: string; method: "GET" | "POST" } | SimResponse {
  const url = text(body.aleg_url);
  if (text(body.legs) !== "aleg" || !url)
    return familyError(dialect, 400, "VALIDATION_ERROR", "legs=aleg with an aleg_url is the only transfer this carrier takes here");
  return { url, method: methodOf(body.aleg_method) };
}

export const callTransferred = (): SimResponse => ({ status: 202, json: JSON.stringify({ api_id: apiId(), message: "call transferred" }) });

/** The request a transferred or redirected call makes for its next document, as its answer request looked. */
export function documentRequestParams(call: FamilyCallRow, event: "Redirect" | "Transfer"): Record<string, string> {
  return {
    CallUUID: call.sid,
    RequestUUID: call.request_uuid,
    From: call.from_number.replace(/^\+/, ""),
    To: call.to_number.replace(/^\+/, ""),
    Direction: "outbound",
    CallStatus: "in-progress",
    Event: event,
  };
}

const unescapeXml = (value: string) =>
  value.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[name] as string);

/** A document's <Wait length> then <Redirect>: the carrier waits that long, then fetches the redirect's URL. */
export function redirectOf(document: string): { afterS: number; url: string; method: "GET" | "POST" } | null {
  const redirect = /<Redirect([^>]*)>([^<]+)<\/Redirect>/.exec(document);
  if (!redirect) return null;
  const waits = [...document.matchAll(/<Wait[^>]*length="(\d+)"/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  return { afterS: waits, url: unescapeXml((redirect[2] as string).trim()), method: /method="GET"/i.test(redirect[1] ?? "") ? "GET" : "POST" };
}

/** A cancelled call's pending hangup request, rewritten as the carrier reports a cancel. */
export function cancelledHangupParams(params: Record<string, string>): Record<string, string> {
  const cancelled: Record<string, string> = {
    ...params,
    CallStatus: "cancel",
    HangupCause: "Canceled",
    HangupCauseCode: "1000",
    Duration: "0",
    BillDuration: "0",
  };
  delete cancelled.Machine;
  return cancelled;
}

/** The request as the carrier sends it: form body (or query for GET), V3 signature and a fresh nonce. */
export async function signedFamilyRequest(dialect: FamilyDialect, authToken: string, url: string, method: "GET" | "POST", params: Record<string, string>) {
  const pairs = Object.entries(params);
  const target = method === "GET" ? `${url}${url.includes("?") ? "&" : "?"}${new URLSearchParams(pairs)}` : url;
  const nonce = newNonce();
  const headers: Record<string, string> = { "User-Agent": `${dialect === "plivo" ? "PlivoHTTP" : "VobizHTTP"}/1.0 (edgedial simulator)` };
  if (dialect === "plivo") {
    headers[PLIVO_SIGNATURE_HEADER] = await plivoSignature(authToken, method, target, method === "GET" ? [] : pairs, nonce);
    headers[PLIVO_NONCE_HEADER] = nonce;
  } else {
    headers[VOBIZ_SIGNATURE_HEADER] = await vobizSignature(authToken, target, nonce);
    headers[VOBIZ_NONCE_HEADER] = nonce;
  }
  if (method === "GET") return new Request(target, { method, headers });
  return new Request(target, { method, headers: { ...headers, "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(pairs) });
}

export interface FamilyCallRow {
  sid: string;
  request_uuid: string;
  to_number: string;
  from_number: string;
  status: string;
  created_at: number;
  duration: number;
  hangup_cause: string | null;
  hangup_code: number | null;
  answered_at: number | null;
  ended_at: number | null;
}

const LIVE = new Set(["ringing", "in-progress"]);
const FINAL = new Set(["completed", "busy", "no-answer", "failed", "cancel", "timeout"]);
const plivoTime = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace("T", " ").slice(0, 19));

const isLive = (row: FamilyCallRow) => LIVE.has(row.status);
const isQueued = (row: FamilyCallRow) => row.status === "queued";
export const isFinished = (row: FamilyCallRow) => FINAL.has(row.status);

/** Which calls a lookup or listing asks for: live ones, queued ones, or finished ones (their records). */
export type FamilyLookup = "live" | "queued" | "record";

const matches = (row: FamilyCallRow, lookup: FamilyLookup) => (lookup === "live" ? isLive(row) : lookup === "queued" ? isQueued(row) : isFinished(row));

/** One call in a listing; record is the call's record JSON in the dialect's shape. */
export interface ListedCall {
  live_id: string;
  queued_id: string;
  created_at: number;
  ended_at: number | null;
  record: string;
}

/** The calls a listing shows, optionally by destination and caller id (digits only, as the carriers compare them). */
export function familyListing(rows: (FamilyCallRow & { dialect: string })[], lookup: FamilyLookup, to: string | null, from: string | null): ListedCall[] {
  const digits = (n: string | null) => (n === null ? null : n.replace(/\D/g, ""));
  return rows
    .filter((row) => (to === null || digits(row.to_number) === digits(to)) && (from === null || digits(row.from_number) === digits(from)))
    .filter((row) => matches(row, lookup))
    .map((row) => ({
      live_id: row.sid,
      queued_id: row.request_uuid,
      created_at: row.created_at,
      ended_at: row.ended_at,
      record: JSON.stringify(recordView(row.dialect as FamilyDialect, row)),
    }));
}

/** GET Call/{id}/: live and queued calls by status, finished ones as their record, anything else not found. */
export function familyLookupResponse(dialect: FamilyDialect, row: FamilyCallRow | undefined, id: string, lookup: FamilyLookup): SimResponse {
  if (!row || !matches(row, lookup)) return familyError(dialect, 404, "NOT_FOUND", `call ${id} not found`);
  if (lookup !== "record") return { status: 200, json: JSON.stringify(liveView(row)) };
  const record = recordView(dialect, row);
  return { status: 200, json: JSON.stringify(dialect === "vobiz" ? { success: true, data: record } : { api_id: apiId(), ...record }) };
}

/** A live or queued call as GET Call/{id}/?status=live|queued describes it. */
function liveView(row: FamilyCallRow): Json {
  return {
    api_id: apiId(),
    call_status: row.status,
    call_uuid: row.sid,
    request_uuid: row.request_uuid,
    direction: "outbound",
    from: row.from_number.replace(/^\+/, ""),
    to: row.to_number.replace(/^\+/, ""),
    caller_name: row.from_number,
    session_start: plivoTime(row.created_at),
  };
}

/** A finished call's record: Plivo's GET Call/{uuid}/ object, or Vobiz's cdr data item. */
function recordView(dialect: FamilyDialect, row: FamilyCallRow): Json {
  if (dialect === "plivo") {
    return {
      call_uuid: row.sid,
      from_number: row.from_number.replace(/^\+/, ""),
      to_number: row.to_number.replace(/^\+/, ""),
      call_direction: "outbound",
      answer_time: plivoTime(row.answered_at),
      initiation_time: plivoTime(row.created_at),
      end_time: plivoTime(row.ended_at),
      call_duration: row.duration,
      bill_duration: row.duration,
      hangup_cause_name: row.hangup_cause,
      hangup_cause_code: row.hangup_code,
      hangup_source: row.status === "completed" ? "Callee" : "Carrier",
    };
  }
  return {
    uuid: row.sid,
    caller_id_number: row.from_number.replace(/^\+/, ""),
    destination_number: row.to_number.replace(/^\+/, ""),
    call_direction: "outbound",
    start_time: new Date(row.created_at).toISOString(),
    answer_time: row.answered_at === null ? null : new Date(row.answered_at).toISOString(),
    end_time: row.ended_at === null ? null : new Date(row.ended_at).toISOString(),
    duration: row.duration,
    billsec: row.duration,
    hangup_cause_name: row.hangup_cause,
    hangup_cause_code: row.hangup_code,
  };
}
