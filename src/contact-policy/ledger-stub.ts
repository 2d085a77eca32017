import { getAccountStub } from "../accounts/stub";
import type { Env } from "../env";
import type { ContactLedgerDO } from "./ledger-do";
import type { ContactPolicy } from "./policy";

export type { DialReservation, LedgerAnswer, ReservationNote } from "./ledger-do";

/** One shard of the account's ledger, named so any campaign finds the same one for a number. */
export const getLedgerShard = (env: Env, accountId: string, shard: number) =>
  (env.CONTACT_LEDGER as DurableObjectNamespace<ContactLedgerDO>).get(env.CONTACT_LEDGER.idFromName(`ledger:${accountId}:${shard}`));

/** The shard that keeps a number's dials: FNV-1a of its E.164 digits, so the spread is even and stable. */
export function shardOfNumber(phone: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < phone.length; i++) {
    hash ^= phone.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** The account's shard count, fixed by its AccountDO the first time anyone asks. */
export const ledgerShardCount = (env: Env, accountId: string): Promise<number> => getAccountStub(env, accountId).contactLedgerShards();

/**
 * After PUT /contact-policy stored a policy in the AccountDO: hands it to every shard of the
 * account's ledger, resolving once all have it, so the change applies from the next dial.
 */
export async function pushContactPolicy(env: Env, accountId: string, policy: ContactPolicy): Promise<void> {
  const shards = await ledgerShardCount(env, accountId);
  await Promise.all(Array.from({ length: shards }, (_, shard) => getLedgerShard(env, accountId, shard).setPolicy(policy)));
}
