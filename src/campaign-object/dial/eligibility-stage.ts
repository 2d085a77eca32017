import type { FetchLike } from "../../carriers/types";
import {
  askEligibility,
  type EligibilityAnswer,
  type EligibilityContact,
  eligibilityBatches,
  eligibilityRetryDelayMs,
  OMITTED_RETRY_MS,
} from "../../contact-policy/eligibility";
import { nowIso } from "../../db/client";
import { decryptSecret } from "../../http/crypto";
import { importSigningKey } from "../../outbox/signing";
import { urlPolicyFor } from "../../outbox/url-policy";
import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";
import type { Transitions } from "../transitions";
import type { DialStage } from "./dispatcher";

/** Latencies kept for the admin view's percentiles (memory only, newest last). */
const KEPT_SAMPLES = 1_000;

/**
 * What the check has cost since the object last started: the admin dispatch view shows it, and
 * the policy benchmark prints its p99 from it.
 */
export interface EligibilityCheckTimes {
  requests: number;
  failures: number;
  contacts_checked: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/**
 * The pre-dial eligibility check, the last stage before the account lease, so only contacts that
 * could be dialled now are asked about. An answer is good for this tick only: nothing of it is
 * stored, so a contact approved by a tick that crashed before dialling is asked again. A failed
 * check (timeout, non-2xx, redirect, malformed answer) dials no one of its batch: they wait, and the
 * campaign asks nobody before the backoff ends (dial_after), so a failing endpoint is not hammered.
 */
export class EligibilityStage implements DialStage {
  /** Failed checks in a row; the backoff grows with it and a good answer resets it. */
  private failures = 0;
  private failure: { reason: string; retryAt: number; waiting: number } | null = null;
  private omitted: { waiting: number; askAgainAt: number } | null = null;
  private key: { sealed: string; key: Promise<CryptoKey> } | null = null;
  private samples: number[] = [];
  private readonly counts = { requests: 0, failures: 0, contacts_checked: 0, max_ms: 0 };

  constructor(
    private readonly parts: {
      storage: ObjectStorage;
      transitions: Transitions;
      durable: DurableObjectStorage;
      env: { SECRETS_KEY?: string; SIMULATOR_ENABLED?: string };
      fetch: FetchLike;
      /** The account's check as of this tick (null: the account has none). */
      eligibility: () => { url: string; secret: string } | null;
    },
  ) {}

  async admit(contacts: LiveContact[]): Promise<LiveContact[]> {
    const { storage, durable } = this.parts;
    const target = this.parts.eligibility();
    const state = target ? storage.campaign.get() : null;
    if (!target || !state) {
      this.failures = 0;
      this.failure = null;
      this.omitted = null;
      return contacts;
    }
    // No request leaves before this tick's earlier writes are on disk (output gate): wait here so the latency is the exchange alone.
    await durable.sync();
    const key = await this.signingKey(target.secret);
    const answers = await Promise.all(
      eligibilityBatches(contacts).map(async (batch) => ({
        batch,
        answer: key
          ? await this.ask(target.url, key, batch, state.campaign_id)
          : ({ ok: false, reason: "its secret could not be read; set eligibility_url again" } as const),
      })),
    );
    const now = Date.now();
    const admitted: LiveContact[] = [];
    const held: LiveContact[] = [];
    const omitted: LiveContact[] = [];
    let failed: string | null = null;
    for (const { batch, answer } of answers) {
      if (!answer.ok) {
        failed ??= answer.reason;
        held.push(...batch);
        continue;
      }
      for (const contact of batch) {
        const verdict = answer.verdicts.get(contact.contact_id);
        if (!verdict) omitted.push(contact);
        else if (verdict.dial) admitted.push(contact);
        else this.refuse(contact, verdict.reason, now);
      }
    }
    this.omitted = omitted.length > 0 ? { waiting: omitted.length, askAgainAt: now + OMITTED_RETRY_MS } : null;
    this.postpone(omitted, now + OMITTED_RETRY_MS, now);
    if (failed === null) {
      this.failures = 0;
      this.failure = null;
      return admitted;
    }
    this.failures++;
    const retryAt = now + eligibilityRetryDelayMs(this.failures);
    this.failure = { reason: `${new URL(target.url).host}: ${failed}`, retryAt, waiting: held.length };
    this.postpone(held, retryAt, now);
    // The whole campaign waits for the retry: asking again sooner for other contacts would only add load to a failing endpoint.
    storage.campaign.patch({ dial_after: retryAt });
    storage.timers.set("dispatch", retryAt);
    return admitted;
  }

  /** SPEC: the endpoint's failure, or the contacts its last answer left out, when that is why no one was dialled. */
  waitingReason(now: number): string | null {
    const when = (at: number) => new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");
    if (this.failure && this.failure.retryAt > now) {
      const { reason, retryAt, waiting } = this.failure;
      return `Waiting: the eligibility check failed (${reason}); ${waiting} ${waiting === 1 ? "contact waits" : "contacts wait"} and it is asked again at ${when(retryAt)}.`;
    }
    if (this.omitted && this.omitted.askAgainAt > now) {
      const { waiting, askAgainAt } = this.omitted;
      return `Waiting: the eligibility check's answer left out ${waiting} ${waiting === 1 ? "contact" : "contacts"}; ${waiting === 1 ? "it is" : "they are"} asked about again at ${when(askAgainAt)}.`;
    }
    return null;
  }

  /** What the check has cost so far, for the admin dispatch view and benchmarks. */
  times(): EligibilityCheckTimes {
    const sorted = [...this.samples].sort((a, b) => a - b);
    return { ...this.counts, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99) };
  }

  private async ask(url: string, key: CryptoKey, batch: LiveContact[], campaignId: string): Promise<EligibilityAnswer> {
    const contacts: EligibilityContact[] = batch.map((c) => ({
      contact_id: c.contact_id,
      campaign_id: campaignId,
      phone_number: c.phone,
      custom_fields: JSON.parse(c.custom_fields) as Record<string, unknown>,
      attempt: c.attempts + 1,
    }));
    const started = performance.now();
    const answer = await askEligibility(this.parts.fetch, { url, key }, urlPolicyFor(this.parts.env), contacts);
    this.record(performance.now() - started, batch.length, answer.ok);
    return answer;
  }

  /** dial:false → cancelled with outcome ineligible; read again, as a stop may have cancelled it while the check was out. */
  private refuse(contact: LiveContact, reason: string | null, now: number) {
    const current = this.parts.storage.contacts.get(contact.contact_id);
    if (current?.status !== "pending") return;
    const lastError = reason ?? "The eligibility check answered dial: false.";
    this.parts.transitions.contact(
      current,
      { status: "cancelled", outcome: "ineligible", last_error: lastError, next_attempt_at: null },
      current.attempts,
      nowIso(now),
    );
  }

  /** Contacts not dialled this tick wait until `until`: they stop being due, so they hold no one else up. */
  private postpone(contacts: LiveContact[], until: number, now: number) {
    const { storage, transitions } = this.parts;
    for (const contact of contacts) {
      const current = storage.contacts.get(contact.contact_id);
      if (current?.status === "pending") transitions.contact(current, { next_attempt_at: until }, current.attempts, nowIso(now));
    }
  }

  /** The sealed secret's signing key, decrypted and imported once per secret; null when it cannot be read (fails closed). */
  private async signingKey(sealed: string): Promise<CryptoKey | null> {
    if (this.key?.sealed !== sealed) {
      this.key = { sealed, key: decryptSecret(sealed, this.parts.env.SECRETS_KEY).then(importSigningKey) };
    }
    try {
      return await this.key.key;
    } catch {
      this.key = null;
      return null;
    }
  }

  private record(ms: number, contacts: number, ok: boolean) {
    const c = this.counts;
    c.requests++;
    c.contacts_checked += contacts;
    if (!ok) c.failures++;
    c.max_ms = Math.max(c.max_ms, ms);
    this.samples.push(ms);
    if (this.samples.length > KEPT_SAMPLES) this.samples.splice(0, this.samples.length - KEPT_SAMPLES);
  }
}
