import { DurableObject } from "cloudflare:workers";
import { getAccountStub } from "../accounts/stub";
import type { Env } from "../env";
import type { ContactPolicy } from "./policy";
import { judgeDial, type LedgerDial, type PolicyRule, retentionMs } from "./rules";

/** A dial the campaign wants to place: the ledger grants it and holds the number, or says until when it must wait. */
export interface DialReservation {
  id: string;
  phone: string;
  /** The number's zones as calling windows tell them (its day for max_attempts_per_day). */
  zones: readonly string[];
  /** How long the number stays held if no one says the call ended: the longest call plus a margin. */
  holdMs: number;
}

/**
 * What became of an earlier reservation: `counted` (the carrier accepted, the call goes on),
 * `ended` (the call is over; the hold goes), `released` (it never became a dial). Carries the
 * reservation's number and time so a ledger that no longer has the row can take it again.
 */
export interface ReservationNote {
  id: string;
  phone: string;
  at: number;
  state: "counted" | "ended" | "released";
  voicemail: boolean;
  holdMs: number;
}

export interface LedgerExchange {
  accountId: string;
  campaignId: string;
  notes: ReservationNote[];
  reserve: DialReservation[];
}

export interface LedgerAnswer {
  granted: string[];
  waiting: { id: string; rule: PolicyRule; until: number }[];
  /** The policy's eligibility check as this shard knows it, so the dispatcher needs no request of its own. */
  eligibility: ContactPolicy["eligibility"];
}

const POLICY_KEY = "contact-policy";

type Row = Record<string, SqlStorageValue>;

/**
 * One shard of an account's contact ledger: every dial of the numbers that hash here, in any of
 * the account's campaigns, for as long as the policy's longest window needs it. Each exchange is
 * decided with no await between reading and writing, so campaigns asking at once are served in turn.
 */
export class ContactLedgerDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private policy: ContactPolicy | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS dials (
        reservation_id TEXT PRIMARY KEY, phone TEXT NOT NULL, campaign_id TEXT NOT NULL, at INTEGER NOT NULL,
        state TEXT NOT NULL, voicemail INTEGER NOT NULL DEFAULT 0, hold_until INTEGER NOT NULL)`);
      this.sql.exec("CREATE INDEX IF NOT EXISTS dials_phone ON dials (phone, at)");
      this.sql.exec("CREATE INDEX IF NOT EXISTS dials_at ON dials (at)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
      this.policy = (await ctx.storage.get<ContactPolicy>(POLICY_KEY)) ?? null;
    });
  }

  /** One request per campaign tick: the outcome of earlier reservations first, then the tick's batch decided in order. */
  async exchange(request: LedgerExchange): Promise<LedgerAnswer> {
    const policy = await this.currentPolicy(request.accountId);
    const now = Date.now();
    this.sql.exec("DELETE FROM dials WHERE at < ?", now - retentionMs(policy));
    for (const note of request.notes) this.applyNote(request.campaignId, note);
    const granted: string[] = [];
    const waiting: LedgerAnswer["waiting"] = [];
    for (const reservation of request.reserve) {
      if (this.sql.exec("SELECT 1 FROM dials WHERE reservation_id = ?", reservation.id).toArray().length > 0) {
        granted.push(reservation.id);
        continue;
      }
      const verdict = judgeDial(policy, this.dialsOf(reservation.phone), reservation.zones, now);
      if (!verdict.ok) {
        waiting.push({ id: reservation.id, rule: verdict.rule, until: verdict.until });
        continue;
      }
      this.sql.exec(
        "INSERT INTO dials (reservation_id, phone, campaign_id, at, state, hold_until) VALUES (?, ?, ?, ?, 'reserved', ?)",
        reservation.id,
        reservation.phone,
        request.campaignId,
        now,
        now + reservation.holdMs,
      );
      granted.push(reservation.id);
    }
    this.bump("exchanges", 1);
    this.bump("granted", granted.length);
    return { granted, waiting, eligibility: policy.eligibility };
  }

  /** A new policy from PUT /contact-policy; an older one arriving late (a first read racing a push) is ignored. */
  async setPolicy(policy: ContactPolicy): Promise<void> {
    if (this.policy && (this.policy.updatedAt ?? "") > (policy.updatedAt ?? "")) return;
    this.policy = policy;
    await this.ctx.storage.put(POLICY_KEY, policy);
  }

  /** What the shard holds; for operators, tests and the benchmark. */
  async inspect() {
    const counter = (name: string) => Number(this.sql.exec<Row>("SELECT value FROM counters WHERE name = ?", name).toArray()[0]?.value ?? 0);
    return {
      policy: this.policy,
      exchanges: counter("exchanges"),
      granted: counter("granted"),
      dials: this.sql
        .exec<{ reservation_id: string; phone: string; campaign_id: string; at: number; state: string; voicemail: number; hold_until: number }>(
          "SELECT * FROM dials ORDER BY at",
        )
        .toArray(),
    };
  }

  private applyNote(campaignId: string, note: ReservationNote) {
    if (note.state === "released") {
      this.sql.exec("DELETE FROM dials WHERE reservation_id = ?", note.id);
      return;
    }
    const holdUntil = note.state === "ended" ? 0 : note.at + note.holdMs;
    // A row pruned or never written (its reservation answer lost) is taken again: a carried dial always counts.
    this.sql.exec(
      `INSERT INTO dials (reservation_id, phone, campaign_id, at, state, voicemail, hold_until) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (reservation_id) DO UPDATE SET state = CASE WHEN dials.state = 'ended' THEN 'ended' ELSE excluded.state END,
         voicemail = max(dials.voicemail, excluded.voicemail), hold_until = min(dials.hold_until, excluded.hold_until)`,
      note.id,
      note.phone,
      campaignId,
      note.at,
      note.state,
      note.voicemail ? 1 : 0,
      holdUntil,
    );
  }

  private dialsOf(phone: string): LedgerDial[] {
    return this.sql
      .exec<{ at: number; voicemail: number; hold_until: number; state: string }>("SELECT at, voicemail, hold_until, state FROM dials WHERE phone = ?", phone)
      .toArray()
      .map((d) => ({ at: d.at, voicemail: d.voicemail === 1, holdUntil: d.state === "ended" ? 0 : d.hold_until }));
  }

  /** The policy pushed here, or, for a shard that never had one, the AccountDO's (asked once). */
  private async currentPolicy(accountId: string): Promise<ContactPolicy> {
    if (this.policy) return this.policy;
    const fetched = await getAccountStub(this.env, accountId).contactPolicy();
    // A push may have landed while the AccountDO was asked: it is at least as new.
    if (!this.policy) await this.setPolicy(fetched);
    return this.policy ?? fetched;
  }

  private bump(name: string, by: number) {
    this.sql.exec("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value", name, by);
  }
}
