import { nowIso } from "../../db/client";
import { listedAmong } from "../../dnc/check";
import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";
import type { Transitions } from "../transitions";
import type { DialStage } from "./dispatcher";

/**
 * What the dial-time check has cost this campaign since its object last started (memory only):
 * the admin dispatch view shows it, so an operator can see what a large list adds to each tick.
 */
export interface DncCheckTimes {
  checks: number;
  numbers_checked: number;
  listed_found: number;
  total_ms: number;
  max_ms: number;
  last: { at: string; numbers: number; listed: number; ms: number } | null;
}

/**
 * The do-not-call check just before dialling: one D1 query for the tick's whole batch, before any
 * slot is leased. A listed contact is cancelled with outcome `dnc` and no attempt. Together with
 * Dispatcher.fence() (awaited by the DNC add), no dial starts after an add that lists its number
 * has returned.
 */
export class DncStage implements DialStage {
  constructor(
    private readonly parts: {
      db: D1Database;
      storage: ObjectStorage;
      transitions: Transitions;
      durable: DurableObjectStorage;
    },
  ) {}

  readonly times: DncCheckTimes = { checks: 0, numbers_checked: 0, listed_found: 0, total_ms: 0, max_ms: 0, last: null };

  async admit(contacts: LiveContact[], now: number): Promise<LiveContact[]> {
    const { db, storage, transitions, durable } = this.parts;
    const state = storage.campaign.get();
    if (!state) return contacts;
    // No request leaves before this tick's earlier writes are on disk (output gate); the tick pays that
    // wait at its first outgoing call with or without this check, so wait here and time the query alone.
    await durable.sync();
    const started = performance.now();
    const listed = await listedAmong(
      db,
      state.account_id,
      contacts.map((c) => c.phone),
    );
    this.record(contacts.length, listed.size, performance.now() - started, now);
    if (listed.size === 0) return contacts;
    const at = nowIso(now);
    const admitted: LiveContact[] = [];
    for (const contact of contacts) {
      if (!listed.has(contact.phone)) {
        admitted.push(contact);
        continue;
      }
      // Read again: a stop may have cancelled it while the query was out.
      const current = storage.contacts.get(contact.contact_id);
      if (current?.status === "pending") transitions.contact(current, { status: "cancelled", outcome: "dnc", next_attempt_at: null }, current.attempts, at);
    }
    return admitted;
  }

  private record(numbers: number, listed: number, ms: number, now: number) {
    const t = this.times;
    t.checks++;
    t.numbers_checked += numbers;
    t.listed_found += listed;
    t.total_ms += ms;
    t.max_ms = Math.max(t.max_ms, ms);
    t.last = { at: nowIso(now), numbers, listed, ms };
  }
}
