import { z } from "@hono/zod-openapi";
import { checkWebhookUrl, MAX_URL_LENGTH, type UrlPolicy } from "../outbox/url-policy";

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

/** The AccountDO storage key the policy is kept under (serialized ContactPolicy); `eligibility.secret` is stored sealed with SECRETS_KEY. */
export const CONTACT_POLICY_KEY = "contact-policy";

/** Bounds of each rule (SPEC for max_attempts; the others are documented in docs/contact-policy.md). */
const POLICY_BOUNDS = {
  count: { min: 1, max: 100 },
  days: { min: 1, max: 30 },
  perDay: { min: 1, max: 100 },
  spacingSeconds: { min: 0, max: 7 * 86_400 },
} as const;

/** Messages leave out the field: the validation hook puts its path in front. */
const whole = (bounds: { min: number; max: number }) => {
  const sentence = `must be a whole number from ${bounds.min} to ${bounds.max}`;
  return z
    .int({ error: (issue) => `${sentence}; got ${JSON.stringify(issue.input) ?? "nothing"}` })
    .min(bounds.min, { error: (issue) => `${sentence}; got ${String(issue.input)}` })
    .max(bounds.max, { error: (issue) => `${sentence}; got ${String(issue.input)}` });
};

const maxAttemptsSchema = z
  .strictObject(
    { count: whole(POLICY_BOUNDS.count), days: whole(POLICY_BOUNDS.days) },
    { error: (issue) => (issue.code === "unrecognized_keys" ? "takes only count and days" : 'must be {"count", "days"} or null') },
  )
  .openapi("MaxAttempts", { description: "At most `count` dials of one number in any rolling `days` days." });

/** The PUT body: every field optional, `null` clears a rule, an unknown field is a 400 naming it. */
export const contactPolicyInputSchema = z
  .strictObject(
    {
      max_attempts: maxAttemptsSchema.nullable().optional(),
      max_attempts_per_day: whole(POLICY_BOUNDS.perDay)
        .nullable()
        .optional()
        .describe("Dials of one number since 00:00 in the number's own zone (as calling windows tell it)."),
      count_voicemail: z.boolean("must be true or false").optional().describe("Whether a dial that reached voicemail counts (default true)."),
      min_seconds_between_attempts: whole(POLICY_BOUNDS.spacingSeconds).nullable().optional().describe("Least time between two dials of one number."),
      eligibility_url: z
        .string("must be a URL or null")
        .trim()
        .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters long`)
        .nullable()
        .optional()
        .describe("The pre-dial eligibility check: https to a public address, as for webhook endpoints. A new URL gets a new `eligibility_secret`."),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}` : undefined) },
  )
  .openapi("ContactPolicyInput");

export type ContactPolicyInput = z.infer<typeof contactPolicyInputSchema>;

export const contactPolicySchema = z
  .object({
    max_attempts: maxAttemptsSchema.nullable(),
    max_attempts_per_day: z.int().nullable(),
    count_voicemail: z.boolean(),
    min_seconds_between_attempts: z.int().nullable(),
    eligibility_url: z.string().nullable(),
    updated_at: z.string().nullable().describe("When the policy last changed; null while the account has never set one."),
  })
  .openapi("ContactPolicy", { description: "The rules every campaign of the account obeys; null means the rule is off." });

export function contactPolicyView(policy: ContactPolicy): z.infer<typeof contactPolicySchema> {
  return {
    max_attempts: policy.maxAttempts,
    max_attempts_per_day: policy.maxAttemptsPerDay,
    count_voicemail: policy.countVoicemail,
    min_seconds_between_attempts: policy.minSecondsBetweenAttempts,
    eligibility_url: policy.eligibility?.url ?? null,
    updated_at: policy.updatedAt,
  };
}

/** The eligibility URL under the webhook URL rules, its problem named as the field's. */
export function checkEligibilityUrl(raw: string, policy: UrlPolicy): { ok: true; url: string } | { ok: false; reason: string } {
  const check = checkWebhookUrl(raw, policy);
  if (!check.ok) return { ok: false, reason: check.reason.replace(/^url\b/, "eligibility_url") };
  return { ok: true, url: check.url.href };
}

/**
 * The policy after a PUT: only the fields given change. `eligibility` is the check as the caller
 * resolved it (undefined: unchanged; a new URL comes with its new sealed secret).
 */
export function changedContactPolicy(
  current: ContactPolicy,
  input: Omit<ContactPolicyInput, "eligibility_url">,
  eligibility: ContactPolicy["eligibility"] | undefined,
  at: string,
): ContactPolicy {
  return {
    maxAttempts: input.max_attempts === undefined ? current.maxAttempts : input.max_attempts,
    maxAttemptsPerDay: input.max_attempts_per_day === undefined ? current.maxAttemptsPerDay : input.max_attempts_per_day,
    countVoicemail: input.count_voicemail ?? current.countVoicemail,
    minSecondsBetweenAttempts: input.min_seconds_between_attempts === undefined ? current.minSecondsBetweenAttempts : input.min_seconds_between_attempts,
    eligibility: eligibility === undefined ? current.eligibility : eligibility,
    updatedAt: at,
  };
}
