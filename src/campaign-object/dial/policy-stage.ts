import { contactZones } from "../../calling-window/calling-window";
import {
  type DialReservation,
  getLedgerShard,
  type LedgerAnswer,
  ledgerShardCount,
  type ReservationNote,
  shardOfNumber,
} from "../../contact-policy/ledger-stub";
import type { ContactPolicy } from "../../contact-policy/policy";
import type { Env } from "../../env";
import { newId } from "../../ids";
import type { LedgerMark } from "../storage/ledger-marks";
import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";
import { type DialStage, RING_TIMEOUT_S, TIME_LIMIT_S } from "./dispatcher";

/** A number held by a live call is only held as long as a call can last: the carrier hangs up at the time limit. */
const CALL_HOLD_MS = (RING_TIMEOUT_S + TIME_LIMIT_S) * 1000 + 5 * 60_000;
/** A contact whose number is in another live call looks again this soon (the call's end is not known in advance). */
const IN_CALL_RECHECK_MS = 15_000;
/** A number this tick reserved but did not dial is freed by the next tick's request when that comes this soon, else at once. */
const RELEASE_RIDES_WITHIN_MS = 5_000;

/** What the ledger has cost this campaign since its object last started (memory only), for the dispatch view and the benchmark. */
export interface LedgerRequestCounts {
  /** Requests to ledger shards: one per shard asked per tick. */
  requests: number;
  reserved: number;
  held_back: number;
}

/**
 * The account's contact policy between the DNC check and the account lease: the tick's whole
 * batch goes to the ledger shards at once (one request per shard), carrying what became of
 * earlier reservations. A granted contact holds its number until its call ends; a refused one
 * waits until the policy allows it, blocking no one behind it.
 */
export class ContactPolicyStage implements DialStage {
  readonly counts: LedgerRequestCounts = { requests: 0, reserved: 0, held_back: 0 };
  private shards: number | null = null;
  private eligibility: ContactPolicy["eligibility"] = null;
  private askedThisTick = false;

  constructor(
    private readonly env: Env,
    private readonly storage: ObjectStorage,
    private readonly durable: DurableObjectStorage,
  ) {}

  tickStarted() {
    this.askedThisTick = false;
    this.storage.ledgerMarks.capture();
  }

  async admit(contacts: LiveContact[], now: number): Promise<LiveContact[]> {
    const state = this.storage.campaign.get();
    if (!state || contacts.length === 0) return contacts;
    const shards = await this.shardCount(state.account_id);
    const asks = contacts.map((contact) => ({
      reservation_id: newId("rsv", now),
      contact_id: contact.contact_id,
      phone: contact.phone,
      shard: shardOfNumber(contact.phone, shards),
      at: now,
    }));
    // On disk before any request leaves: a crash while it is out leaves a row to release.
    this.storage.ledgerMarks.ask(asks);
    await this.durable.sync();
    const byId = new Map(contacts.map((c) => [c.contact_id, c]));
    const reserve = new Map<number, DialReservation[]>();
    for (const ask of asks) {
      const contact = byId.get(ask.contact_id) as LiveContact;
      const list = reserve.get(ask.shard) ?? [];
      list.push({ id: ask.reservation_id, phone: ask.phone, zones: contactZones(null, contact).zones, holdMs: CALL_HOLD_MS });
      reserve.set(ask.shard, list);
    }
    const answers = await this.exchange(state.account_id, state.campaign_id, reserve);
    const granted = new Set(answers.flatMap((a) => a.granted));
    const waits = new Map(answers.flatMap((a) => a.waiting.map((w) => [w.id, w] as const)));
    this.storage.ledgerMarks.answered([...granted], [...waits.keys()]);
    const admitted = new Set<string>();
    for (const ask of asks) {
      const wait = waits.get(ask.reservation_id);
      if (!wait) {
        if (granted.has(ask.reservation_id)) admitted.add(ask.contact_id);
        continue;
      }
      const until = wait.rule === "in_call" ? Math.min(wait.until, now + IN_CALL_RECHECK_MS) : wait.until;
      this.storage.contacts.waitForPolicy(ask.contact_id, until);
      this.counts.held_back++;
    }
    this.counts.reserved += granted.size;
    return contacts.filter((c) => admitted.has(c.contact_id));
  }

  dialPlaced(contactId: string, attemptId: string) {
    this.storage.ledgerMarks.attach(contactId, attemptId);
  }

  /**
   * Reservations this tick did not dial are released. A confirmation always waits for the next
   * request (the reservation already counts and holds the number); a change that frees a number
   * rides on the next tick's request when that tick is near, and otherwise goes now.
   */
  async tickEnded() {
    const marks = this.storage.ledgerMarks;
    marks.capture();
    const unsent = marks.unsent();
    if (unsent.every((m) => m.want === "counted")) return;
    const next = this.storage.timers.dueAt("dispatch");
    if (this.askedThisTick && next !== null && next <= Date.now() + RELEASE_RIDES_WITHIN_MS) return;
    const state = this.storage.campaign.get();
    if (state) await this.exchange(state.account_id, state.campaign_id, new Map());
  }

  /** SPEC: when nothing can be dialled because of the contact policy, how many wait and when the next becomes eligible. */
  waitingReason(now: number): string | null {
    const { waiting, nextEligible } = this.storage.contacts.policyWaits(now);
    if (waiting === 0 || nextEligible === null) return null;
    const when = new Date(nextEligible).toISOString().replace(".000Z", "Z");
    return `${waiting} ${waiting === 1 ? "contact waits" : "contacts wait"} for the account's contact policy; the next becomes eligible at ${when}.`;
  }

  /** The eligibility check's settings from the ledger's last answer, so a later stage of the same tick needs no request for them. */
  currentEligibility(): ContactPolicy["eligibility"] {
    return this.eligibility;
  }

  /** One request per shard that has reservations or unsent changes; the changes are confirmed as each answers. */
  private async exchange(accountId: string, campaignId: string, reserve: Map<number, DialReservation[]>): Promise<LedgerAnswer[]> {
    const byShard = new Map<number, LedgerMark[]>();
    for (const mark of this.storage.ledgerMarks.unsent()) byShard.set(mark.shard, [...(byShard.get(mark.shard) ?? []), mark]);
    const shards = new Set([...reserve.keys(), ...byShard.keys()]);
    if (shards.size === 0) return [];
    this.askedThisTick = true;
    this.counts.requests += shards.size;
    return Promise.all(
      [...shards].map(async (shard) => {
        const marks = byShard.get(shard) ?? [];
        const answer = await getLedgerShard(this.env, accountId, shard).exchange({
          accountId,
          campaignId,
          notes: marks.map(noteOf),
          reserve: reserve.get(shard) ?? [],
        });
        this.storage.ledgerMarks.confirmed(marks);
        this.eligibility = answer.eligibility;
        return answer;
      }),
    );
  }

  private async shardCount(accountId: string): Promise<number> {
    this.shards ??= await ledgerShardCount(this.env, accountId);
    return this.shards;
  }
}

const noteOf = (mark: LedgerMark): ReservationNote => ({
  id: mark.reservation_id,
  phone: mark.phone,
  at: mark.at,
  state: mark.want as ReservationNote["state"],
  voicemail: mark.voicemail === 1,
  holdMs: CALL_HOLD_MS,
});
