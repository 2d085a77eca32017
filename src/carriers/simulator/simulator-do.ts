import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";
import { meteredEnv } from "../../usage/meter";
import { ownOrigin } from "../own-origin";
import { fetcherFor } from "../registry";
import type { FetchLike } from "../types";
import { answerParameters } from "./answer-parameters";
import { outcomeFor, refusesTransfer } from "./outcomes";
import {
  callTransferred,
  cancelledHangupParams,
  documentRequestParams,
  type FamilyCallRow,
  type FamilyDialect,
  type FamilyLookup,
  familyCallFired,
  familyDeliveries,
  familyError,
  familyListing,
  familyLookupResponse,
  isFinished,
  type ListedCall,
  readCreateCall,
  readTransfer,
  redirectOf,
  type SimResponse,
  shardedUuid,
  signedFamilyRequest,
} from "./plivo-wire";
import { createSimAgentSchema, planSimAgentReport, simAgentRequest } from "./sim-agent";
import {
  callBySid,
  createSimulatorSchema,
  familyCallById,
  insertCall,
  insertDelivery,
  recordFamilyStatus,
  recordTwilioStatus,
  twilioCallsOf,
} from "./simulator-store";
import {
  readTwilioCreateCall,
  shardedCallSid,
  signedTwilioRequest,
  type TwilioCallRow,
  type TwilioResource,
  twilioDeliveries,
  twilioError,
  twilioResource,
} from "./twilio-wire";

export interface CreateCallInput {
  accountSid: string;
  authToken: string;
  form: [string, string][];
}

export interface CreateFamilyCallInput {
  dialect: FamilyDialect;
  authId: string;
  authToken: string;
  body: Record<string, unknown>;
}

export type { FamilyLookup, ListedCall, SimResponse };

type Row = Record<string, SqlStorageValue>;

/**
 * A carrier for local use and tests, speaking Twilio's, Plivo's or Vobiz's wire (twilio-wire.ts,
 * plivo-wire.ts). Each call's callbacks are rows with a due time, delivered in order by the alarm
 * (or at once when the time scale is 0), signed exactly as that carrier signs them.
 */
export class SimulatorDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private delivering = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, meteredEnv(env));
    // The object's own work is metered too when the cost benchmark asks for it (src/usage/meter.ts).
    env = this.env;
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      createSimulatorSchema(this.sql);
      createSimAgentSchema(this.sql);
    });
  }

  private get scale(): number {
    const value = Number(this.env.SIMULATOR_TIME_SCALE ?? "1");
    return Number.isFinite(value) && value >= 0 ? value : 1;
  }

  async createCall({ accountSid, authToken, form }: CreateCallInput, shard: string): Promise<SimResponse> {
    const plan = readTwilioCreateCall(form);
    if ("status" in plan) return plan;
    const now = Date.now();
    const sid = shardedCallSid(shard);
    insertCall(this.sql, { sid, accountSid, to: plan.to, from: plan.from, outcome: plan.outcome, createdAt: now, authToken });
    if (plan.callbackUrl) {
      for (const delivery of twilioDeliveries(plan, { sid, accountSid })) insertDelivery(this.sql, sid, now + delivery.at * 1000 * this.scale, delivery);
      await this.deliverFrom(now);
    }
    return { status: 201, json: JSON.stringify(twilioResource(callBySid(this.sql, sid) as TwilioCallRow)) };
  }

  /** POST …/Account/{auth_id}/Call/ in Plivo's or Vobiz's format; the call's requests follow by the same digits table. */
  async createFamilyCall({ dialect, authId, authToken, body }: CreateFamilyCallInput, shard: string): Promise<SimResponse> {
    const plan = readCreateCall(dialect, body);
    if ("status" in plan) return plan;
    const now = Date.now();
    const callUuid = shardedUuid(shard);
    // Vobiz's request_uuid is the call's uuid; Plivo's are two ids.
    const requestUuid = dialect === "vobiz" ? callUuid : shardedUuid(shard);
    insertCall(this.sql, {
      sid: callUuid,
      accountSid: authId,
      to: plan.to,
      from: plan.from,
      outcome: outcomeFor(plan.to),
      createdAt: now,
      authToken,
      dialect,
      requestUuid,
    });
    for (const delivery of familyDeliveries(plan, { callUuid, requestUuid }))
      insertDelivery(this.sql, callUuid, now + delivery.at * 1000 * this.scale, delivery);
    await this.deliverFrom(now);
    return familyCallFired(requestUuid);
  }

  /** GET a call by CallUUID or request_uuid: live and queued calls by status, finished ones as their record. */
  async familyCall(dialect: FamilyDialect, authId: string, id: string, lookup: FamilyLookup): Promise<SimResponse> {
    return familyLookupResponse(dialect, familyCallById(this.sql, authId, id), id, lookup);
  }

  /** Calls of this account for the listing endpoints (newest first), optionally by destination and caller id. */
  async familyCalls(authId: string, lookup: FamilyLookup, to: string | null, from: string | null): Promise<ListedCall[]> {
    const rows = this.sql
      .exec<Row>("SELECT * FROM calls WHERE account_sid = ? ORDER BY created_at DESC LIMIT 200", authId)
      .toArray() as unknown as (FamilyCallRow & { dialect: string })[];
    return familyListing(rows, lookup, to, from);
  }

  /** DELETE Call/{uuid}/ or Request/{uuid}/: the call ends as cancelled and its pending requests become one hangup. */
  async cancelFamilyCall(dialect: FamilyDialect, authId: string, id: string): Promise<SimResponse> {
    const row = familyCallById(this.sql, authId, id);
    if (!row || isFinished(row)) return familyError(dialect, 404, "NOT_FOUND", `call ${id} not found`);
    const hangup = this.sql.exec<Row>("SELECT url, method, params FROM deliveries WHERE sid = ? AND role = 'hangup' LIMIT 1", row.sid).toArray()[0];
    this.sql.exec("DELETE FROM deliveries WHERE sid = ?", row.sid);
    if (hangup) {
      const params = cancelledHangupParams(JSON.parse(String(hangup.params)));
      insertDelivery(this.sql, row.sid, Date.now(), { url: String(hangup.url), params, method: hangup.method === "GET" ? "GET" : "POST", role: "hangup" });
      await this.deliverFrom(Date.now());
    }
    return { status: 204, json: "" };
  }

  /** POST Call/{uuid}/ with legs=aleg: the live call drops its document (and any pending redirect) and fetches aleg_url now. */
  async transferFamilyCall(dialect: FamilyDialect, authId: string, id: string, body: Record<string, unknown>): Promise<SimResponse> {
    const row = familyCallById(this.sql, authId, id);
    if (row?.status !== "in-progress") return familyError(dialect, 404, "NOT_FOUND", `no live call ${id}`);
    const target = readTransfer(dialect, body);
    if ("status" in target) return target;
    if (refusesTransfer(row.to_number)) return familyError(dialect, 400, "TRANSFER_REFUSED", `call ${id} cannot be transferred now`);
    this.sql.exec("DELETE FROM deliveries WHERE sid = ? AND role = 'answer'", row.sid);
    insertDelivery(this.sql, row.sid, Date.now(), { ...target, params: documentRequestParams(row, "Transfer"), role: "answer" });
    await this.deliverFrom(Date.now());
    return callTransferred();
  }

  async getCall(accountSid: string, sid: string): Promise<SimResponse> {
    const call = callBySid(this.sql, sid);
    if (!call || call.account_sid !== accountSid) return twilioError(404, 20404, `The requested resource ${sid} was not found`);
    return { status: 200, json: JSON.stringify(twilioResource(call)) };
  }

  async listCalls(accountSid: string, to: string | null, from: string | null): Promise<TwilioResource[]> {
    return twilioCallsOf(this.sql, accountSid, to, from).map(twilioResource);
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

  /**
   * The parameters of the answer documents stored for calls after `after` (a rowid, in creation
   * order), and the cursor for the next listing: it stops before the first call that may still
   * fetch one (its requests are not all sent), so a poller never skips a document still to come.
   */
  async answersAfter(after: number, limit: number): Promise<{ parameters: Record<string, string>[]; cursor: number }> {
    const rows = this.sql
      .exec<Row>(
        `SELECT rowid AS seq, answer_doc, EXISTS (SELECT 1 FROM deliveries d WHERE d.sid = calls.sid) AS pending
         FROM calls WHERE rowid > ? ORDER BY rowid LIMIT ?`,
        after,
        limit,
      )
      .toArray();
    const parameters: Record<string, string>[] = [];
    let cursor = after;
    for (const row of rows) {
      if (row.answer_doc === null && row.pending) break;
      cursor = Number(row.seq);
      if (row.answer_doc !== null) parameters.push(answerParameters(String(row.answer_doc)));
    }
    return { parameters, cursor };
  }

  /** When the next callback is due, if any. */
  async nextAlarm(): Promise<number | null> {
    return this.ctx.storage.getAlarm();
  }

  override async alarm(): Promise<void> {
    await this.deliverDue();
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
  private callbackRequest(call: TwilioCallRow | undefined, row: Row, params: Record<string, string>): Promise<Request> {
    const authToken = call?.auth_token ?? "";
    const url = String(row.url);
    if (call && call.dialect !== "twilio")
      return signedFamilyRequest(call.dialect as FamilyDialect, authToken, url, row.method === "GET" ? "GET" : "POST", params);
    return signedTwilioRequest(authToken, url, params);
  }

  /** A human-answered call streamed to `sim://agent` gets its result from the simulated agent, mid-call (sim-agent.ts). */
  private listenAsAgent(call: TwilioCallRow, document: string) {
    if (!HUMAN_OUTCOMES.has(call.outcome)) return;
    const report = planSimAgentReport(this.sql, call, document, this.scale);
    if (!report) return;
    const params = { body: JSON.stringify(report.body) };
    insertDelivery(this.sql, call.sid, Date.now() + report.after, { url: report.url, params, role: AGENT_ROLE });
  }

  /** The agent's result goes through the public result_url like any agent's; a refusal is final, as it would be for the agent. */
  private async sendAgentResult(fetcher: FetchLike, row: Row, params: Record<string, string>) {
    try {
      const res = await fetcher(simAgentRequest(String(row.url), params.body ?? "{}"));
      await res.body?.cancel();
    } catch {
      // An agent that cannot reach edgedial reports nothing; the call goes on.
    }
    this.sql.exec("DELETE FROM deliveries WHERE id = ?", row.id);
  }

  /** A Plivo-family document that ends in <Redirect> has the call fetch that URL once its <Wait>s are over. */
  private followRedirect(call: FamilyCallRow, document: string) {
    const redirect = redirectOf(document);
    if (!redirect) return;
    const dueAt = Date.now() + redirect.afterS * 1000 * this.scale;
    insertDelivery(this.sql, call.sid, dueAt, { url: redirect.url, method: redirect.method, params: documentRequestParams(call, "Redirect"), role: "answer" });
  }

  private async deliverInOrder(fetcher: FetchLike, rows: Row[]) {
    const call = callBySid(this.sql, String(rows[0]?.sid));
    for (const row of rows) {
      const params = JSON.parse(String(row.params)) as Record<string, string>;
      if (row.role === AGENT_ROLE) {
        await this.sendAgentResult(fetcher, row, params);
        continue;
      }
      if (call?.dialect && call.dialect !== "twilio") recordFamilyStatus(this.sql, call.sid, params);
      else recordTwilioStatus(this.sql, params);
      let ok = false;
      try {
        const res = await fetcher(await this.callbackRequest(call, row, params));
        // The answer request expects the carrier's XML back: keep it, so a test can read what the call was told to do.
        if (row.role === "answer" && res.ok && params.Event !== "Ring") {
          const document = (await res.text()).slice(0, 4000);
          this.sql.exec("UPDATE calls SET answer_doc = ? WHERE sid = ?", document, call?.sid ?? "");
          if (call) this.listenAsAgent(call, document);
          if (call && call.dialect !== "twilio") this.followRedirect(call as unknown as FamilyCallRow, document);
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
}

/** A delivery row that is the simulated agent's result, not a carrier request. */
const AGENT_ROLE = "agent";
const HUMAN_OUTCOMES = new Set(["answered", "long_call"]);

/** Calls are spread over shards by destination, so a lookup by To and a lookup by sid find one shard. */
export const SIMULATOR_SHARDS = 8;

export function shardFor(to: string): string {
  let hash = 0;
  for (let i = 0; i < to.length; i++) hash = (hash * 31 + to.charCodeAt(i)) >>> 0;
  return (hash % SIMULATOR_SHARDS).toString(16);
}

export const getSimulatorStub = (env: Env, accountSid: string, shard: string) =>
  (env.SIMULATOR as DurableObjectNamespace<SimulatorDO>).get(env.SIMULATOR.idFromName(`${accountSid}:${shard}`));
