import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";
import { ownOrigin } from "../own-origin";
import { fetcherFor } from "../registry";
import { twilioSignature } from "../twilio";
import type { FetchLike } from "../types";
import { outcomeFor, timelineFor } from "./outcomes";
import {
  type FamilyCallRow,
  type FamilyDialect,
  familyDeliveries,
  familyError,
  isFinished,
  isLive,
  isQueued,
  liveView,
  readCreateCall,
  recordView,
  type SimResponse,
  shardedUuid,
  signedFamilyRequest,
} from "./plivo-wire";
import { createSimulatorSchema, recordFamilyStatus } from "./simulator-store";

export interface CreateCallInput {
  accountSid: string;
  authToken: string;
  form: [string, string][];
}

export type { SimResponse };

export interface CreateFamilyCallInput {
  dialect: FamilyDialect;
  authId: string;
  authToken: string;
  body: Record<string, unknown>;
}

export type FamilyLookup = "live" | "queued" | "record";

/** One call in a listing; record is the call's record JSON in the dialect's shape. */
export interface ListedCall {
  live_id: string;
  queued_id: string;
  created_at: number;
  ended_at: number | null;
  record: string;
}

interface CallRow {
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

type Row = Record<string, SqlStorageValue>;

const PROGRESS_EVENTS: Record<string, string> = { initiated: "initiated", ringing: "ringing", "in-progress": "answered" };

const twilioError = (status: number, code: number, message: string): SimResponse => ({
  status,
  json: JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }),
});

const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace("GMT", "+0000");

/**
 * A Twilio-compatible carrier for local use and tests. Each call's status callbacks are rows with
 * a due time, delivered in order by the alarm (or at once when the time scale is 0), signed
 * exactly as Twilio signs them.
 */
export class SimulatorDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private delivering = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      createSimulatorSchema(this.sql);
    });
  }

  private get scale(): number {
    const value = Number(this.env.SIMULATOR_TIME_SCALE ?? "1");
    return Number.isFinite(value) && value >= 0 ? value : 1;
  }

  async createCall({ accountSid, authToken, form }: CreateCallInput, shard: string): Promise<SimResponse> {
    const get = (name: string) => form.find(([k]) => k === name)?.[1];
    const to = get("To");
    const from = get("From");
    if (!to || !from) return twilioError(400, 21201, "No 'To' or 'From' number is specified");
    if (!get("Url") && !get("Twiml")) return twilioError(400, 21205, "Url parameter is required.");
    if (!/^\+[1-9]\d{6,14}$/.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const outcome = outcomeFor(to);
    if (outcome === "invalid_number") return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);

    const now = Date.now();
    const sid = `CA${shard}${[...crypto.getRandomValues(new Uint8Array(16))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("")
      .slice(1)}`;
    const requested = new Set(form.filter(([k]) => k === "StatusCallbackEvent").map(([, v]) => v));
    const callbackUrl = get("StatusCallback");
    const ringTimeout = Number(get("Timeout") ?? "60");
    this.sql.exec(
      "INSERT INTO calls (sid, account_sid, to_number, from_number, status, outcome, created_at, auth_token) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
      sid,
      accountSid,
      to,
      from,
      outcome,
      now,
      authToken,
    );
    if (callbackUrl) {
      let sequence = 0;
      for (const step of timelineFor(outcome, Number.isFinite(ringTimeout) ? ringTimeout : 60)) {
        const progress = PROGRESS_EVENTS[step.status];
        // Progress events only when asked for; final statuses always reach StatusCallback.
        if (progress && !requested.has(progress)) continue;
        const params: Record<string, string> = {
          AccountSid: accountSid,
          ApiVersion: "2010-04-01",
          CallSid: sid,
          CallStatus: step.status,
          CallbackSource: "call-progress-events",
          Direction: "outbound-api",
          From: from,
          To: to,
          SequenceNumber: String(sequence++),
          ...step.extra,
        };
        this.sql.exec(
          "INSERT INTO deliveries (sid, due_at, url, params) VALUES (?, ?, ?, ?)",
          sid,
          now + step.at * 1000 * this.scale,
          callbackUrl,
          JSON.stringify(params),
        );
      }
      await this.deliverFrom(now);
    }
    return { status: 201, json: JSON.stringify(this.resource(this.call(sid) as CallRow)) };
  }

  /** POST …/Account/{auth_id}/Call/ in Plivo's or Vobiz's format; the call's requests follow by the same digits table. */
  async createFamilyCall({ dialect, authId, authToken, body }: CreateFamilyCallInput, shard: string): Promise<SimResponse> {
    const plan = readCreateCall(dialect, body);
    if ("status" in plan) return plan;
    const now = Date.now();
    const callUuid = shardedUuid(shard);
    // Vobiz's request_uuid is the call's uuid; Plivo's are two ids.
    const requestUuid = dialect === "vobiz" ? callUuid : shardedUuid(shard);
    this.sql.exec(
      `INSERT INTO calls (sid, account_sid, to_number, from_number, status, outcome, created_at, auth_token, dialect, request_uuid)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
      callUuid,
      authId,
      plan.to,
      plan.from,
      outcomeFor(plan.to),
      now,
      authToken,
      dialect,
      requestUuid,
    );
    for (const delivery of familyDeliveries(plan, { callUuid, requestUuid })) {
      this.sql.exec(
        "INSERT INTO deliveries (sid, due_at, url, params, method, role) VALUES (?, ?, ?, ?, ?, ?)",
        callUuid,
        now + delivery.at * 1000 * this.scale,
        delivery.url,
        JSON.stringify(delivery.params),
        delivery.method,
        delivery.role,
      );
    }
    await this.deliverFrom(now);
    return { status: 201, json: JSON.stringify({ api_id: crypto.randomUUID(), message: "call fired", request_uuid: requestUuid }) };
  }

  /** GET a call by CallUUID or request_uuid: live and queued calls by status, finished ones as their record. */
  async familyCall(dialect: FamilyDialect, authId: string, id: string, lookup: FamilyLookup): Promise<SimResponse> {
    const row = this.familyRow(authId, id);
    const shown = row && (lookup === "live" ? isLive(row) : lookup === "queued" ? isQueued(row) : isFinished(row));
    if (!row || !shown) return familyError(dialect, 404, "NOT_FOUND", `call ${id} not found`);
    if (lookup !== "record") return { status: 200, json: JSON.stringify(liveView(row)) };
    const record = recordView(dialect, row);
    return { status: 200, json: JSON.stringify(dialect === "vobiz" ? { success: true, data: record } : { api_id: crypto.randomUUID(), ...record }) };
  }

  /** Calls of this account for the listing endpoints (newest first), optionally by destination and caller id. */
  async familyCalls(authId: string, lookup: FamilyLookup, to: string | null, from: string | null): Promise<ListedCall[]> {
    const digits = (n: string | null) => (n === null ? null : n.replace(/\D/g, ""));
    const rows = this.sql
      .exec<Row>("SELECT * FROM calls WHERE account_sid = ? ORDER BY created_at DESC LIMIT 200", authId)
      .toArray() as unknown as (FamilyCallRow & { dialect: string })[];
    return rows
      .filter((row) => (to === null || digits(row.to_number) === digits(to)) && (from === null || digits(row.from_number) === digits(from)))
      .filter((row) => (lookup === "live" ? isLive(row) : lookup === "queued" ? isQueued(row) : isFinished(row)))
      .map((row) => ({
        live_id: row.sid,
        queued_id: row.request_uuid,
        created_at: row.created_at,
        ended_at: row.ended_at,
        record: JSON.stringify(recordView(row.dialect as FamilyDialect, row)),
      }));
  }

  /** DELETE Call/{uuid}/ or Request/{uuid}/: the call ends as cancelled and its pending requests become one hangup. */
  async cancelFamilyCall(dialect: FamilyDialect, authId: string, id: string): Promise<SimResponse> {
    const row = this.familyRow(authId, id);
    if (!row || isFinished(row)) return familyError(dialect, 404, "NOT_FOUND", `call ${id} not found`);
    const hangup = this.sql.exec<Row>("SELECT url, method, params FROM deliveries WHERE sid = ? AND role = 'hangup' LIMIT 1", row.sid).toArray()[0];
    this.sql.exec("DELETE FROM deliveries WHERE sid = ?", row.sid);
    if (hangup) {
      const params: Record<string, string> = JSON.parse(String(hangup.params));
      Object.assign(params, { CallStatus: "cancel", HangupCause: "Canceled", HangupCauseCode: "1000", Duration: "0", BillDuration: "0" });
      delete params.Machine;
      this.sql.exec(
        "INSERT INTO deliveries (sid, due_at, url, params, method, role) VALUES (?, ?, ?, ?, ?, 'hangup')",
        row.sid,
        Date.now(),
        hangup.url,
        JSON.stringify(params),
        hangup.method,
      );
      await this.deliverFrom(Date.now());
    }
    return { status: 204, json: "" };
  }

  private familyRow(authId: string, id: string): FamilyCallRow | undefined {
    return this.sql.exec<Row>("SELECT * FROM calls WHERE account_sid = ? AND (sid = ? OR request_uuid = ?) LIMIT 1", authId, id, id).toArray()[0] as unknown as
      | FamilyCallRow
      | undefined;
  }

  async getCall(accountSid: string, sid: string): Promise<SimResponse> {
    const call = this.call(sid);
    if (!call || call.account_sid !== accountSid) return twilioError(404, 20404, `The requested resource ${sid} was not found`);
    return { status: 200, json: JSON.stringify(this.resource(call)) };
  }

  async listCalls(accountSid: string, to: string | null, from: string | null): Promise<ReturnType<SimulatorDO["resource"]>[]> {
    const rows = this.sql
      .exec<Row>(
        "SELECT * FROM calls WHERE account_sid = ? AND (? IS NULL OR to_number = ?) AND (? IS NULL OR from_number = ?) ORDER BY created_at DESC LIMIT 50",
        accountSid,
        to,
        to,
        from,
        from,
      )
      .toArray() as unknown as CallRow[];
    return rows.map((r) => this.resource(r));
  }

  /** Every call this shard carried, oldest first (for tests and benchmarks); sid is the id the REST answer gave. */
  async carried(): Promise<{ sid: string; to: string; status: string; created_at: number; call_uuid: string; answer_doc: string | null }[]> {
    return this.sql
      .exec<Row>("SELECT sid, request_uuid, to_number, status, created_at, answer_doc FROM calls ORDER BY created_at")
      .toArray()
      .map((r) => ({
        sid: String(r.request_uuid ?? r.sid),
        call_uuid: String(r.sid),
        to: String(r.to_number),
        status: String(r.status),
        created_at: Number(r.created_at),
        answer_doc: r.answer_doc === null ? null : String(r.answer_doc),
      }));
  }

  /** When the next callback is due, if any. */
  async nextAlarm(): Promise<number | null> {
    return this.ctx.storage.getAlarm();
  }

  override async alarm(): Promise<void> {
    await this.deliverDue();
  }

  private call(sid: string): CallRow | undefined {
    return this.sql.exec<Row>("SELECT * FROM calls WHERE sid = ?", sid).toArray()[0] as unknown as CallRow | undefined;
  }

  private resource(call: CallRow) {
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

  /**
   * Callbacks go out from the alarm: work left running after createCall had answered would
   * outlive its invocation (the runtime cancels it, and `wrangler dev` reports every such call).
   * While an alarm delivers, it arms the next one on its way out; otherwise the alarm is only ever
   * moved earlier, never later or away, so an alarm invocation already on its way is not
   * cancelled under it.
   */
  private async deliverFrom(dueAt: number) {
    if (this.delivering) return;
    const armed = await this.ctx.storage.getAlarm();
    if (armed === null || armed > dueAt) await this.ctx.storage.setAlarm(dueAt);
  }

  /**
   * Sends one batch of due callbacks, each call's in order (failed ones are retried a few times),
   * then arms for the rest: a busy shard runs many short alarm invocations, not one endless one.
   */
  private async deliverDue() {
    if (this.delivering) return;
    this.delivering = true;
    try {
      const fetcher = fetcherFor(this.env, ownOrigin(this.env));
      const due = this.sql.exec<Row>("SELECT * FROM deliveries WHERE due_at <= ? ORDER BY due_at, id LIMIT 200", Date.now()).toArray();
      const bySid = new Map<string, Row[]>();
      for (const row of due) bySid.set(String(row.sid), [...(bySid.get(String(row.sid)) ?? []), row]);
      await Promise.all([...bySid.values()].map((rows) => this.deliverInOrder(fetcher, rows)));
    } finally {
      const next = this.sql.exec<Row>("SELECT min(due_at) AS at FROM deliveries").one().at;
      this.delivering = false;
      if (next !== null) await this.ctx.storage.setAlarm(Number(next));
    }
  }

  /** The callback as the call's carrier sends it, signed the way that carrier signs. */
  private async callbackRequest(call: CallRow | undefined, row: Row, params: Record<string, string>): Promise<Request> {
    const authToken = call?.auth_token ?? "";
    const url = String(row.url);
    if (call && call.dialect !== "twilio")
      return signedFamilyRequest(call.dialect as FamilyDialect, authToken, url, row.method === "GET" ? "GET" : "POST", params);
    params.Timestamp = rfc2822(Date.now());
    const pairs = Object.entries(params);
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

  private async deliverInOrder(fetcher: FetchLike, rows: Row[]) {
    const call = this.call(String(rows[0]?.sid));
    for (const row of rows) {
      const params = JSON.parse(String(row.params)) as Record<string, string>;
      if (call?.dialect && call.dialect !== "twilio") recordFamilyStatus(this.sql, call.sid, params);
      else this.recordStatus(params);
      let ok = false;
      try {
        const res = await fetcher(await this.callbackRequest(call, row, params));
        // The answer request expects the carrier's XML back: keep it, so a test can read what the call was told to do.
        if (row.role === "answer" && res.ok && params.Event !== "Ring") {
          this.sql.exec("UPDATE calls SET answer_doc = ? WHERE sid = ?", (await res.text()).slice(0, 4000), call?.sid ?? "");
        } else await res.body?.cancel();
        ok = res.status < 500;
      } catch {
        ok = false;
      }
      const attempts = Number(row.attempts) + 1;
      if (ok || attempts >= 4) {
        this.sql.exec("DELETE FROM deliveries WHERE id = ?", row.id);
      } else {
        // Like Twilio, try a failed callback again a little later; later events of the call wait behind it.
        const retryAt = Date.now() + 1000 * attempts;
        this.sql.exec("UPDATE deliveries SET attempts = ?, due_at = ? WHERE id = ?", attempts, retryAt, row.id);
        this.sql.exec("UPDATE deliveries SET due_at = max(due_at, ?) WHERE sid = ? AND id > ?", retryAt, row.sid, row.id);
        return;
      }
    }
  }

  private recordStatus(params: Record<string, string>) {
    this.sql.exec(
      "UPDATE calls SET status = ?, duration = ?, answered_by = coalesce(?, answered_by) WHERE sid = ?",
      params.CallStatus ?? "queued",
      Number(params.CallDuration ?? 0),
      params.AnsweredBy ?? null,
      params.CallSid ?? "",
    );
  }
}

/** Calls are spread over shards by destination, so a lookup by To and a lookup by sid find one shard. */
export const SIMULATOR_SHARDS = 8;

export function shardFor(to: string): string {
  let hash = 0;
  for (let i = 0; i < to.length; i++) hash = (hash * 31 + to.charCodeAt(i)) >>> 0;
  return (hash % SIMULATOR_SHARDS).toString(16);
}

export const getSimulatorStub = (env: Env, accountSid: string, shard: string) => env.SIMULATOR.get(env.SIMULATOR.idFromName(`${accountSid}:${shard}`));
