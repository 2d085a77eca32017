import { z } from "@hono/zod-openapi";
import { badRequest, quoted, shortened } from "../http/errors";

const MAX_DATA_KEYS = 50;
const MAX_DATA_BYTES = 8 * 1024;
const MAX_SUMMARY_CHARS = 4_000;
const MAX_URL_CHARS = 2_048;
const CALLBACK_MIN_SECONDS = 60;
const CALLBACK_MAX_SECONDS = 30 * 86_400;
export const DISPOSITION_PATTERN = /^[a-z0-9_]{1,64}$/;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const isHttps = (raw: string) => {
  try {
    return new URL(raw).protocol === "https:";
  } catch {
    return false;
  }
};

/** Client libraries send null for a field they leave out; null means absent for every optional field. */
const optional = <S extends z.ZodType>(schema: S) => schema.nullish().transform((value) => value ?? undefined);

const httpsUrl = (name: string) =>
  optional(
    z
      .string({ error: `${name} must be a string` })
      .max(MAX_URL_CHARS, `${name} must be at most ${MAX_URL_CHARS} characters`)
      .refine(isHttps, `${name} must be an https:// URL`),
  ).openapi({ format: "uri", description: "An https URL, at most 2,048 characters." });

const dispositionName = z
  .string({ error: "disposition is required: a name such as interested" })
  .regex(DISPOSITION_PATTERN, "disposition must be 1–64 characters of a-z, 0-9 and _ (such as interested)");

/** What an agent reports about one call (SPEC "Call results"); times are checked against the clock by resolveCallback. */
export const callResultSchema = z
  .strictObject(
    {
      disposition: dispositionName.openapi({ example: "interested", description: "1–64 characters of a-z, 0-9 and _." }),
      data: optional(
        z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()], { error: "data values must be strings, numbers, booleans or null" }), {
            error: "data must be an object whose values are strings, numbers, booleans or null",
          })
          .refine((data) => Object.keys(data).length <= MAX_DATA_KEYS, `data must have at most ${MAX_DATA_KEYS} keys`)
          .refine((data) => new TextEncoder().encode(JSON.stringify(data)).length <= MAX_DATA_BYTES, "data must be at most 8 KB as JSON"),
      ).openapi({ description: "Structured fields the agent collected: at most 50 keys, scalar values, 8 KB as JSON." }),
      summary: optional(z.string({ error: "summary must be a string" }).max(MAX_SUMMARY_CHARS, `summary must be at most ${MAX_SUMMARY_CHARS} characters`)),
      transcript_url: httpsUrl("transcript_url"),
      recording_url: httpsUrl("recording_url"),
      callback_at: optional(
        z.string({ error: "callback_at must be a string" }).regex(RFC3339, "callback_at must be an RFC 3339 time such as 2030-01-31T15:00:00Z"),
      ).openapi({
        format: "date-time",
        description: "Call the contact again then (1 minute to 30 days ahead), moved into its calling window.",
      }),
      callback_in_seconds: optional(
        z
          .int({ error: `callback_in_seconds must be a whole number from ${CALLBACK_MIN_SECONDS} to ${CALLBACK_MAX_SECONDS}` })
          .min(CALLBACK_MIN_SECONDS, `callback_in_seconds must be from ${CALLBACK_MIN_SECONDS} to ${CALLBACK_MAX_SECONDS}`)
          .max(CALLBACK_MAX_SECONDS, `callback_in_seconds must be from ${CALLBACK_MIN_SECONDS} to ${CALLBACK_MAX_SECONDS}`),
      ).openapi({ description: "Instead of callback_at: call again this many seconds from now (60 to 2,592,000)." }),
      opt_out: optional(z.boolean({ error: "opt_out must be true or false" })).openapi({
        description: "The person asked not to be called again: the number goes on the account's do-not-call list before the answer returns.",
      }),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}` : undefined) },
  )
  .refine((body) => body.callback_at === undefined || body.callback_in_seconds === undefined, {
    message: "give callback_at or callback_in_seconds, not both",
  })
  .openapi("CallResultInput");

export type CallResultInput = z.output<typeof callResultSchema>;

/** When the callback is due (epoch ms), or null for none; a time outside 1 minute to 30 days ahead is a 400 naming the field. */
export function resolveCallback(input: Partial<Pick<CallResultInput, "callback_at" | "callback_in_seconds">>, now: number): number | null {
  if (input.callback_in_seconds !== undefined) return now + input.callback_in_seconds * 1000;
  if (input.callback_at === undefined) return null;
  const at = Date.parse(input.callback_at);
  if (Number.isNaN(at)) throw badRequest(`callback_at must be an RFC 3339 time such as 2030-01-31T15:00:00Z; got ${quoted(input.callback_at)}.`);
  if (at < now + CALLBACK_MIN_SECONDS * 1000 || at > now + CALLBACK_MAX_SECONDS * 1000) {
    throw badRequest(`callback_at must be from 1 minute to 30 days ahead; got ${shortened(input.callback_at)}.`);
  }
  return at;
}

/** A campaign that declares its dispositions takes no other name (SPEC "Call results"). */
/** Why a disposition is not one the campaign declares, or null when it is (or the campaign takes any). */
export function dispositionProblem(disposition: string, allowed: readonly string[] | null): string | null {
  if (!allowed || allowed.includes(disposition)) return null;
  return `disposition ${quoted(disposition)} is not one this campaign declares; use one of ${allowed.join(", ")}.`;
}
