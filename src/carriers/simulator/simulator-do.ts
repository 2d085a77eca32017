import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";
import { ownOrigin } from "../own-origin";
import { fetcherFor } from "../registry";
import { twilioSignature } from "../twilio";
import type { FetchLike } from "../types";
import { outcomeFor, timelineFor } from "./outcomes";

export interface CreateCallInput {
  accountSid: string;
  authToken: string;
  form: [string, string][];
}

/** Status and JSON text: RPC carries them as they are. */
export type SimResponse = { status: number; json: string };

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
      this.sql.exec(`CREATE TABLE IF NOT EXISTS calls (
        sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, to_number TEXT NOT NULL, from_number TEXT NOT NULL,
        status TEXT NOT NULL, outcome TEXT NOT NULL, created_at INTEGER NOT NULL, duration INTEGER NOT NULL DEFAULT 0,
        answered_by TEXT, auth_token TEXT NOT NULL)`);
      this.sql.exec("CREATE INDEX IF NOT EXISTS calls_to ON calls (to_number, created_at)");
      this.sql.exec(`CREATE TABLE IF NOT EXISTS deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT, sid TEXT NOT NULL, due_at INTEGER NOT NULL, url TEXT NOT NULL,
        params TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)`);
      this.sql.exec("CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due_at, id)");
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

  /** Every call this shard carried, oldest first (for tests and benchmarks). */
  async carried(): Promise<{ sid: string; to: string; status: string; created_at: number }[]> {
    return this.sql
      .exec<Row>("SELECT sid, to_number, status, created_at FROM calls ORDER BY created_at")
      .toArray()
      .map((r) => ({ sid: String(r.sid), to: String(r.to_number), status: String(r.status), created_at: Number(r.created_at) }));
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

  private async deliverInOrder(fetcher: FetchLike, rows: Row[]) {
    const authToken = String((this.call(String(rows[0]?.sid)) as unknown as Row | undefined)?.auth_token ?? "");
    for (const row of rows) {
      const params = JSON.parse(String(row.params)) as Record<string, string>;
      params.Timestamp = rfc2822(Date.now());
      this.recordStatus(params);
      const pairs = Object.entries(params);
      const url = String(row.url);
      const signature = await twilioSignature(authToken, url, pairs);
      let ok = false;
      try {
        const res = await fetcher(url, {
          method: "POST",
          headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1 (edgedial simulator)",
          },
          body: new URLSearchParams(pairs),
        });
        await res.body?.cancel();
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
