/** The outcomes a campaign may choose to retry (`retry_on`): the transient ones and voicemail. */
export const RETRY_ON_CHOICES = ["busy", "no_answer", "failed", "timeout", "voicemail"] as const;
export type RetryOutcome = (typeof RETRY_ON_CHOICES)[number];

/** What is retried when a campaign does not say (SPEC "Retries"). */
export const DEFAULT_RETRY_ON: readonly RetryOutcome[] = ["busy", "no_answer", "failed", "timeout"];
