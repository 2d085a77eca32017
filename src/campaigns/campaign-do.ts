import { DurableObject } from "cloudflare:workers";
import { budgetRefusal, getAccountStub } from "../accounts/account-do";
import { nowIso } from "../db/client";
import type { CampaignStatus } from "../db/schema";
import type { Env } from "../env";
import { HEARTBEAT_INTERVAL_MS, isFinal, RECONNECT_HINT_MS, SNAPSHOT_INTERVAL_MS, type Snapshot, STREAM_LIFETIME_MS, snapshotOf, sse } from "./events";
import { decideTransition, type LifecycleAction } from "./lifecycle";
import { loadCampaignRow } from "./store";

interface Subscriber {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  closesAt: number;
}

/** The campaign as this object tracks it; D1 mirrors it after every transition. */
interface CampaignState {
  campaign_id: string;
  account_id: string;
  name: string;
  status: CampaignStatus;
  max_concurrent_calls: number;
  started_at: string | null;
}

export type LifecycleResult = { ok: true } | { ok: false; reason: "not_found" | "conflict"; message: string };

/**
 * One per campaign: owns the campaign's live state machine. Every lifecycle change goes through
 * here, one at a time, so concurrent start/stop/delete requests cannot interleave.
 */
export class CampaignDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly subscribers = new Set<Subscriber>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private lastHeartbeat = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => this.createSchema());
  }

  private createSchema() {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS campaign (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      campaign_id TEXT NOT NULL, account_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
      max_concurrent_calls INTEGER NOT NULL, started_at TEXT)`);
  }

  start(campaignId: string) {
    return this.serially(() => this.transition(campaignId, "start"));
  }
  pause(campaignId: string) {
    return this.serially(() => this.transition(campaignId, "pause"));
  }
  resume(campaignId: string) {
    return this.serially(() => this.transition(campaignId, "resume"));
  }
  stop(campaignId: string) {
    return this.serially(() => this.transition(campaignId, "stop"));
  }
  remove(campaignId: string) {
    return this.serially(() => this.transition(campaignId, "delete"));
  }

  /** Lifecycle calls wait on each other: each one awaits D1 and the AccountDO mid-way. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private readState(): CampaignState | null {
    return (this.sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM campaign").toArray()[0] as CampaignState | undefined) ?? null;
  }

  private writeState(state: CampaignState) {
    this.sql.exec(
      `INSERT OR REPLACE INTO campaign (singleton, campaign_id, account_id, name, status, max_concurrent_calls, started_at)
       VALUES (1, ?, ?, ?, ?, ?, ?)`,
      state.campaign_id,
      state.account_id,
      state.name,
      state.status,
      state.max_concurrent_calls,
      state.started_at,
    );
  }

  /** The object learns its campaign from D1 the first time it is touched. */
  private async hydrate(campaignId: string): Promise<CampaignState | null> {
    const known = this.readState();
    if (known) return known;
    const row = await loadCampaignRow(this.env, campaignId);
    if (!row) return null;
    const state: CampaignState = {
      campaign_id: row.id,
      account_id: row.accountId,
      name: row.name,
      status: row.status,
      max_concurrent_calls: row.maxConcurrentCalls,
      started_at: row.startedAt,
    };
    this.writeState(state);
    return state;
  }

  private async transition(campaignId: string, action: LifecycleAction): Promise<LifecycleResult> {
    const state = await this.hydrate(campaignId);
    if (!state) return { ok: false, reason: "not_found", message: `Campaign ${campaignId} was not found.` };
    const decision = decideTransition(state.status, action);
    if (!decision.ok) return { ok: false, reason: "conflict", message: decision.reason };
    if (!decision.changed) return { ok: true };

    const account = getAccountStub(this.env, state.account_id);
    if (decision.budget === "reserve") {
      const holder = { campaign_id: state.campaign_id, name: state.name, amount: state.max_concurrent_calls };
      const budget = await account.reserveBudget(state.account_id, holder);
      if (!budget.ok) return { ok: false, reason: "conflict", message: budgetRefusal(state.campaign_id, holder.amount, budget) };
    }

    const now = nowIso();
    try {
      if (action === "delete") {
        await this.env.DB.batch([
          this.env.DB.prepare("DELETE FROM contacts WHERE campaign_id = ?").bind(campaignId),
          this.env.DB.prepare("DELETE FROM campaigns WHERE id = ?").bind(campaignId),
        ]);
      } else {
        const next: CampaignState = { ...state, status: decision.to, started_at: state.started_at ?? (decision.to === "running" ? now : null) };
        await this.persistToD1(next, action, now);
        this.writeState(next);
      }
    } catch (error) {
      if (decision.budget === "reserve") await account.releaseBudget(state.campaign_id);
      throw error;
    }

    if (decision.budget === "release") await account.releaseBudget(state.campaign_id);
    await this.broadcast();
    if (action === "delete") {
      await this.ctx.storage.deleteAll();
      this.createSchema();
    }
    return { ok: true };
  }

  /** GET …/events: the SSE stream, served here so every subscriber shares one snapshot per tick. */
  override async fetch(request: Request): Promise<Response> {
    const campaignId = new URL(request.url).searchParams.get("campaign_id") ?? "";
    const snapshot = await this.snapshot(campaignId);
    if (!snapshot) return new Response(`Campaign ${campaignId} was not found.`, { status: 404 });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const headers = { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" };
    void writer.write(sse.retry(RECONNECT_HINT_MS));
    if (isFinal(snapshot)) {
      void writer.write(sse.end(snapshot)).then(() => writer.close());
      return new Response(readable, { headers });
    }
    void writer.write(sse.snapshot(snapshot));
    this.subscribers.add({ writer, closesAt: Date.now() + STREAM_LIFETIME_MS });
    this.ticker ??= setInterval(() => void this.broadcast(), SNAPSHOT_INTERVAL_MS);
    return new Response(readable, { headers });
  }

  private async snapshot(campaignId: string): Promise<Snapshot | null> {
    const row = await loadCampaignRow(this.env, campaignId);
    return row ? snapshotOf(row, { inFlight: 0, attempts: 0 }) : null;
  }

  /** Sends every subscriber the current snapshot; ends all streams once the campaign is terminal. */
  private async broadcast() {
    if (this.subscribers.size === 0) return;
    const state = this.readState();
    const snapshot = state ? await this.snapshot(state.campaign_id) : null;
    const now = Date.now();
    const heartbeat = now - this.lastHeartbeat >= HEARTBEAT_INTERVAL_MS;
    if (heartbeat) this.lastHeartbeat = now;
    for (const subscriber of this.subscribers) {
      const { writer } = subscriber;
      const last = !snapshot || isFinal(snapshot) || now >= subscriber.closesAt;
      const frames = [snapshot && (isFinal(snapshot) ? sse.end(snapshot) : sse.snapshot(snapshot)), heartbeat && !last ? sse.heartbeat() : null];
      // A write error means the client is gone: drop it rather than keep the object busy.
      const sent = Promise.all(frames.filter((f): f is Uint8Array => f !== null).map((f) => writer.write(f)));
      if (last) {
        this.subscribers.delete(subscriber);
        void sent.then(() => writer.close()).catch(() => undefined);
      } else {
        void sent.catch(() => {
          this.subscribers.delete(subscriber);
        });
      }
    }
    if (this.subscribers.size === 0 && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private async persistToD1(next: CampaignState, action: LifecycleAction, now: string) {
    const db = this.env.DB;
    const finishing = action === "stop";
    const update = db
      .prepare(
        `UPDATE campaigns SET status = ?, status_reason = NULL, started_at = ?, updated_at = ?,
           completed_at = CASE WHEN ? THEN ? ELSE completed_at END
         WHERE id = ?`,
      )
      .bind(next.status, next.started_at, now, finishing ? 1 : 0, now, next.campaign_id);
    if (!finishing) {
      await update.run();
      return;
    }
    // Stop: every contact still waiting (including those waiting for a retry) is cancelled, in the same transaction.
    await db.batch([
      update,
      db
        .prepare("UPDATE contacts SET status = 'cancelled', next_attempt_at = NULL, updated_at = ? WHERE campaign_id = ? AND status = 'pending'")
        .bind(now, next.campaign_id),
      db.prepare("UPDATE campaigns SET stat_cancelled = stat_cancelled + stat_pending, stat_pending = 0 WHERE id = ?").bind(next.campaign_id),
    ]);
  }
}

export const getCampaignStub = (env: Env, campaignId: string) => env.CAMPAIGNS.get(env.CAMPAIGNS.idFromName(campaignId));
