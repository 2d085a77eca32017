import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { loadAccount } from "./limits";

export interface BudgetHolder {
  campaign_id: string;
  name: string;
  amount: number;
}

export type BudgetResult = { ok: true } | { ok: false; cap: number; held: number; holders: BudgetHolder[] };

/**
 * One per account: the arbiter of limits shared by its campaigns. The start/resume budget lives
 * here so that two campaigns racing for the last slots are decided in one place, in order.
 */
export class AccountDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS reservations (
        campaign_id TEXT PRIMARY KEY, name TEXT NOT NULL, amount INTEGER NOT NULL, reserved_at INTEGER NOT NULL)`);
    });
  }

  /** Reserves `amount` of concurrent_max for a campaign about to run; idempotent per campaign. */
  async reserveBudget(accountId: string, holder: BudgetHolder): Promise<BudgetResult> {
    const account = await loadAccount(this.env, accountId);
    const cap = account?.concurrentMax ?? 0;
    // Everything below runs without an await, so concurrent reservations are decided one at a time.
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

  async budgetHolders(): Promise<BudgetHolder[]> {
    return this.sql
      .exec<{ campaign_id: string; name: string; amount: number }>("SELECT campaign_id, name, amount FROM reservations ORDER BY reserved_at")
      .toArray();
  }
}

export const getAccountStub = (env: Env, accountId: string) => env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));

export function budgetRefusal(campaignId: string, amount: number, result: Extract<BudgetResult, { ok: false }>): string {
  const running = result.holders.map((h) => `"${h.name}" (${h.campaign_id}, ${h.amount})`).join(", ");
  const who = running ? `running campaigns ${running} already hold ${result.held}` : "no campaign is running";
  return (
    `Not enough concurrent call budget for ${campaignId}: it needs ${amount}, ${who}, and the sum ${result.held + amount} ` +
    `would exceed the account's concurrent_max of ${result.cap}. Pause another campaign or reduce max_concurrent_calls.`
  );
}
