import { DurableObject } from "cloudflare:workers";
import { ownOrigin } from "../carriers/own-origin";
import { fetcherFor } from "../carriers/registry";
import { CONTACT_POLICY_KEY, type ContactPolicy, NO_CONTACT_POLICY } from "../contact-policy/policy";
import type { Env } from "../env";
import { newId } from "../ids";
import { Outbox } from "../outbox/outbox";
import type { HandedOverMessage } from "../outbox/outbox-store";
import { meterAlarm, meteredEnv } from "../usage/meter";
import { type IdempotencyClaim, IdempotencyStore, type KeptResponse } from "./idempotency-store";
import { type CallLimits, limitsView, loadAccount } from "./limits";
import { advanceTat, type Grant, nextUtcMidnight, PACING_WINDOW_MS, rateAllowance, utcDay } from "./pacing";

export interface BudgetHolder {
  campaign_id: string;
  name: string;
  amount: number;
}

export type BudgetResult = { ok: true } | { ok: false; cap: number; held: number; holders: BudgetHolder[] };

interface SlotRelease {
  leaseId: string;
  talkSeconds: number;
}

export interface SettleRequest {
  campaignId: string;
  release: SlotRelease[];
  want: number;
}

export interface SettleResult {
  leases: string[];
  /** Why fewer than `want` were granted, and when asking again can help. */
  blocked: { reason: string; retryAt: number } | null;
}

/** A slot lease lapses unless its campaign renews it, so a crashed campaign cannot hold slots forever. */
export const LEASE_TTL_MS = 5 * 60_000;
/** Limits are re-read from D1 at most this often on the dispatch path (budget checks always re-read). */
const LIMITS_TTL_MS = 2_000;
/** How soon to ask again when every slot of the account is in use. */
const SLOT_POLL_MS = 500;
/** Shards of the contact ledger a new account gets; stored on first use so it never changes under the account. */
const CONTACT_LEDGER_SHARDS = 4;

type Row = Record<string, SqlStorageValue>;

/**
 * One per account: the arbiter of limits shared by its campaigns. Every decision below is made
 * with no await between reading and writing the state, so concurrent callers are served in order.
 */
export class AccountDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private limits: { value: CallLimits; at: number } | null = null;
  /** Account-level webhook messages (the test ping); its deliveries are this object's only timer. */
  private readonly outbox: Outbox;
  /** The account's Idempotency-Key answers: this object is per account and single-threaded, so a claim is atomic. */
  private readonly idempotency: IdempotencyStore;
  /** The alarm as last set by this instance (undefined until read from storage once). */
  private armedAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, meteredEnv(env));
    // The object's own work is metered too when the cost benchmark asks for it (src/usage/meter.ts).
    env = this.env;
    this.sql = ctx.storage.sql;
    this.idempotency = new IdempotencyStore(ctx.storage.sql);
    this.outbox = new Outbox(ctx.storage.sql, {
      env,
      fetch: (input, init) => fetcherFor(env, ownOrigin(env))(input, init),
      wake: () => void this.armAlarm(),
    });
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS reservations (
        campaign_id TEXT PRIMARY KEY, name TEXT NOT NULL, amount INTEGER NOT NULL, reserved_at INTEGER NOT NULL)`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS leases (
        lease_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, acquired_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`);
      this.sql.exec("CREATE TABLE IF NOT EXISTS grants (at INTEGER NOT NULL, count INTEGER NOT NULL)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value)");
      this.outbox.createSchema();
      this.idempotency.createSchema();
    });
  }

  /** Before a tenant request with an Idempotency-Key runs: one call, which holds the key or answers for it. */
  async claimIdempotencyKey(key: string, fingerprint: string): Promise<IdempotencyClaim> {
    return this.idempotency.claim(key, fingerprint, crypto.randomUUID(), Date.now());
  }

  /** After it ran: its answer is kept for replay, or (null: a 5xx, too large to keep) the key is freed. */
  async settleIdempotencyKey(key: string, claim: string, response: KeptResponse | null): Promise<void> {
    if (response) this.idempotency.keep(key, claim, response, Date.now());
    else this.idempotency.release(key, claim);
  }

  /** POST /webhooks/{id}/test: a ping through this account's outbox, delivered like any message. */
  async sendWebhookPing(accountId: string, endpointId: string): Promise<string> {
    this.outbox.setAccount(accountId);
    const messageId = this.outbox.enqueue({ type: "ping", data: { endpoint_id: endpointId }, at: Date.now() }, endpointId) as string;
    await this.armAlarm();
    return messageId;
  }

  /** A campaign about to be deleted hands over the webhook messages it has not delivered yet. */
  async adoptWebhookMessages(accountId: string, messages: HandedOverMessage[]): Promise<void> {
    this.outbox.setAccount(accountId);
    this.outbox.adopt(messages);
    await this.armAlarm();
  }

  /** The outbox's queue for operators and tests; `settle` first waits for requests in flight. */
  async webhookOutbox(options: { settle?: boolean } = {}) {
    if (options.settle) await this.outbox.idle();
    return { ...this.outbox.inspect(), alarm: await this.ctx.storage.getAlarm() };
  }

  override async alarm(): Promise<void> {
    meterAlarm(this.env, "account");
    this.armedAt = null;
    // The pass ends when its requests have answered; the next one may start meanwhile (see Outbox.pump).
    this.ctx.waitUntil(this.outbox.pump());
    await this.armAlarm();
  }

  /** One alarm, at the outbox's next due time. */
  private async armAlarm() {
    this.armedAt ??= await this.ctx.storage.getAlarm();
    const due = this.outbox.nextDueAt();
    if (due === this.armedAt) return;
    this.armedAt = due;
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(due);
  }

  /** The account's contact policy (PUT /contact-policy writes it here); no rule until the account sets one. The ledger's shards read it once, then get pushes. */
  async contactPolicy(): Promise<ContactPolicy> {
    return (await this.ctx.storage.get<ContactPolicy>(CONTACT_POLICY_KEY)) ?? NO_CONTACT_POLICY;
  }

  /** Replaces the account's contact policy; the route pushes it to the ledger shards after this returns. */
  async setContactPolicy(policy: ContactPolicy): Promise<void> {
    await this.ctx.storage.put(CONTACT_POLICY_KEY, policy);
  }

  /** Reserves `amount` of concurrent_max for a campaign about to run; idempotent per campaign. */
  async reserveBudget(accountId: string, holder: BudgetHolder): Promise<BudgetResult> {
    const account = await loadAccount(this.env, accountId);
    const cap = account?.concurrentMax ?? 0;
    const holders = this.sql
      .exec<{ campaign_id: string; name: string; amount: number }>(
        "SELECT campaign_id, name, amount FROM reservations WHERE campaign_id != ? ORDER BY reserved_at",
        holder.campaign_id,
      )
      .toArray();
    const held = holders.reduce((sum, h) => sum + h.amount, 0);
    if (held + holder.amount > cap) return { ok: false, cap, held, holders };
    this.sql.exec(
      "INSERT OR REPLACE INTO reservations (campaign_id, name, amount, reserved_at) VALUES (?, ?, ?, ?)",
      holder.campaign_id,
      holder.name,
      holder.amount,
      Date.now(),
    );
    return { ok: true };
  }

  async releaseBudget(campaignId: string): Promise<void> {
    this.sql.exec("DELETE FROM reservations WHERE campaign_id = ?", campaignId);
  }

  /** One call per dispatch tick: returns finished calls' slots, then leases up to `want` new ones. */
  async settle(accountId: string, request: SettleRequest): Promise<SettleResult> {
    const limits = await this.currentLimits(accountId);
    const now = Date.now();
    this.rollDay(now);
    for (const { leaseId, talkSeconds } of request.release) {
      this.sql.exec("DELETE FROM leases WHERE lease_id = ?", leaseId);
      // Talk time counts even when the lease had lapsed: the call happened.
      if (talkSeconds > 0) this.bump("seconds_today", talkSeconds);
    }
    this.sql.exec("DELETE FROM leases WHERE expires_at <= ?", now);
    this.sql.exec("DELETE FROM grants WHERE at <= ?", now - PACING_WINDOW_MS);
    if (request.want <= 0) return { leases: [], blocked: null };

    const inFlight = this.count("SELECT count(*) AS n FROM leases");
    const bySlots = limits.concurrent_max - inFlight;
    const byCalls = limits.daily_calls_max - this.counter("calls_today");
    const byMinutes = limits.daily_minutes_max * 60 - this.counter("seconds_today") > 0 ? Number.POSITIVE_INFINITY : 0;
    const window = this.sql
      .exec<{ used: number; oldest: number | null }>(
        "SELECT coalesce(sum(count), 0) AS used, min(at) AS oldest FROM grants WHERE at > ?",
        now - PACING_WINDOW_MS,
      )
      .one();
    const rate = rateAllowance(
      { used: Number(window.used), oldestAt: window.oldest === null ? null : Number(window.oldest) },
      this.counter("tat"),
      now,
      limits.calls_per_minute,
    );
    const granted = Math.max(0, Math.min(request.want, bySlots, byCalls, byMinutes, rate.allowed));

    const leases: string[] = [];
    for (let i = 0; i < granted; i++) {
      const leaseId = newId("call");
      this.sql.exec(
        "INSERT INTO leases (lease_id, campaign_id, acquired_at, expires_at) VALUES (?, ?, ?, ?)",
        leaseId,
        request.campaignId,
        now,
        now + LEASE_TTL_MS,
      );
      leases.push(leaseId);
    }
    if (granted > 0) {
      this.sql.exec("INSERT INTO grants (at, count) VALUES (?, ?)", now, granted);
      this.setCounter("tat", advanceTat(this.counter("tat"), now, granted, limits.calls_per_minute));
      this.bump("calls_today", granted);
      this.setCounter("high_water", Math.max(this.counter("high_water"), inFlight + granted));
    }
    if (granted >= request.want) return { leases, blocked: null };
    return { leases, blocked: this.blockReason(limits, { bySlots, byCalls, byMinutes, rate }, now) };
  }

  /** Keeps the slots of calls still in progress; answers the lease ids it no longer knows. */
  async renewLeases(leaseIds: string[]): Promise<string[]> {
    const expiresAt = Date.now() + LEASE_TTL_MS;
    const lost: string[] = [];
    for (const leaseId of leaseIds) {
      const renewed = this.sql.exec("UPDATE leases SET expires_at = ? WHERE lease_id = ? RETURNING lease_id", expiresAt, leaseId).toArray();
      if (renewed.length === 0) lost.push(leaseId);
    }
    return lost;
  }

  /** How many shards the account's contact ledger has: fixed the first time it is asked. */
  async contactLedgerShards(): Promise<number> {
    const stored = await this.ctx.storage.get<number>("contact-ledger-shards");
    if (stored !== undefined) return stored;
    await this.ctx.storage.put("contact-ledger-shards", CONTACT_LEDGER_SHARDS);
    return CONTACT_LEDGER_SHARDS;
  }

  /** What the account holds now; for status pages and tests. */
  async usage() {
    const now = Date.now();
    this.rollDay(now);
    return {
      in_flight: this.count("SELECT count(*) AS n FROM leases WHERE expires_at > ?", now),
      high_water: this.counter("high_water"),
      calls_today: this.counter("calls_today"),
      talk_seconds_today: this.counter("seconds_today"),
      grants: this.sql.exec<{ at: number; count: number }>("SELECT at, count FROM grants ORDER BY at").toArray() as Grant[],
      reservations: this.sql.exec<{ campaign_id: string; amount: number }>("SELECT campaign_id, amount FROM reservations").toArray(),
    };
  }

  private blockReason(
    limits: CallLimits,
    by: { bySlots: number; byCalls: number; byMinutes: number; rate: { allowed: number; retryAt: number | null } },
    now: number,
  ): { reason: string; retryAt: number } {
    if (by.byCalls <= 0) {
      return {
        reason: `Waiting: the account's daily_calls_max of ${limits.daily_calls_max} is used up; dialing resumes after midnight UTC.`,
        retryAt: nextUtcMidnight(now),
      };
    }
    if (by.byMinutes <= 0) {
      return {
        reason: `Waiting: the account's daily_minutes_max of ${limits.daily_minutes_max} talk minutes is used up; dialing resumes after midnight UTC.`,
        retryAt: nextUtcMidnight(now),
      };
    }
    if (by.bySlots <= 0) {
      return { reason: `Waiting: all ${limits.concurrent_max} of the account's concurrent call slots are in use.`, retryAt: now + SLOT_POLL_MS };
    }
    if (limits.calls_per_minute <= 0) {
      return { reason: "Waiting: the account's calls_per_minute is 0, which blocks dialing.", retryAt: now + 60_000 };
    }
    return { reason: `Pacing to the account's calls_per_minute of ${limits.calls_per_minute}.`, retryAt: by.rate.retryAt ?? now + 1_000 };
  }

  private async currentLimits(accountId: string): Promise<CallLimits> {
    if (this.limits && Date.now() - this.limits.at < LIMITS_TTL_MS) return this.limits.value;
    const account = await loadAccount(this.env, accountId);
    const value = account ? limitsView(account) : { concurrent_max: 0, calls_per_minute: 0, daily_calls_max: 0, daily_minutes_max: 0 };
    this.limits = { value, at: Date.now() };
    return value;
  }

  /** Daily counters belong to one UTC day and start again at midnight. */
  private rollDay(now: number) {
    const today = utcDay(now);
    const stored = this.sql.exec<Row>("SELECT value FROM counters WHERE name = 'day'").toArray()[0]?.value;
    if (stored === today) return;
    this.sql.exec("INSERT OR REPLACE INTO counters (name, value) VALUES ('day', ?), ('calls_today', 0), ('seconds_today', 0)", today);
  }

  private count(query: string, ...params: SqlStorageValue[]): number {
    return Number(this.sql.exec<Row>(query, ...params).one().n);
  }

  private counter(name: string): number {
    return Number(this.sql.exec<Row>("SELECT value FROM counters WHERE name = ?", name).toArray()[0]?.value ?? 0);
  }

  private setCounter(name: string, value: number) {
    this.sql.exec("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", name, value);
  }

  private bump(name: string, by: number) {
    this.setCounter(name, this.counter(name) + by);
  }
}
