import type { Env } from "../env";
import type { AccountDO, BudgetResult } from "./account-do";

/** The account's object: the Worker and the campaign objects reach it only through this getter. */
export const getAccountStub = (env: Env, accountId: string) => (env.ACCOUNTS as DurableObjectNamespace<AccountDO>).get(env.ACCOUNTS.idFromName(accountId));

export function budgetRefusal(campaignId: string, amount: number, result: Extract<BudgetResult, { ok: false }>): string {
  const running = result.holders.map((h) => `"${h.name}" (${h.campaign_id}, ${h.amount})`).join(", ");
  const who = running ? `running campaigns ${running} already hold ${result.held}` : "no campaign is running";
  return (
    `Not enough concurrent call budget for ${campaignId}: it needs ${amount}, ${who}, and the sum ${result.held + amount} ` +
    `would exceed the account's concurrent_max of ${result.cap}. Pause another campaign or reduce max_concurrent_calls.`
  );
}
