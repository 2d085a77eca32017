import { getAccountStub } from "../../accounts/stub";
import { type ContactPolicy, NO_CONTACT_POLICY } from "../../contact-policy/policy";
import type { Env } from "../../env";
import type { ObjectStorage } from "../storage/object-storage";
import type { LiveContact } from "../storage/working-contacts";
import type { DialStage } from "./dispatcher";

/**
 * Reads the account's contact policy once per tick, for the eligibility stage after it.
 * The ledger stage's answer replaces this read when the ledger is merged.
 */
export class AccountPolicyRead implements DialStage {
  private policy: ContactPolicy = NO_CONTACT_POLICY;

  constructor(
    private readonly env: Env,
    private readonly storage: ObjectStorage,
  ) {}

  /** Passes every contact; a failed read fails the tick, so no contact is dialled without the check it needs. */
  async admit(contacts: LiveContact[]): Promise<LiveContact[]> {
    const state = this.storage.campaign.get();
    if (state) this.policy = await getAccountStub(this.env, state.account_id).contactPolicy();
    return contacts;
  }

  eligibility(): ContactPolicy["eligibility"] {
    return this.policy.eligibility;
  }
}
