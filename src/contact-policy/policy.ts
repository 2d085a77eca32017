/** The account's contact policy as edgedial applies it (null = rule off). */
export interface ContactPolicy {
  maxAttempts: { count: number; days: number } | null;
  maxAttemptsPerDay: number | null;
  countVoicemail: boolean;
  minSecondsBetweenAttempts: number | null;
  /** The pre-dial eligibility check, when the account set one. */
  eligibility: { url: string; secret: string } | null;
  updatedAt: string | null;
}
export const NO_CONTACT_POLICY: ContactPolicy = {
  maxAttempts: null,
  maxAttemptsPerDay: null,
  countVoicemail: true,
  minSecondsBetweenAttempts: null,
  eligibility: null,
  updatedAt: null,
};
