import { budgetRefusal, getAccountStub } from "../accounts/stub";
import { nowIso } from "../db/client";
import type { Env } from "../env";
import type { AlarmClock } from "./alarm-clock";
import type { CarrierLink } from "./carrier-link";
import type { D1Sync } from "./d1-sync";
import { decideTransition, isTerminal, type LifecycleAction } from "./lifecycle";
import type { EventHub } from "./live/event-hub";
import type { PauseReason } from "./reports/webhook-reports";
import type { ObjectStorage } from "./storage/object-storage";
import type { Transitions } from "./transitions";

/** `bookmark`: the D1 bookmark of the write the action made, if it made one (see http/d1-session.ts). */
export type LifecycleResult = { ok: true; bookmark?: string | null } | { ok: false; reason: "not_found" | "conflict"; message: string };

/** What an action the object takes itself says about it: its status_reason and, for a pause, the webhook's reason. */
interface TransitionWhy {
  reason?: string;
  pauseReason?: PauseReason;
}

/** A scheduled start without budget tries again this often. */
const SCHEDULE_RETRY_MS = 60_000;

/**
 * Runs the campaign status machine (lifecycle.ts) against the world: budget in the AccountDO,
 * the status in D1 before the caller is answered, timers here. Actions run one at a time.
 */
export class LifecycleRunner {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly parts: {
      env: Env;
      ctx: DurableObjectState;
      storage: ObjectStorage;
      transitions: Transitions;
      d1: D1Sync;
      alarm: AlarmClock;
      hub: EventHub;
      carrier: CarrierLink;
    },
  ) {}

  /** start, pause, resume, stop or delete, as the API asked. */
  run(campaignId: string, action: LifecycleAction): Promise<LifecycleResult> {
    return this.serially(() => this.transition(campaignId, action));
  }

  /** Arms the scheduled start of a campaign created with scheduled_at. */
  async schedule(campaignId: string) {
    const { d1, storage, alarm } = this.parts;
    const state = await d1.load(campaignId);
    if (state?.status === "scheduled" && state.scheduled_at) {
      storage.timers.set("scheduled_start", Date.parse(state.scheduled_at));
      await alarm.arm();
    }
  }

  /** The scheduled_start timer fired: start now, or wait with a status_reason and try again in a minute. */
  scheduledStart(campaignId: string) {
    return this.serially(async () => {
      const { storage, d1 } = this.parts;
      if (storage.campaign.get()?.status !== "scheduled") return;
      const result = await this.transition(campaignId, "start");
      if (result.ok || result.reason !== "conflict") return;
      storage.campaign.patch({ status_reason: result.message });
      await d1.persistReason(campaignId, result.message);
      storage.timers.set("scheduled_start", Date.now() + SCHEDULE_RETRY_MS);
    });
  }

  /** All contacts terminal → completed (SPEC "Lifecycle"). */
  async completeIfDone() {
    const { storage } = this.parts;
    const live = () => {
      const state = storage.campaign.get();
      return state?.status === "running" || state?.status === "paused";
    };
    const done = () => {
      const stats = storage.campaign.stats();
      return stats.pending + stats.originated + stats.connected === 0 && storage.attempts.inFlight() === 0;
    };
    if (!live() || !done()) return;
    // Looked at again in turn: an append queued ahead of this may have brought new pending contacts.
    await this.serially(async () => {
      if (live() && done()) await this.finish("completed", null);
    });
  }

  /** Runs `fn` in turn with lifecycle actions and completion (an append: no campaign completes or stops halfway through it). */
  exclusively<T>(fn: () => Promise<T>): Promise<T> {
    return this.serially(fn);
  }

  /** The failure breaker tripped: paused with the breaker's sentence, and `campaign.paused` says `failure_rate`. */
  pauseForFailures(reason: string) {
    return this.serially(async () => {
      const state = this.parts.storage.campaign.get();
      if (state?.status === "running") await this.transition(state.campaign_id, "pause", { reason, pauseReason: "failure_rate" });
    });
  }

  /** A campaign-level carrier error: failed with the reason; pending contacts stay pending. */
  fail(reason: string) {
    return this.serially(async () => {
      const state = this.parts.storage.campaign.get();
      if (state && !isTerminal(state.status)) await this.finish("failed", reason);
    });
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async transition(campaignId: string, action: LifecycleAction, why: TransitionWhy = {}): Promise<LifecycleResult> {
    const { env, storage, transitions, d1, alarm, hub } = this.parts;
    const state = await d1.load(campaignId);
    if (!state) return { ok: false, reason: "not_found", message: `Campaign ${campaignId} was not found.` };
    const decision = decideTransition(state.status, action);
    if (!decision.ok) return { ok: false, reason: "conflict", message: decision.reason };
    if (!decision.changed) return { ok: true };

    const account = getAccountStub(env, state.account_id);
    if (decision.to === "running") {
      const refusal = await d1.readinessProblem(state);
      if (refusal) return { ok: false, reason: "conflict", message: refusal };
    }
    if (decision.budget === "reserve") {
      const holder = { campaign_id: state.campaign_id, name: state.name, amount: state.max_concurrent_calls };
      const budget = await account.reserveBudget(state.account_id, holder);
      if (!budget.ok) return { ok: false, reason: "conflict", message: budgetRefusal(state.campaign_id, holder.amount, budget) };
    }

    const now = nowIso();
    let bookmark: string | null;
    try {
      if (action === "delete") {
        bookmark = await d1.deleteCampaign(campaignId);
      } else {
        const startedAt = state.started_at ?? (decision.to === "running" ? now : null);
        await d1.flush();
        const reason = why.reason ?? null;
        bookmark = await d1.persistTransition(state.campaign_id, decision.to, startedAt, action === "stop", now, reason);
        const running = decision.to === "running";
        // Each start or resume ramps up afresh and gets a fresh failure window: dials before a pause are not held against it.
        if (running) storage.dialEndings.clear();
        transitions.campaignStatus(
          decision.to,
          { status_reason: reason, started_at: startedAt, ...(running && { ramp_started_at: Date.now() }) },
          now,
          why.pauseReason,
        );
        if (action === "stop") transitions.cancelPending(now);
      }
    } catch (error) {
      if (decision.budget === "reserve") await account.releaseBudget(state.campaign_id);
      throw error;
    }

    if (decision.budget === "release") await account.releaseBudget(state.campaign_id);
    if (action === "delete") {
      await this.forgetEverything(campaignId, state.account_id);
      return { ok: true, bookmark };
    }
    if (decision.to === "running") {
      storage.timers.set("dispatch", Date.now());
      storage.timers.clear("scheduled_start");
    }
    await alarm.arm();
    hub.publish();
    return { ok: true, bookmark };
  }

  /** Delete: calls still ringing give their slots back now; their late callbacks find nothing and are ignored. */
  private async forgetEverything(campaignId: string, accountId: string) {
    const { env, ctx, storage, alarm, carrier } = this.parts;
    const open = storage.attempts.open().map((a) => ({ leaseId: a.lease_id, talkSeconds: 0 }));
    const ended = storage.attempts.unreleased().map((a) => ({ leaseId: a.lease_id, talkSeconds: a.talk_seconds }));
    if (open.length + ended.length > 0) await getAccountStub(env, accountId).settle(accountId, { campaignId, release: [...open, ...ended], want: 0 });
    await alarm.disarm();
    await ctx.storage.deleteAll();
    storage.createSchema();
    carrier.forget();
  }

  private async finish(status: "completed" | "failed", reason: string | null) {
    const { env, storage, transitions, d1, hub } = this.parts;
    const state = storage.campaign.get();
    if (!state) return;
    transitions.campaignStatus(status, { status_reason: reason }, nowIso());
    await d1.flush();
    await d1.persistFinish(state.campaign_id, status, reason);
    // One more tick hands back the slots of calls that ended or were never placed.
    storage.timers.set("dispatch", Date.now());
    await getAccountStub(env, state.account_id).releaseBudget(state.campaign_id);
    hub.publish();
  }
}
