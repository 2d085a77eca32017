import type { FetchLike } from "../carriers/types";
import { monotonicIds } from "../ids";
import { type DeliveryEndpoint, EndpointCache, subscribersOf } from "./endpoint-cache";
import { messageBody, type OutboxMessage } from "./event-types";
import { type HandedOverMessage, type LeasedDelivery, OutboxStore } from "./outbox-store";
import { flushStatements } from "./outbox-sync";
import { DELIVERY_TIMEOUT_MS, type DeliveryOutcome, outcomeOfError, outcomeOfResponse, retryDelayMs } from "./schedule";
import { webhookHeaders } from "./signing";
import { checkWebhookUrl, urlPolicyFor } from "./url-policy";

/** What a host object lends its outbox. */
export interface OutboxHost {
  env: { DB: D1Database; SECRETS_KEY?: string; SIMULATOR_ENABLED?: string };
  fetch: FetchLike;
  /** A request finished outside the host's own code: the host re-arms its alarm from `nextDueAt()`. */
  wake: () => void;
}

/**
 * The budget that keeps a large fan-out steady without starving the host: at most `maxInFlight`
 * requests at once, at most `perPass` started by one pass, passes at least `passIntervalMs` apart.
 * The host's alarm only starts requests (it never waits for a receiver).
 */
export const OUTBOX_LIMITS = {
  maxInFlight: 16,
  perPass: 16,
  passIntervalMs: 50,
  /** Longer than the request timeout: a request lost in a crash is sent again after it. */
  leaseMs: DELIVERY_TIMEOUT_MS + 5_000,
  /** Delivery state reaches D1 at most this often, in one batch. */
  flushIntervalMs: 1_000,
  flushBatch: 1_000,
  routeBatch: 1_000,
  /** After a failed pass (D1 unreachable), wait this long before the next. */
  errorBackoffMs: 5_000,
};

export class Outbox {
  private readonly store: OutboxStore;
  private readonly endpoints: EndpointCache;
  private readonly inFlight = new Set<Promise<void>>();
  private pass: Promise<void> | null = null;
  private flushing: Promise<void> | null = null;
  private lastPassAt = 0;
  private lastFlushAt = 0;
  private retryAt = 0;
  private sent = 0;
  private account: string | undefined;
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
  }

  /** The account whose endpoints receive this object's messages; persisted, since a cold alarm knows nothing else. */
  setAccount(accountId: string) {
    if (this.account === accountId) return;
    this.store.setAccountId(accountId);
    this.account = accountId;
  }

  private accountId(): string | null {
    this.account ??= this.store.accountId() ?? undefined;
    return this.account ?? null;
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
    const candidates: number[] = [];
    if (this.store.hasUnrouted()) candidates.push(now);
    const due = this.store.earliestDue();
    // With every slot busy, finishing requests wake the host; the alarm stays armed only as a crash guard.
    if (due !== null) candidates.push(this.inFlight.size < OUTBOX_LIMITS.maxInFlight ? due : Math.max(due, now + OUTBOX_LIMITS.leaseMs));
    if (this.store.hasDirty()) candidates.push(this.lastFlushAt + OUTBOX_LIMITS.flushIntervalMs);
    if (candidates.length === 0) return null;
    return Math.max(Math.min(...candidates), this.lastPassAt + OUTBOX_LIMITS.passIntervalMs, this.retryAt);
  }

  /** One pass: route new messages, start due requests within the budget, flush state to D1 when due. Never waits for a receiver. */
  pump(): Promise<void> {
    this.pass ??= this.runPass()
      .catch((error) => {
        this.retryAt = Date.now() + OUTBOX_LIMITS.errorBackoffMs;
        console.error("webhook outbox pass failed", error);
      })
      .finally(() => {
        this.pass = null;
        this.host.wake();
      });
    return this.pass;
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
      moved += batch.length;
    }
  }

  /** Takes over messages another outbox handed over; they are delivered, and reach D1, like this outbox's own. */
  adopt(messages: HandedOverMessage[]) {
    this.store.importMessages(messages);
  }

  /** Resolves once no pass, request or flush is running (tests and benchmarks). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [this.pass, this.flushing, ...this.inFlight].filter((p): p is Promise<void> => p !== null);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  inspect() {
    return { ...this.store.counts(), in_flight: this.inFlight.size, sent: this.sent, next_due_at: this.nextDueAt() };
  }

  private async runPass() {
    const now = Date.now();
    this.lastPassAt = now;
    const accountId = this.accountId();
    if (!accountId) return;
    if (this.store.hasUnrouted() || (this.store.earliestDue() ?? Number.POSITIVE_INFINITY) <= now) {
      const endpoints = await this.endpoints.refresh(accountId, now);
      for (const message of this.store.unrouted(OUTBOX_LIMITS.routeBatch)) this.store.route(message.id, subscribersOf(endpoints, message.type), now);
      this.startDue(endpoints, Date.now());
    }
    if (this.store.hasDirty() && Date.now() >= this.lastFlushAt + OUTBOX_LIMITS.flushIntervalMs) await this.flush(accountId);
  }

  private startDue(endpoints: ReadonlyMap<string, DeliveryEndpoint>, now: number) {
    const room = Math.min(OUTBOX_LIMITS.maxInFlight - this.inFlight.size, OUTBOX_LIMITS.perPass);
    for (const delivery of this.store.leaseDue(now, room, OUTBOX_LIMITS.leaseMs)) {
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
        this.inFlight.delete(task);
        this.host.wake();
      });
      this.inFlight.add(task);
    }
  }

  /** One signed POST; the result is written as soon as it is known. */
  private async deliver(delivery: LeasedDelivery, endpoint: DeliveryEndpoint) {
    let outcome: DeliveryOutcome;
    // Checked again at send time: the deployment's policy may have changed since the endpoint was saved.
    const check = checkWebhookUrl(endpoint.url, urlPolicyFor(this.host.env));
    if (!check.ok) {
      outcome = { ok: false, statusCode: null, error: check.reason };
    } else {
      // A cleared timer, not AbortSignal.timeout: that one stays armed after the answer and keeps the object awake.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new DOMException("The receiver did not answer in time.", "TimeoutError")), DELIVERY_TIMEOUT_MS);
      try {
        const headers = await webhookHeaders(endpoint.key, delivery.message_id, Date.now(), delivery.body);
        const response = await this.host.fetch(check.url.href, { method: "POST", headers, body: delivery.body, redirect: "manual", signal: controller.signal });
        outcome = outcomeOfResponse(response.status, response.headers.get("Location"));
        await response.body?.cancel().catch(() => undefined);
      } catch (error) {
        outcome = outcomeOfError(error);
      } finally {
        clearTimeout(timer);
      }
    }
    this.sent++;
    const now = Date.now();
    this.store.recordAttempt(delivery, outcome, outcome.ok ? null : now + retryDelayMs(delivery.attempts + 1), now);
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
  }
}
