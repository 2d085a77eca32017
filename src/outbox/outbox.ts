import type { FetchLike } from "../carriers/types";
import { monotonicIds } from "../ids";
import { StartBudget } from "./budget";
import { sendSigned } from "./deliver";
import { type DeliveryEndpoint, EndpointCache, subscribersOf } from "./endpoint-cache";
import { messageBody, type OutboxMessage } from "./event-types";
import { type HandedOverMessage, type LeasedDelivery, OutboxStore, type RecordedAttempt } from "./outbox-store";
import { flushStatements } from "./outbox-sync";
import { DELIVERY_TIMEOUT_MS, retryDelayMs } from "./schedule";

/** What a host object lends its outbox. */
export interface OutboxHost {
  env: { DB: D1Database; SECRETS_KEY?: string; SIMULATOR_ENABLED?: string };
  fetch: FetchLike;
  /** The outbox's due time may have moved outside the host's own code: the host re-arms its alarm from `nextDueAt()`. */
  wake: () => void;
  /** Whether the host is dialling now: its deliveries then take fewer requests in flight (dialling comes first). */
  dialling?: () => boolean;
}

/**
 * The budget that keeps a large fan-out steady without starving the host: at most `maxInFlight`
 * requests at once (`maxInFlightWhileDialling` while the host dials), started at most
 * `startsPerSecond` (in bursts of `burst`). Each pass starts at
 * most what the budget allows and ends when its requests have answered (10 s at worst); the host
 * keeps its invocation open for it (waitUntil) but never waits for it, and the next pass is the
 * host's next alarm. No work outlives the invocation that started it.
 */
export const OUTBOX_LIMITS = {
  maxInFlight: 32,
  /**
   * While its campaign dials, an object keeps fewer requests open: calls come first, and 12 at a
   * time still carry far more than a campaign's real rate of finished calls. The rest wait for
   * the dial-out to end, then leave at the full rate.
   */
  maxInFlightWhileDialling: 12,
  startsPerSecond: 320,
  burst: 32,
  /** Runs start at least this far apart: each host invocation carries a batch, not a message. */
  passIntervalMs: 100,
  /** A run keeps starting passes for at most this long, so no invocation's work grows without bound. */
  runMs: 2_000,
  /** Longer than the request timeout: a request lost in a crash is sent again after it. */
  leaseMs: DELIVERY_TIMEOUT_MS + 5_000,
  /** Delivery state reaches D1 at most this often, in one batch. */
  flushIntervalMs: 1_000,
  flushBatch: 1_000,
  routeBatch: 1_000,
  /** After a failed pass (D1 unreachable), wait this long before the next. */
  errorBackoffMs: 5_000,
};

/** What nextDueAt needs from storage, read once per change rather than once per call (hosts arm often). */
interface Summary {
  unrouted: boolean;
  earliestDue: number | null;
  dirty: boolean;
}

export class Outbox {
  private readonly store: OutboxStore;
  private readonly endpoints: EndpointCache;
  private readonly budget = new StartBudget(OUTBOX_LIMITS.startsPerSecond, OUTBOX_LIMITS.burst);
  /** Requests in flight by message id + endpoint id, with their start time and promise. */
  private readonly sending = new Map<string, { at: number; task: Promise<void> }>();
  /** Attempts answered and not yet written: a pass writes its attempts together once they have all answered. */
  private answered: RecordedAttempt[] = [];
  /** Routing and flushing, one at a time; requests are started outside it. */
  private housekeeping: { at: number; task: Promise<void> } | null = null;
  private flushing: Promise<void> | null = null;
  private lastFlushAt = 0;
  private lastPassAt = 0;
  private retryAt = 0;
  private sent = 0;
  private sendMs = 0;
  private runs = 0;
  private passes = 0;
  private account: string | undefined;
  private summary: Summary | null = null;
  /** Message ids sort by creation, so the delivery log's "newest first" holds within a millisecond too. */
  private readonly nextMessageId = monotonicIds("msg");

  constructor(
    sql: SqlStorage,
    private readonly host: OutboxHost,
  ) {
    this.store = new OutboxStore(sql);
    this.endpoints = new EndpointCache(host.env);
  }

  createSchema() {
    this.store.createSchema();
    this.summary = null;
  }

  /** The account whose endpoints receive this object's messages; persisted, since a cold alarm knows nothing else. */
  setAccount(accountId: string) {
    if (this.account === accountId) return;
    this.store.setAccountId(accountId);
    this.account = accountId;
  }

  /**
   * Records a message in the caller's storage transaction (synchronous: call it inside the
   * transition it reports). Subscribers come from the endpoint list if it is fresh; otherwise the
   * next pass routes it. `onlyEndpoint` sends to one endpoint whatever it subscribes to (the test ping).
   * Answers the message id, or null when no endpoint wants the message (nothing is written).
   */
  enqueue(message: OutboxMessage, onlyEndpoint?: string): string | null {
    const now = Date.now();
    let targets: string[] | null;
    if (onlyEndpoint) {
      targets = [onlyEndpoint];
      // The endpoint may be newer than this object's copy of the list.
      this.endpoints.invalidate();
    } else {
      const endpoints = this.endpoints.fresh(now);
      targets = endpoints ? subscribersOf(endpoints, message.type) : null;
      if (targets?.length === 0) return null;
    }
    const id = this.nextMessageId(now);
    this.store.insertMessage(id, message.type, messageBody(message), now, targets);
    // Kept up to date rather than re-read: enqueue runs on the host's hot path, and the host arms right after.
    if (this.summary) {
      if (targets) this.summary = { ...this.summary, earliestDue: Math.min(this.summary.earliestDue ?? now, now), dirty: true };
      else this.summary = { ...this.summary, unrouted: true };
    }
    return id;
  }

  /** Whether an endpoint takes this type: true or false from a fresh list, null when the list is stale. */
  wants(type: string, now = Date.now()): boolean | null {
    const endpoints = this.endpoints.fresh(now);
    return endpoints ? subscribersOf(endpoints, type).length > 0 : null;
  }

  /** Reads the account's endpoints again if the copy is older than its TTL. */
  async refreshEndpoints(): Promise<void> {
    const accountId = this.accountId();
    if (accountId) await this.endpoints.refresh(accountId, Date.now());
  }

  /** Deliveries still to make here (for back-pressure on large fan-outs). */
  pendingDeliveries(): number {
    return this.store.pendingCount();
  }

  /** When the host's alarm should next run a pass for the outbox, or null when nothing waits. */
  nextDueAt(now = Date.now()): number | null {
    this.summary ??= { unrouted: this.store.hasUnrouted(), earliestDue: this.store.earliestDue(), dirty: this.store.hasDirty() };
    const { unrouted, earliestDue, dirty } = this.summary;
    // A pass that is routing or flushing wakes the host when it is done; meanwhile only a crash guard.
    if (this.housekeeping && now - this.housekeeping.at < OUTBOX_LIMITS.leaseMs) return now + OUTBOX_LIMITS.leaseMs;
    const candidates: number[] = [];
    if (unrouted) candidates.push(now);
    if (earliestDue !== null) {
      // With every slot busy, each finishing pass wakes the host; the alarm stays armed only as a crash guard.
      const full = this.inFlightCount(now) >= this.inFlightCap();
      const next = Math.max(earliestDue, this.budget.nextAt(now), this.lastPassAt + OUTBOX_LIMITS.passIntervalMs);
      candidates.push(full ? Math.max(earliestDue, now + OUTBOX_LIMITS.leaseMs) : next);
    }
    if (dirty) candidates.push(this.lastFlushAt + OUTBOX_LIMITS.flushIntervalMs);
    if (candidates.length === 0) return null;
    return Math.max(Math.min(...candidates), this.retryAt);
  }

  /**
   * One run: passes of routing, starting due requests within the budget and flushing to D1 when
   * due, each pass waiting for its requests to answer, until nothing more may start or the run has
   * lasted `runMs`. A host hands the promise to `ctx.waitUntil` and returns: the run belongs to the
   * invocation that started it, and its next one is the host's next alarm. Never throws.
   */
  async pump(): Promise<void> {
    const until = Date.now() + OUTBOX_LIMITS.runMs;
    this.runs++;
    for (;;) {
      let started: Promise<void>[] = [];
      try {
        await this.housekeep();
        const endpoints = this.endpoints.fresh(Date.now());
        if (endpoints && this.retryAt <= Date.now()) started = this.startDue(endpoints);
      } catch (error) {
        this.retryAt = Date.now() + OUTBOX_LIMITS.errorBackoffMs;
        console.error("webhook outbox pass failed", error);
      }
      this.host.wake();
      if (started.length === 0) return;
      this.passes++;
      await Promise.allSettled(started);
      this.recordAnswered();
      if (Date.now() >= until) {
        this.host.wake();
        return;
      }
    }
  }

  /** Routing (after a D1 read of the endpoints when stale) and the D1 flush; a second caller shares the running one. */
  private housekeep(): Promise<void> {
    const now = Date.now();
    // A pass stuck past the lease (its invocation gone) no longer blocks the next.
    if (this.housekeeping && now - this.housekeeping.at < OUTBOX_LIMITS.leaseMs) return this.housekeeping.task;
    const task = this.routeAndFlush().finally(() => {
      if (this.housekeeping?.task === task) this.housekeeping = null;
    });
    this.housekeeping = { at: now, task };
    return task;
  }

  /**
   * Moves every message, with its deliveries as they stand, to another outbox (`adopt` there):
   * a host about to wipe its storage hands over what it has not delivered yet.
   */
  async handOver(send: (batch: HandedOverMessage[]) => Promise<void>, batchSize = 500): Promise<number> {
    await this.idle();
    let moved = 0;
    for (;;) {
      const batch = this.store.exportMessages(batchSize);
      if (batch.length === 0) return moved;
      await send(batch);
      this.store.deleteMessages(batch.map((m) => m.id));
      this.summary = null;
      moved += batch.length;
    }
  }

  /** Takes over messages another outbox handed over; they are delivered, and reach D1, like this outbox's own. */
  adopt(messages: HandedOverMessage[]) {
    this.store.importMessages(messages);
    this.summary = null;
  }

  /** Resolves once no pass, request or flush is running (tests and benchmarks). */
  async idle(): Promise<void> {
    for (;;) {
      this.recordAnswered();
      const running = [this.housekeeping?.task, this.flushing, ...[...this.sending.values()].map((s) => s.task)].filter((p): p is Promise<void> => p != null);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  inspect() {
    this.recordAnswered();
    return {
      ...this.store.counts(),
      in_flight: this.inFlightCount(Date.now()),
      sent: this.sent,
      runs: this.runs,
      passes: this.passes,
      mean_send_ms: this.sent === 0 ? null : Math.round(this.sendMs / this.sent),
      next_due_at: this.nextDueAt(),
    };
  }

  private accountId(): string | null {
    this.account ??= this.store.accountId() ?? undefined;
    return this.account ?? null;
  }

  private async routeAndFlush() {
    const now = Date.now();
    const accountId = this.accountId();
    if (!accountId) return;
    if (this.store.hasUnrouted() || (this.store.earliestDue() ?? Number.POSITIVE_INFINITY) <= now) {
      const endpoints = await this.endpoints.refresh(accountId, now);
      for (const message of this.store.unrouted(OUTBOX_LIMITS.routeBatch)) this.store.route(message.id, subscribersOf(endpoints, message.type), now);
      this.summary = null;
    }
    if (this.store.hasDirty() && Date.now() >= this.lastFlushAt + OUTBOX_LIMITS.flushIntervalMs) await this.flush(accountId);
  }

  /** How many requests may be open at once now. */
  private inFlightCap(): number {
    return this.host.dialling?.() ? OUTBOX_LIMITS.maxInFlightWhileDialling : OUTBOX_LIMITS.maxInFlight;
  }

  /** Requests started less than a lease ago that have not answered (older ones were lost with their invocation). */
  private inFlightCount(now: number): number {
    let count = 0;
    for (const [key, { at }] of this.sending) {
      if (now - at < OUTBOX_LIMITS.leaseMs) count++;
      else this.sending.delete(key);
    }
    return count;
  }

  /** Starts as many due deliveries as the in-flight cap and the start budget allow; answers their promises. */
  private startDue(endpoints: ReadonlyMap<string, DeliveryEndpoint>): Promise<void>[] {
    const now = Date.now();
    const room = this.budget.take(this.inFlightCap() - this.inFlightCount(now), now);
    if (room === 0) return [];
    this.lastPassAt = now;
    const leased = this.store.leaseDue(now, room, OUTBOX_LIMITS.leaseMs);
    this.summary = null;
    const started: Promise<void>[] = [];
    for (const delivery of leased) {
      // A request that outlived its lease is still ours: its lease was just renewed, it is not sent twice.
      const key = `${delivery.message_id} ${delivery.endpoint_id}`;
      if (this.sending.has(key)) continue;
      const endpoint = endpoints.get(delivery.endpoint_id);
      if (!endpoint) {
        this.store.dropEndpoint(delivery.endpoint_id);
        continue;
      }
      if (!endpoint.enabled) {
        this.store.failPendingOf(endpoint.id, `Not sent: the endpoint is disabled. ${endpoint.disabledReason ?? ""}`.trim(), now);
        continue;
      }
      const task: Promise<void> = this.deliver(delivery, endpoint).finally(() => {
        if (this.sending.get(key)?.task === task) this.sending.delete(key);
      });
      this.sending.set(key, { at: now, task });
      started.push(task);
    }
    return started;
  }

  /**
   * One signed POST; its outcome is written with the rest of its pass (recordAnswered). Until then
   * the delivery stays leased, so nothing sends it again; a crash in between sends it again after
   * the lease, as a crash during the request would (deliveries are at least once).
   */
  private async deliver(delivery: LeasedDelivery, endpoint: DeliveryEndpoint) {
    const started = Date.now();
    const outcome = await sendSigned(this.host.fetch, endpoint, delivery.message_id, delivery.body);
    const now = Date.now();
    this.sent++;
    this.sendMs += now - started;
    this.answered.push({ delivery, outcome, nextAttemptAt: outcome.ok ? null : now + retryDelayMs(delivery.attempts + 1), at: now });
  }

  /** Writes the attempts answered so far in one statement. */
  private recordAnswered() {
    if (this.answered.length === 0) return;
    const attempts = this.answered;
    this.answered = [];
    this.store.recordAttempts(attempts);
    this.summary = null;
  }

  private flush(accountId: string): Promise<void> {
    this.flushing ??= this.writeToD1(accountId).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async writeToD1(accountId: string) {
    const now = Date.now();
    const deliveries = this.store.dirtyDeliveries(OUTBOX_LIMITS.flushBatch);
    const health = this.store.dirtyHealth();
    if (deliveries.length === 0 && health.length === 0) return;
    const { statements, disableFrom } = flushStatements(this.host.env.DB, accountId, deliveries, health, now);
    const results = await this.host.env.DB.batch<{ id: string; disabled_reason: string }>(statements);
    this.lastFlushAt = Date.now();
    this.store.markFlushed(deliveries, health);
    for (const result of results.slice(disableFrom)) {
      for (const row of result.results) {
        this.endpoints.markDisabled(row.id, row.disabled_reason);
        this.store.failPendingOf(row.id, `Not sent: the endpoint was disabled. ${row.disabled_reason}`, this.lastFlushAt);
      }
    }
    this.summary = null;
  }
}
