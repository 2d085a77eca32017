import { DurableObject } from "cloudflare:workers";
import { getAccountStub } from "../accounts/stub";
import type { CallResultInput } from "../call-results/result-input";
import { ownOrigin } from "../carriers/own-origin";
import { fetcherFor } from "../carriers/registry";
import type { CarrierKind, FetchLike, SignedCallback } from "../carriers/types";
import type { Env } from "../env";
import { Outbox } from "../outbox/outbox";
import type { IngestResult } from "../uploads/ingest";
import { meterAlarm, meteredEnv } from "../usage/meter";
import { AlarmClock } from "./alarm-clock";
import { CallEvents } from "./carrier-events/call-events";
import { CarrierCallbacks, type CarrierReply } from "./carrier-events/carrier-callbacks";
import { Reconciler } from "./carrier-events/reconciler";
import { CarrierLink } from "./carrier-link";
import { type AppendOutcome, ContactAppends } from "./contact-appends";
import { type CancelOutcome, ContactCancels } from "./contact-cancels";
import { D1Sync } from "./d1-sync";
import { CallbackWaitStage } from "./dial/callback-stage";
import { Dispatcher } from "./dial/dispatcher";
import { DncStage } from "./dial/dnc-stage";
import { EligibilityStage } from "./dial/eligibility-stage";
import { ExpiryStage } from "./dial/expiry-stage";
import { ContactPolicyStage } from "./dial/policy-stage";
import { CallingWindowStage } from "./dial/window-stage";
import { type LifecycleResult, LifecycleRunner } from "./lifecycle-runner";
import { EventHub } from "./live/event-hub";
import { type Snapshot, snapshotOf } from "./live/events";
import { CampaignWebhookReports } from "./reports/webhook-reports";
import { CallResults, type ResultOutcome } from "./results/call-results";
import { ObjectStorage } from "./storage/object-storage";
import { Transitions } from "./transitions";

/**
 * One per campaign. A thin shell: each concern is its own module, wired here; the methods below
 * are the list of what a campaign object does. Lifecycle calls run one at a time; the dispatcher
 * runs from the alarm, which is always armed at the earliest timer.
 */
export class CampaignDO extends DurableObject<Env> {
  private readonly storage: ObjectStorage;
  private readonly d1: D1Sync;
  private readonly alarmClock: AlarmClock;
  private readonly hub: EventHub;
  private readonly carrier: CarrierLink;
  private readonly lifecycle: LifecycleRunner;
  private readonly dispatcher: Dispatcher;
  private readonly reconciler: Reconciler;
  private readonly webhooks: CarrierCallbacks;
  private readonly dnc: DncStage;
  private readonly contactPolicy: ContactPolicyStage;
  private readonly eligibility: EligibilityStage;
  private readonly reports: CampaignWebhookReports;
  private readonly results: CallResults;
  private readonly appends: ContactAppends;
  private readonly cancels: ContactCancels;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, meteredEnv(env));
    // The object's own work is metered too when the cost benchmark asks for it (src/usage/meter.ts).
    env = this.env;
    const storage = new ObjectStorage(ctx.storage.sql);
    this.storage = storage;
    this.d1 = new D1Sync(env, storage);
    const outwardFetch: FetchLike = (input, init) => fetcherFor(env, ownOrigin(env))(input, init);
    const outbox = new Outbox(ctx.storage.sql, {
      env,
      fetch: outwardFetch,
      wake: () => void this.alarmClock.arm(),
      dialling: () => storage.campaign.get()?.status === "running",
    });
    this.reports = new CampaignWebhookReports(ctx.storage.sql, storage, outbox, env.DB);
    this.alarmClock = new AlarmClock(ctx.storage, storage.timers, () => this.reports.nextDueAt());
    this.hub = new EventHub(ctx, {
      snapshot: () => this.snapshot(),
      eventsAfter: (after, limit) => storage.events.after(after, limit),
      lastEventId: () => storage.events.lastId(),
    });
    this.carrier = new CarrierLink(env, storage, this.d1, ownOrigin(env));
    const transitions = new Transitions(storage, this.reports);
    const events = new CallEvents(storage, transitions);
    const shared = { env, storage, d1: this.d1, hub: this.hub, carrier: this.carrier };
    this.dnc = new DncStage({ db: env.DB, storage, transitions, durable: ctx.storage });
    this.contactPolicy = new ContactPolicyStage(env, storage, ctx.storage);
    this.eligibility = new EligibilityStage({
      storage,
      transitions,
      durable: ctx.storage,
      env,
      fetch: outwardFetch,
      // The ledger's answer earlier in the same tick carries the account's eligibility check: no request of its own.
      eligibility: () => this.contactPolicy.currentEligibility(),
    });
    this.lifecycle = new LifecycleRunner({ ...shared, ctx, transitions, alarm: this.alarmClock });
    this.dispatcher = new Dispatcher({
      ...shared,
      durable: ctx.storage,
      transitions,
      events,
      fail: (reason) => this.lifecycle.fail(reason),
      pauseForFailures: (reason) => this.lifecycle.pauseForFailures(reason),
      // Refilling stages (expiry, the calling window) run first wherever they stand; the others in this order: the DNC list (one query
      // a tick), the account's contact policy (one ledger request per shard a tick), then the eligibility check, last so only contacts
      // that could be dialled now are asked about. The array's order is also the order of their waiting reasons.
      stages: [
        this.dnc,
        this.contactPolicy,
        this.eligibility,
        new ExpiryStage(storage, transitions),
        new CallingWindowStage(storage, transitions),
        new CallbackWaitStage(storage),
      ],
    });
    this.results = new CallResults({
      env,
      storage,
      transitions,
      d1: this.d1,
      hub: this.hub,
      alarm: this.alarmClock,
      fenceOwnDials: () => this.dispatcher.fence(),
    });
    this.appends = new ContactAppends({
      storage,
      d1: this.d1,
      alarm: this.alarmClock,
      hub: this.hub,
      exclusively: (fn) => this.lifecycle.exclusively(fn),
      contactsAdded: () => this.dispatcher.contactsAdded(),
    });
    this.cancels = new ContactCancels({ storage, d1: this.d1, transitions, hub: this.hub });
    this.reconciler = new Reconciler(env, storage, this.carrier, events);
    this.webhooks = new CarrierCallbacks({ env, storage, d1: this.d1, carrier: this.carrier, events, hub: this.hub, alarm: this.alarmClock });
    ctx.blockConcurrencyWhile(async () => {
      storage.createSchema();
      this.reports.createSchema();
    });
  }

  // --- lifecycle (RPC) ------------------------------------------------------------------------

  start(campaignId: string): Promise<LifecycleResult> {
    return this.lifecycle.run(campaignId, "start");
  }
  pause(campaignId: string): Promise<LifecycleResult> {
    return this.lifecycle.run(campaignId, "pause");
  }
  resume(campaignId: string): Promise<LifecycleResult> {
    return this.lifecycle.run(campaignId, "resume");
  }
  stop(campaignId: string): Promise<LifecycleResult> {
    return this.lifecycle.run(campaignId, "stop");
  }
  async remove(campaignId: string): Promise<LifecycleResult> {
    const state = await this.d1.load(campaignId);
    // Delete wipes this object: undelivered webhook messages move to the account's outbox first (a running campaign is refused anyway).
    if (state && state.status !== "running") await this.reports.handOver(getAccountStub(this.env, state.account_id), state.account_id);
    const result = await this.lifecycle.run(campaignId, "delete");
    // Delete wipes the object's storage: the outbox's tables come back empty.
    if (result.ok) this.reports.createSchema();
    return result;
  }

  /** Arms the scheduled start of a campaign created with scheduled_at. */
  schedule(campaignId: string): Promise<void> {
    return this.lifecycle.schedule(campaignId);
  }

  /** Re-arms timers that a restart may have lost (local dev loses alarms across restarts). */
  async rearm(campaignId: string): Promise<void> {
    const state = await this.d1.load(campaignId);
    if (!state) return;
    const { timers, attempts } = this.storage;
    const now = Date.now();
    if (state.status === "running") timers.setNoLater("dispatch", now);
    if (state.status === "scheduled" && state.scheduled_at) timers.setNoLater("scheduled_start", Date.parse(state.scheduled_at));
    if (attempts.inFlight() > 0) timers.setNoLater("stale", now);
    await this.alarmClock.arm();
  }

  /** Internal view for operators, tests and benchmarks: counters, in-flight, high-water mark, carrier requests, DNC and eligibility check times. */
  async inspect(campaignId: string) {
    const state = await this.d1.load(campaignId);
    const { campaign, attempts, carrierRequests } = this.storage;
    return {
      state,
      stats: campaign.stats(),
      in_flight: attempts.inFlight(),
      open_attempts: attempts.open(),
      originations: attempts.originationTimes(),
      carrier_requests: carrierRequests.counts(),
      carrier_kind: await this.carrier.loadedKind(),
      alarm: await this.alarmClock.armedFor(),
      dnc_check: { ...this.dnc.times },
      contact_ledger: { ...this.contactPolicy.counts, open_reservations: this.storage.ledgerMarks.count() },
      eligibility_check: this.eligibility.times(),
      webhooks: this.reports.inspect(),
    };
  }

  /** Waits out the ticks under way (DNC add: no dial checked against the list before the add may start after it). */
  fenceDials(): Promise<void> {
    return this.dispatcher.fence();
  }

  /** The webhook outbox's queue for operators and tests; `settle` first waits for its requests in flight. */
  async webhookOutbox(options: { settle?: boolean } = {}) {
    if (options.settle) await this.reports.idle();
    return { ...this.reports.inspect(), alarm: await this.alarmClock.armedFor() };
  }

  // --- the tick -------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    meterAlarm(this.env, "campaign");
    this.alarmClock.fired();
    try {
      await this.tick();
    } finally {
      await this.alarmClock.handlerDone();
    }
  }

  /** What is due, then a dispatch tick, the live push, the D1 flush, and completion. */
  private async tick() {
    const state = this.storage.campaign.get();
    if (!state) return;
    // Webhooks ride on the same alarm but never hold it: the pass belongs to this invocation and ends on its own.
    this.ctx.waitUntil(this.reports.pump());
    const due = this.storage.timers.takeDue(Date.now());
    // Only the outbox asked for this alarm: the campaign's own work is all in its timers, so no tick (handlerDone re-arms).
    if (due.length === 0) return;
    try {
      if (due.includes("scheduled_start")) await this.lifecycle.scheduledStart(state.campaign_id);
      if (due.includes("stale")) await this.reconciler.reconcile();
      await this.dispatcher.tick();
      this.hub.publish();
      await this.d1.flush();
      await this.lifecycle.completeIfDone();
    } catch (error) {
      // Never let the alarm die: retry the tick shortly (the runtime's own retries give up after six).
      console.error("campaign tick failed", state.campaign_id, error);
      this.storage.timers.setNoLater("dispatch", Date.now() + 1_000);
    }
  }

  // --- carrier callbacks (RPC from src/routes/carrier-callbacks.ts) ------------------------------

  /** A status callback: verified against the carrier's signature and nonce first, then applied once. */
  handleCallback(campaignId: string, attemptId: string, kind: CarrierKind, callback: SignedCallback): Promise<CarrierReply> {
    return this.webhooks.callback(campaignId, attemptId, kind, callback);
  }

  /** The answer request: its event applied, then the carrier's document that connects the call to the agent. */
  answer(campaignId: string, attemptId: string, kind: CarrierKind, callback: SignedCallback): Promise<CarrierReply> {
    return this.webhooks.answer(campaignId, attemptId, kind, callback);
  }

  // --- call results (RPC from src/routes/calls.ts and the contacts routes) ------------------------

  /** An agent's result for one of this campaign's calls, checked by the Worker; stored with its effects before this returns. */
  reportResult(campaignId: string, callId: string, accountId: string, input: CallResultInput, callbackAt: number | null): Promise<ResultOutcome> {
    return this.results.report(campaignId, callId, accountId, input, callbackAt);
  }

  /** An operator's callback for one contact (`seq` is its place in the campaign, from its id). */
  scheduleCallback(campaignId: string, contactId: string, seq: number, callbackAt: number): Promise<ResultOutcome> {
    return this.results.scheduleCallback(campaignId, contactId, seq, callbackAt);
  }

  // --- contacts (RPC from src/routes/campaign-contacts.ts) -------------------------------------

  /** Contacts read by the Worker (create's rules, the campaign's columns) joining the campaign after its others. */
  appendContacts(campaignId: string, upload: IngestResult): Promise<AppendOutcome> {
    return this.appends.append(campaignId, upload);
  }

  /** An operator cancels one contact that is not in a call. */
  cancelContact(campaignId: string, contactId: string, seq: number): Promise<CancelOutcome> {
    return this.cancels.cancel(campaignId, contactId, seq);
  }

  // --- live events ----------------------------------------------------------------------------

  /** GET …/events (SSE) and …/events/ws (WebSocket), forwarded here by the Worker. */
  override async fetch(request: Request): Promise<Response> {
    const campaignId = new URL(request.url).searchParams.get("campaign_id") ?? "";
    if (!(await this.d1.load(campaignId))) return new Response(`Campaign ${campaignId} was not found.`, { status: 404 });
    return this.hub.open(request);
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer) {
    // The stream is one-way; "ping" never gets here (the runtime answers it). Anything else is ignored.
    const snapshot = this.snapshot();
    if (message === "snapshot" && snapshot) socket.send(JSON.stringify({ type: "snapshot", data: snapshot }));
  }

  override async webSocketClose(socket: WebSocket, code: number) {
    try {
      socket.close(code === 1005 ? 1000 : code, "closing");
    } catch {}
  }

  private snapshot(): Snapshot | null {
    const state = this.storage.campaign.get();
    if (!state) return null;
    const { campaign, attempts } = this.storage;
    return snapshotOf(state, campaign.stats(), { inFlight: attempts.inFlight(), attempts: attempts.total(), dispositions: this.storage.calls.dispositions() });
  }
}
