import { DurableObject } from "cloudflare:workers";
import { budgetRefusal, getAccountStub } from "../accounts/account-do";
import { carrierAdapter, publicBase } from "../carriers/registry";
import type { CallEvent, CarrierAdapter, OriginateResult, SignedCallback } from "../carriers/types";
import { nowIso } from "../db/client";
import type { Env } from "../env";
import { newId } from "../ids";
import { type Attempt, type CampaignState, CampaignStore, type LiveContact } from "./campaign-store";
import { applyCallEvent, type CallOutcome, settleContact } from "./contact-machine";
import { EventHub } from "./event-hub";
import { type Snapshot, snapshotOf } from "./events";
import { decideTransition, isTerminal, type LifecycleAction } from "./lifecycle";
import { contactStatsOf, loadCampaignRow } from "./store";
import { answerTwiml } from "./twiml";

export type LifecycleResult = { ok: true } | { ok: false; reason: "not_found" | "conflict"; message: string };
export type WebhookResult = { status: number; body: string; contentType?: string };

/** Ring time given to the carrier (Twilio's Timeout; at least 15 s). */
const RING_TIMEOUT_S = 30;
/** Longest call we pay for; the carrier hangs up after it. */
const TIME_LIMIT_S = 3600;
/** Contacts read from D1 per page, by seq cursor. */
const PAGE_SIZE = 500;
/** Contact changes to D1 at most this long after they happen when no tick is due sooner. */
const FLUSH_DELAY_MS = 250;
/** An attempt with no carrier id is looked up at the carrier after this long. */
const RECONCILE_AFTER_MS = 15_000;
/** A live call silent this long is asked about at the carrier. */
const STALE_AFTER_MS = 90_000;
const STALE_INTERVAL_MS = 30_000;
const SCHEDULE_RETRY_MS = 60_000;
const MAX_BACKOFF_MS = 60_000;

interface Carrier {
  adapter: CarrierAdapter;
  from: string;
}

/**
 * One per campaign: its state machine, dispatcher and event stream. Lifecycle calls run one at a
 * time; the dispatcher runs from the alarm, which is always armed at the earliest timer.
 */
export class CampaignDO extends DurableObject<Env> {
  private readonly store: CampaignStore;
  private queue: Promise<unknown> = Promise.resolve();
  private carrierCache: Promise<Carrier> | null = null;
  private readonly hub: EventHub;
  /** Counters and reason as this instance last wrote them to D1: an alarm with nothing new writes nothing. */
  private flushedKey: string | null = null;
  /** The alarm as last set by this instance (undefined until read from storage once). */
  private armedAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new CampaignStore(ctx.storage.sql);
    this.hub = new EventHub(ctx, {
      snapshot: () => (this.store.state() ? this.snapshot() : null),
      eventsAfter: (after, limit) => this.store.eventsAfter(after, limit),
      lastEventId: () => this.store.lastEventId(),
    });
    ctx.blockConcurrencyWhile(async () => this.store.createSchema());
  }

  // --- lifecycle (RPC) ------------------------------------------------------------------------

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

  /** Arms the scheduled start of a campaign created with scheduled_at. */
  async schedule(campaignId: string): Promise<void> {
    const state = await this.hydrate(campaignId);
    if (state?.status === "scheduled" && state.scheduled_at) {
      this.store.setTimer("scheduled_start", Date.parse(state.scheduled_at));
      await this.arm();
    }
  }

  /** Re-arms timers that a restart may have lost (local dev loses alarms across restarts). */
  async rearm(campaignId: string): Promise<void> {
    const state = await this.hydrate(campaignId);
    if (!state) return;
    const now = Date.now();
    if (state.status === "running") this.store.setTimerNoLater("dispatch", now);
    if (state.status === "scheduled" && state.scheduled_at) this.store.setTimerNoLater("scheduled_start", Date.parse(state.scheduled_at));
    if (this.store.inFlight() > 0) this.store.setTimerNoLater("stale", now);
    await this.arm();
  }

  /** Internal view for operators and tests: counters, in-flight and high-water marks. */
  async inspect(campaignId: string) {
    const state = await this.hydrate(campaignId);
    return {
      state,
      stats: this.store.stats(),
      in_flight: this.store.inFlight(),
      open_attempts: this.store.openAttempts(),
      originations: this.store.originationTimes(),
      alarm: await this.ctx.storage.getAlarm(),
    };
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async hydrate(campaignId: string): Promise<CampaignState | null> {
    const known = this.store.state();
    if (known) return known;
    const row = await loadCampaignRow(this.env, campaignId);
    if (!row) return null;
    const state: CampaignState = {
      campaign_id: row.id,
      account_id: row.accountId,
      name: row.name,
      status: row.status,
      status_reason: row.statusReason,
      max_concurrent_calls: row.maxConcurrentCalls,
      retries_per_contact: row.retriesPerContact,
      retry_delay_seconds: row.retryDelaySeconds,
      agent_id: row.agentId,
      phone_number_id: row.phoneNumberId,
      scheduled_at: row.scheduledAt,
      started_at: row.startedAt,
      cursor_seq: -1,
      exhausted: 0,
      backoff_ms: 0,
      dial_after: 0,
      high_water: 0,
    };
    // Another call may have hydrated while we awaited D1: the first one wins.
    if (this.store.state()) return this.store.state();
    this.store.saveState(state);
    this.store.initStats(contactStatsOf(row));
    return state;
  }

  private async transition(campaignId: string, action: LifecycleAction): Promise<LifecycleResult> {
    const state = await this.hydrate(campaignId);
    if (!state) return { ok: false, reason: "not_found", message: `Campaign ${campaignId} was not found.` };
    const decision = decideTransition(state.status, action);
    if (!decision.ok) return { ok: false, reason: "conflict", message: decision.reason };
    if (!decision.changed) return { ok: true };

    const account = getAccountStub(this.env, state.account_id);
    if (decision.to === "running") {
      const refusal = await this.readinessProblem(state);
      if (refusal) return { ok: false, reason: "conflict", message: refusal };
    }
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
        const startedAt = state.started_at ?? (decision.to === "running" ? now : null);
        await this.flush();
        await this.persistTransition(state.campaign_id, decision.to, startedAt, action === "stop", now);
        this.store.patchState({ status: decision.to, status_reason: null, started_at: startedAt });
        if (action === "stop") this.store.cancelPending();
      }
    } catch (error) {
      if (decision.budget === "reserve") await account.releaseBudget(state.campaign_id);
      throw error;
    }

    if (decision.budget === "release") await account.releaseBudget(state.campaign_id);
    if (action === "delete") {
      // Calls still ringing give their slots back now; their late callbacks find nothing and are ignored.
      const open = this.store.openAttempts().map((a) => ({ leaseId: a.lease_id, talkSeconds: 0 }));
      const ended = this.store.unreleased().map((a) => ({ leaseId: a.lease_id, talkSeconds: a.talk_seconds }));
      if (open.length + ended.length > 0) await account.settle(state.account_id, { campaignId, release: [...open, ...ended], want: 0 });
      await this.ctx.storage.deleteAlarm();
      this.armedAt = null;
      await this.ctx.storage.deleteAll();
      this.store.createSchema();
      this.carrierCache = null;
      return { ok: true };
    }
    if (decision.to === "running") {
      this.store.setTimer("dispatch", Date.now());
      this.store.clearTimer("scheduled_start");
    }
    await this.arm();
    this.hub.publish();
    return { ok: true };
  }

  /** Only an active agent on an outbound-enabled number may originate calls (checked at start and resume). */
  private async readinessProblem(state: CampaignState): Promise<string | null> {
    const row = await this.env.DB.prepare(
      "SELECT (SELECT status FROM agents WHERE id = ?) AS agent_status, (SELECT outbound_enabled FROM phone_numbers WHERE id = ?) AS outbound",
    )
      .bind(state.agent_id, state.phone_number_id)
      .first<{ agent_status: string | null; outbound: number | null }>();
    if (!row?.agent_status) return `Agent ${state.agent_id} no longer exists; create the campaign again with an existing agent.`;
    if (row.agent_status !== "active")
      return `Agent ${state.agent_id} is ${row.agent_status}; only an active agent can place calls. PATCH it to status "active" first.`;
    if (row.outbound === null) return `Phone number ${state.phone_number_id} no longer exists; create the campaign again with an existing number.`;
    if (!row.outbound) return `Phone number ${state.phone_number_id} is not enabled for outbound calls; PATCH it with outbound_enabled: true first.`;
    return null;
  }

  private async persistTransition(campaignId: string, status: CampaignState["status"], startedAt: string | null, finishing: boolean, now: string) {
    const db = this.env.DB;
    const update = db
      .prepare(
        `UPDATE campaigns SET status = ?, status_reason = NULL, started_at = ?, updated_at = ?,
           completed_at = CASE WHEN ? THEN ? ELSE completed_at END
         WHERE id = ?`,
      )
      .bind(status, startedAt, now, finishing ? 1 : 0, now, campaignId);
    if (!finishing) {
      await update.run();
      return;
    }
    // Stop: every contact still waiting (including those waiting for a retry) is cancelled, in the same transaction.
    await db.batch([
      update,
      db
        .prepare("UPDATE contacts SET status = 'cancelled', next_attempt_at = NULL, updated_at = ? WHERE campaign_id = ? AND status = 'pending'")
        .bind(now, campaignId),
      db.prepare("UPDATE campaigns SET stat_cancelled = stat_cancelled + stat_pending, stat_pending = 0 WHERE id = ?").bind(campaignId),
    ]);
  }

  // --- timers -----------------------------------------------------------------------------------

  /** Exactly one alarm, at the earliest timer. The armed time is kept in memory: callbacks arm often. */
  private async arm() {
    const earliest = this.store.earliestTimer();
    this.armedAt ??= await this.ctx.storage.getAlarm();
    if (earliest === this.armedAt) return;
    this.armedAt = earliest;
    if (earliest === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(earliest);
  }

  override async alarm(): Promise<void> {
    // A running alarm is no longer armed; whatever it leaves due is armed again in `finally`.
    this.armedAt = null;
    const state = this.store.state();
    if (!state) return;
    const due = this.store.takeDueTimers(Date.now());
    try {
      if (due.includes("scheduled_start")) await this.serially(() => this.scheduledStart(state.campaign_id));
      if (due.includes("stale")) await this.reconcile();
      await this.dispatch();
      this.hub.publish();
      await this.flush();
      await this.completeIfDone();
    } catch (error) {
      // Never let the alarm die: retry the tick shortly (the runtime's own retries give up after six).
      console.error("campaign tick failed", state.campaign_id, error);
      this.store.setTimerNoLater("dispatch", Date.now() + 1_000);
    } finally {
      await this.arm();
    }
  }

  private async scheduledStart(campaignId: string) {
    const state = this.store.state();
    if (state?.status !== "scheduled") return;
    const result = await this.transition(campaignId, "start");
    if (result.ok || result.reason !== "conflict") return;
    // No budget yet: stay scheduled, say why, and try again every minute.
    this.store.patchState({ status_reason: result.message });
    await this.env.DB.prepare("UPDATE campaigns SET status_reason = ?, updated_at = ? WHERE id = ?").bind(result.message, nowIso(), campaignId).run();
    this.store.setTimer("scheduled_start", Date.now() + SCHEDULE_RETRY_MS);
  }

  // --- dispatch ---------------------------------------------------------------------------------

  /** Returns finished calls' slots and fills free ones: one AccountDO call per tick. */
  private async dispatch() {
    const state = this.store.state();
    if (!state) return;
    const now = Date.now();
    const releases = this.store.unreleased();
    let want = 0;
    if (state.status === "running" && now >= state.dial_after) {
      const free = state.max_concurrent_calls - this.store.inFlight();
      if (free > 0) {
        await this.topUp(free);
        want = this.store.dueContacts(now, free).length;
      }
      const retryAt = this.store.nextRetryAt();
      if (retryAt !== null) this.store.setTimerNoLater("dispatch", retryAt);
    }
    if (releases.length === 0 && want === 0) return;

    const account = getAccountStub(this.env, state.account_id);
    const result = await account.settle(state.account_id, {
      campaignId: state.campaign_id,
      release: releases.map((r) => ({ leaseId: r.lease_id, talkSeconds: r.talk_seconds })),
      want,
    });
    this.store.markReleased(releases.map((r) => r.attempt_id));

    const current = this.store.state();
    if (current?.status !== "running") {
      if (result.leases.length > 0)
        await account.settle(state.account_id, {
          campaignId: state.campaign_id,
          release: result.leases.map((leaseId) => ({ leaseId, talkSeconds: 0 })),
          want: 0,
        });
      return;
    }
    if (result.blocked) {
      this.setReason(result.blocked.reason);
      this.store.setTimerNoLater("dispatch", result.blocked.retryAt);
    } else if (current.status_reason && current.backoff_ms === 0) {
      this.setReason(null);
    }
    if (result.leases.length > 0) await this.placeCalls(result.leases);
  }

  /** Keeps enough fresh contacts in the working set, reading D1 in pages by seq cursor. */
  private async topUp(needed: number) {
    const state = this.store.state();
    if (!state || state.exhausted || this.store.countFreshPending() >= needed) return;
    const limit = Math.max(PAGE_SIZE, needed * 4);
    const { results } = await this.env.DB.prepare(
      "SELECT id, seq, phone_number, custom_fields, attempts FROM contacts WHERE campaign_id = ? AND status = 'pending' AND seq > ? ORDER BY seq LIMIT ?",
    )
      .bind(state.campaign_id, state.cursor_seq, limit)
      .all<{ id: string; seq: number; phone_number: string; custom_fields: string; attempts: number }>();
    this.store.addPending(results);
    this.store.patchState({ cursor_seq: results.at(-1)?.seq ?? state.cursor_seq, exhausted: results.length < limit ? 1 : 0 });
  }

  private async placeCalls(leases: string[]) {
    const state = this.store.state() as CampaignState;
    const now = Date.now();
    const at = nowIso(now);
    const contacts = this.store.dueContacts(now, leases.length);
    const jobs: { attempt: Attempt; contact: LiveContact }[] = [];
    contacts.forEach((contact, i) => {
      const attempt: Attempt = {
        attempt_id: newId("att", now),
        contact_id: contact.contact_id,
        lease_id: leases[i] as string,
        phone: contact.phone,
        created_at: now,
        call_id: null,
        rank: 0,
        state: "dialing",
        last_event_at: now,
        outcome: null,
        talk_seconds: 0,
        released: 0,
      };
      this.store.createAttempt(attempt);
      const updated = this.store.updateContact(
        contact,
        { status: "originated", attempts: contact.attempts + 1, next_attempt_at: null, call_id: null },
        contact.attempts + 1,
        at,
      );
      jobs.push({ attempt, contact: updated });
    });
    const spare = leases.slice(contacts.length);
    const inFlight = this.store.inFlight();
    if (inFlight > state.high_water) this.store.patchState({ high_water: inFlight });
    this.store.setTimerNoLater("stale", now + STALE_INTERVAL_MS);
    // The attempt records must be on disk before any carrier hears of the call.
    await this.ctx.storage.sync();
    // Subscribers hear of the dials in the next push, not after the slowest carrier request returns.
    this.hub.publish();
    if (spare.length > 0) {
      await getAccountStub(this.env, state.account_id).settle(state.account_id, {
        campaignId: state.campaign_id,
        release: spare.map((leaseId) => ({ leaseId, talkSeconds: 0 })),
        want: 0,
      });
    }

    let carrier: Carrier;
    try {
      carrier = await this.carrier();
    } catch (error) {
      for (const job of jobs) this.unplace(job.attempt.attempt_id);
      await this.fail(`The campaign's number or carrier credentials could not be loaded: ${String(error)}`);
      return;
    }
    const base = publicBase(this.env);
    const results = await Promise.all(
      jobs.map(async ({ attempt }) => {
        const callbackUrl = `${base}/webhooks/twilio/${state.campaign_id}/${attempt.attempt_id}`;
        const result = await carrier.adapter.originate({
          to: attempt.phone,
          from: carrier.from,
          statusCallbackUrl: callbackUrl,
          answerUrl: `${callbackUrl}/answer`,
          ringTimeoutSeconds: RING_TIMEOUT_S,
          timeLimitSeconds: TIME_LIMIT_S,
        });
        return { attempt, result };
      }),
    );
    let campaignError: string | null = null;
    let backoff = false;
    for (const { attempt, result } of results) {
      const outcome = this.applyOriginateResult(attempt.attempt_id, result);
      if (outcome === "campaign_error") campaignError ??= (result as { detail: string }).detail;
      if (outcome === "backoff") backoff = true;
    }
    if (campaignError) await this.fail(`The carrier refused the campaign: ${campaignError}`);
    else if (backoff) this.backOff(results.find((r) => r.result.kind === "retry_later")?.result as Extract<OriginateResult, { kind: "retry_later" }>);
    else if (this.store.state()?.backoff_ms) {
      this.store.patchState({ backoff_ms: 0, dial_after: 0 });
      this.setReason(null);
    }
  }

  private applyOriginateResult(attemptId: string, result: OriginateResult): "ok" | "campaign_error" | "backoff" {
    const attempt = this.store.attempt(attemptId);
    if (!attempt) return "ok";
    switch (result.kind) {
      case "accepted":
        // Callbacks may have beaten the REST answer here; they already moved the attempt on.
        this.store.patchAttempt(attemptId, { call_id: attempt.call_id ?? result.callId, ...(attempt.state === "dialing" && { state: "live" }) });
        return "ok";
      case "contact_error":
        this.finishAttempt(attempt, result.outcome, 0, result.detail);
        return "ok";
      case "unknown":
        this.store.patchAttempt(attemptId, { state: "unknown" });
        this.store.setTimerNoLater("stale", Date.now() + RECONCILE_AFTER_MS);
        return "ok";
      case "campaign_error":
        this.unplace(attemptId);
        return "campaign_error";
      case "retry_later":
        this.unplace(attemptId);
        return "backoff";
    }
  }

  /** The carrier never took the call: it does not count as an attempt and the contact waits again. */
  private unplace(attemptId: string) {
    const attempt = this.store.attempt(attemptId);
    if (!attempt || attempt.state === "ended") return;
    this.store.patchAttempt(attemptId, { state: "ended", outcome: "not_placed" });
    const contact = this.store.contact(attempt.contact_id);
    if (contact && contact.status === "originated") {
      this.store.updateContact(contact, { status: "pending", attempts: Math.max(0, contact.attempts - 1), call_id: null }, contact.attempts, nowIso());
    }
    this.store.setTimerNoLater("dispatch", Date.now());
  }

  private backOff(result: Extract<OriginateResult, { kind: "retry_later" }> | undefined) {
    const state = this.store.state() as CampaignState;
    const next = Math.min(MAX_BACKOFF_MS, Math.max(1_000, state.backoff_ms * 2, result?.retryAfterMs ?? 0));
    const dialAfter = Date.now() + next;
    this.store.patchState({ backoff_ms: next, dial_after: dialAfter });
    this.setReason(`Waiting: the carrier asked us to slow down (${result?.detail ?? "busy"}); dialing again in ${Math.round(next / 1000)} s.`);
    this.store.setTimer("dispatch", dialAfter);
  }

  private setReason(reason: string | null) {
    const state = this.store.state();
    if (!state || state.status_reason === reason) return;
    this.store.patchState({ status_reason: reason });
    this.store.setTimerNoLater("flush", Date.now());
  }

  // --- carrier events ---------------------------------------------------------------------------

  /** A status callback: verified against the carrier's signature first, then applied once. */
  async handleCallback(campaignId: string, attemptId: string, callback: SignedCallback): Promise<WebhookResult> {
    const state = await this.hydrate(campaignId);
    if (!state) return { status: 200, body: "campaign not found; ignored" };
    if (!this.store.attempt(attemptId)) return { status: 200, body: "unknown attempt; ignored" };
    const carrier = await this.carrier();
    if (!(await carrier.adapter.verifyCallback(callback))) return { status: 403, body: "The callback signature is not valid." };
    const event = carrier.adapter.parseCallback(callback.params);
    if (!event) return { status: 400, body: "The callback has no CallSid or CallStatus." };
    this.applyEvent(attemptId, event);
    this.hub.publish();
    await this.arm();
    return { status: 200, body: "" };
  }

  /** The answer webhook: TwiML that connects the answered call to the agent's stream. */
  async answer(campaignId: string, attemptId: string, callback: SignedCallback): Promise<WebhookResult> {
    const state = await this.hydrate(campaignId);
    const attempt = state ? this.store.attempt(attemptId) : null;
    if (!state || !attempt) return { status: 404, body: "This call is not known." };
    const carrier = await this.carrier();
    if (!(await carrier.adapter.verifyCallback(callback))) return { status: 403, body: "The callback signature is not valid." };
    const contact = this.store.contact(attempt.contact_id);
    const agent = await this.env.DB.prepare("SELECT stream_url FROM agents WHERE id = ?").bind(state.agent_id).first<{ stream_url: string | null }>();
    const fields = contact ? (JSON.parse(contact.custom_fields) as Record<string, string>) : {};
    const parameters = { ...fields, campaign_id: state.campaign_id, contact_id: attempt.contact_id, phone_number: attempt.phone };
    return { status: 200, body: answerTwiml(agent?.stream_url ?? null, parameters), contentType: "text/xml" };
  }

  private applyEvent(attemptId: string, event: CallEvent) {
    const attempt = this.store.attempt(attemptId);
    if (!attempt || attempt.state === "ended") return;
    // A signed event for a different call than this attempt's is not ours to apply.
    if (attempt.call_id && attempt.call_id !== event.callId) return;
    const now = Date.now();
    const decision = applyCallEvent(attempt.rank, false, event);
    this.store.patchAttempt(attemptId, { call_id: attempt.call_id ?? event.callId, last_event_at: now, ...(attempt.state !== "live" && { state: "live" }) });
    if (decision.kind === "ignore") return;
    if (decision.kind === "final") {
      const detail = decision.outcome === "failed" && event.sipCode ? `SIP ${event.sipCode}` : null;
      this.finishAttempt({ ...attempt, call_id: attempt.call_id ?? event.callId }, decision.outcome, decision.talkSeconds, detail);
      return;
    }
    this.store.patchAttempt(attemptId, { rank: decision.rank });
    const contact = this.store.contact(attempt.contact_id);
    if (contact && decision.contactStatus === "connected" && contact.status === "originated") {
      this.store.updateContact(contact, { status: "connected", call_id: event.callId }, contact.attempts, nowIso(now));
      this.store.setTimerNoLater("flush", now + FLUSH_DELAY_MS);
    }
  }

  private finishAttempt(attempt: Attempt, outcome: CallOutcome, talkSeconds: number, detail: string | null) {
    const now = Date.now();
    this.store.patchAttempt(attempt.attempt_id, { state: "ended", outcome, talk_seconds: talkSeconds });
    const contact = this.store.contact(attempt.contact_id);
    const state = this.store.state();
    if (contact && state && (contact.status === "originated" || contact.status === "connected")) {
      const canRetry = !isTerminal(state.status);
      const settled = settleContact(outcome, contact.attempts, state.retries_per_contact, state.retry_delay_seconds * 1000, now, canRetry);
      const lastError = outcome === "answered" || outcome === "voicemail" ? null : (detail ?? outcome);
      this.store.updateContact(
        contact,
        { status: settled.status, outcome, last_error: lastError, call_id: attempt.call_id, next_attempt_at: settled.nextAttemptAt },
        contact.attempts,
        nowIso(now),
      );
    }
    this.store.setTimerNoLater("dispatch", now);
  }

  // --- reconciliation -------------------------------------------------------------------------

  /** Calls without a final callback are settled by asking the carrier; leases of live calls are renewed. */
  private async reconcile() {
    const state = this.store.state();
    const open = this.store.openAttempts();
    if (!state || open.length === 0) return;
    const carrier = await this.carrier();
    const now = Date.now();
    for (const attempt of open) {
      if (!attempt.call_id) {
        if (now - attempt.created_at < RECONCILE_AFTER_MS) continue;
        const found = await carrier.adapter.findCall(attempt.phone, carrier.from, attempt.created_at);
        if (found.kind === "found") this.applyEvent(attempt.attempt_id, found.event);
        // The carrier confirms there is no such call: it was never placed, so it may be dialled again.
        else if (found.kind === "absent") this.unplace(attempt.attempt_id);
      } else if (now - attempt.last_event_at >= STALE_AFTER_MS) {
        const found = await carrier.adapter.fetchStatus(attempt.call_id);
        if (found.kind === "found") {
          this.applyEvent(attempt.attempt_id, found.event);
          this.store.patchAttempt(attempt.attempt_id, { last_event_at: now });
        } else if (found.kind === "absent") {
          const current = this.store.attempt(attempt.attempt_id);
          if (current && current.state !== "ended") this.finishAttempt(current, "failed", 0, "The carrier has no record of this call.");
        }
      }
    }
    const stillOpen = this.store.openAttempts();
    if (stillOpen.length > 0) {
      await getAccountStub(this.env, state.account_id).renewLeases(stillOpen.map((a) => a.lease_id));
      this.store.setTimer("stale", now + STALE_INTERVAL_MS);
    }
  }

  // --- D1 -------------------------------------------------------------------------------------

  /** All contact changes since the last flush, and the counters, in one D1 batch. */
  private async flush() {
    const state = this.store.state();
    if (!state) return;
    const dirty = this.store.dirtyContacts(5_000);
    const stats = this.store.stats();
    const key = JSON.stringify([stats, state.status_reason]);
    if (dirty.length === 0 && key === this.flushedKey) return;
    const now = nowIso();
    const statements: D1PreparedStatement[] = [];
    if (dirty.length > 0) {
      const rows = dirty.map((c) => ({
        id: c.contact_id,
        s: c.status,
        a: c.attempts,
        o: c.outcome,
        e: c.last_error,
        c: c.call_id,
        n: c.next_attempt_at === null ? null : nowIso(c.next_attempt_at),
      }));
      statements.push(
        this.env.DB.prepare(
          `UPDATE contacts SET status = u.value ->> 's', attempts = u.value ->> 'a', outcome = u.value ->> 'o', last_error = u.value ->> 'e',
             call_id = u.value ->> 'c', next_attempt_at = u.value ->> 'n', updated_at = ?1
           FROM json_each(?2) AS u WHERE contacts.id = u.value ->> 'id'`,
        ).bind(now, JSON.stringify(rows)),
      );
    }
    statements.push(
      this.env.DB.prepare(
        `UPDATE campaigns SET stat_pending = ?, stat_originated = ?, stat_connected = ?, stat_completed = ?, stat_failed = ?, stat_cancelled = ?,
           status_reason = ?, updated_at = ? WHERE id = ?`,
      ).bind(stats.pending, stats.originated, stats.connected, stats.completed, stats.failed, stats.cancelled, state.status_reason, now, state.campaign_id),
    );
    await this.env.DB.batch(statements);
    this.flushedKey = key;
    this.store.markFlushed(dirty.map((c) => ({ id: c.contact_id, version: c.dirty })));
    this.store.pruneEvents(Date.now());
    if (dirty.length === 5_000) this.store.setTimerNoLater("flush", Date.now());
  }

  /** All contacts terminal → completed (SPEC "Lifecycle"). */
  private async completeIfDone() {
    const state = this.store.state();
    if (!state || (state.status !== "running" && state.status !== "paused")) return;
    const stats = this.store.stats();
    if (stats.pending + stats.originated + stats.connected > 0 || this.store.inFlight() > 0) return;
    await this.serially(async () => {
      const current = this.store.state();
      if (!current || (current.status !== "running" && current.status !== "paused")) return;
      await this.finish("completed", null);
    });
  }

  /** A campaign-level carrier error: failed with the reason; pending contacts stay pending. */
  private async fail(reason: string) {
    await this.serially(async () => {
      const state = this.store.state();
      if (!state || isTerminal(state.status)) return;
      await this.finish("failed", reason);
    });
  }

  private async finish(status: "completed" | "failed", reason: string | null) {
    const state = this.store.state() as CampaignState;
    const now = nowIso();
    this.store.patchState({ status, status_reason: reason });
    await this.flush();
    await this.env.DB.prepare("UPDATE campaigns SET status = ?, status_reason = ?, completed_at = ?, updated_at = ? WHERE id = ?")
      .bind(status, reason, now, now, state.campaign_id)
      .run();
    // One more tick hands back the slots of calls that ended or were never placed.
    this.store.setTimer("dispatch", Date.now());
    await getAccountStub(this.env, state.account_id).releaseBudget(state.campaign_id);
    this.hub.publish();
  }

  private carrier(): Promise<Carrier> {
    this.carrierCache ??= (async () => {
      const state = this.store.state() as CampaignState;
      const row = await this.env.DB.prepare(
        `SELECT n.e164 AS e164, p.provider AS provider, p.credentials AS credentials
         FROM phone_numbers n JOIN telephony_providers p ON p.id = n.credentials_id WHERE n.id = ?`,
      )
        .bind(state.phone_number_id)
        .first<{ e164: string; provider: string; credentials: string }>();
      if (!row) throw new Error(`phone number ${state.phone_number_id} no longer exists`);
      return { adapter: await carrierAdapter(this.env, row.provider, row.credentials, this.ctx.exports?.default), from: row.e164 };
    })();
    this.carrierCache.catch(() => {
      this.carrierCache = null;
    });
    return this.carrierCache;
  }

  // --- live events -----------------------------------------------------------------------------

  /** GET …/events (SSE) and …/events/ws (WebSocket), forwarded here by the Worker. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const campaignId = url.searchParams.get("campaign_id") ?? "";
    if (!(await this.hydrate(campaignId))) return new Response(`Campaign ${campaignId} was not found.`, { status: 404 });
    const raw = request.headers.get("Last-Event-ID") ?? url.searchParams.get("last_event_id");
    const lastEventId = raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
    if (url.pathname.endsWith("/ws")) {
      if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("Expected a WebSocket upgrade.", { status: 426 });
      return this.hub.openWebSocket(lastEventId);
    }
    return this.hub.openSse(lastEventId);
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer) {
    // The stream is one-way; "ping" never gets here (the runtime answers it). Anything else is ignored.
    if (message === "snapshot" && this.store.state()) socket.send(JSON.stringify({ type: "snapshot", data: this.snapshot() }));
  }

  override async webSocketClose(socket: WebSocket, code: number) {
    try {
      socket.close(code === 1005 ? 1000 : code, "closing");
    } catch {}
  }

  private snapshot(): Snapshot {
    const state = this.store.state() as CampaignState;
    return snapshotOf(state, this.store.stats(), { inFlight: this.store.inFlight(), attempts: this.store.totalAttempts() });
  }
}

export const getCampaignStub = (env: Env, campaignId: string) => env.CAMPAIGNS.get(env.CAMPAIGNS.idFromName(campaignId));
