import type { Env } from "../env";
import type { ContactPolicy } from "./policy";

// The ledger shards receive the policy here.
export async function pushContactPolicy(_env: Env, _accountId: string, _policy: ContactPolicy): Promise<void> {}
