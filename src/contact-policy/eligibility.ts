/**
 * The pre-dial eligibility check (SPEC "Account contact policy"): a batch of due contacts is put to
 * the account's endpoint as a signed Standard Webhooks message, and only the contacts it answers
 * `dial: true` for may be dialled. It fails closed: anything but a well-formed 2xx answer in time
 * dials no one of the batch.
 */

import type { FetchLike } from "../carriers/types";
import { newId } from "../ids";
import { outcomeOfResponse } from "../outbox/schedule";
import { webhookHeaders } from "../outbox/signing";
import { checkWebhookUrl, type UrlPolicy } from "../outbox/url-policy";

const ELIGIBILITY_EVENT_TYPE = "contact.eligibility";
/** Contacts per request. */
const ELIGIBILITY_BATCH_SIZE = 100;
const ELIGIBILITY_TIMEOUT_MS = 5_000;
/** After the 1st, 2nd, … failed check in a row; every later failure waits the last step. */
const ELIGIBILITY_RETRY_MS = [5_000, 15_000, 60_000, 5 * 60_000] as const;
/** A contact the answer left out is asked about again after this. */
export const OMITTED_RETRY_MS = 30_000;
/** Longest answer read; 100 verdicts with reasons fit many times over. */
const MAX_ANSWER_BYTES = 256 * 1024;
/** A refusal's reason becomes the contact's last_error, cut to this length. */
const MAX_REASON_LENGTH = 500;

export interface EligibilityContact {
  contact_id: string;
  campaign_id: string;
  phone_number: string;
  custom_fields: Record<string, unknown>;
  /** The attempt this dial would be (1 for a first call). */
  attempt: number;
}

interface Verdict {
  dial: boolean;
  reason: string | null;
}

export type EligibilityAnswer = { ok: true; verdicts: Map<string, Verdict> } | { ok: false; reason: string };

/** Delay before asking again after `failures` failed checks in a row (≥ 1). */
export function eligibilityRetryDelayMs(failures: number): number {
  const steps = ELIGIBILITY_RETRY_MS;
  return steps[Math.min(Math.max(1, failures), steps.length) - 1] as number;
}

/** Batches of at most ELIGIBILITY_BATCH_SIZE, in order. */
export function eligibilityBatches<T>(contacts: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < contacts.length; i += ELIGIBILITY_BATCH_SIZE) batches.push(contacts.slice(i, i + ELIGIBILITY_BATCH_SIZE));
  return batches;
}

/** The body signed and sent: the same `{type, timestamp, data}` envelope as every edgedial webhook. */
const eligibilityBody = (contacts: EligibilityContact[], at: number) =>
  JSON.stringify({ type: ELIGIBILITY_EVENT_TYPE, timestamp: new Date(at).toISOString(), data: { contacts } });

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The endpoint's answer, read strictly: any deviation is a failure that names it. Pure. */
export function readEligibilityAnswer(status: number, location: string | null, text: string, asked: ReadonlySet<string>): EligibilityAnswer {
  const outcome = outcomeOfResponse(status, location);
  if (!outcome.ok) return { ok: false, reason: outcome.error };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: `HTTP ${status} with a body that is not JSON; answer {"results":[{"contact_id","dial"}]}.` };
  }
  if (!isRecord(body) || !Array.isArray(body.results)) return { ok: false, reason: 'the answer has no "results" array.' };
  const extra = Object.keys(body).filter((k) => k !== "results");
  if (extra.length > 0) return { ok: false, reason: `the answer has unknown field ${extra.join(", ")}.` };
  const verdicts = new Map<string, Verdict>();
  for (const [i, item] of body.results.entries()) {
    const where = `results[${i}]`;
    if (!isRecord(item)) return { ok: false, reason: `${where} is not an object.` };
    const unknown = Object.keys(item).filter((k) => k !== "contact_id" && k !== "dial" && k !== "reason");
    if (unknown.length > 0) return { ok: false, reason: `${where} has unknown field ${unknown.join(", ")}.` };
    const { contact_id: id, dial, reason } = item;
    if (typeof id !== "string") return { ok: false, reason: `${where}.contact_id must be a string.` };
    if (!asked.has(id)) return { ok: false, reason: `${where}.contact_id ${id.slice(0, 60)} was not asked about.` };
    if (verdicts.has(id)) return { ok: false, reason: `${where}.contact_id ${id} is answered twice.` };
    if (typeof dial !== "boolean") return { ok: false, reason: `${where}.dial must be true or false.` };
    if (reason !== undefined && reason !== null && typeof reason !== "string") return { ok: false, reason: `${where}.reason must be a string.` };
    verdicts.set(id, { dial, reason: typeof reason === "string" && reason.trim() !== "" ? reason.trim().slice(0, MAX_REASON_LENGTH) : null });
  }
  return { ok: true, verdicts };
}

/** The answer's text, or null past the limit. */
async function boundedText(response: Response): Promise<string | null> {
  const declared = Number(response.headers.get("Content-Length") ?? 0);
  if (declared > MAX_ANSWER_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    return null;
  }
  const text = await response.text();
  return text.length > MAX_ANSWER_BYTES ? null : text;
}

export interface EligibilityTarget {
  url: string;
  /** The signing key of the policy's `whsec_` secret. */
  key: CryptoKey;
}

/**
 * One signed POST of one batch and its answer. The URL is checked again under the deployment's
 * current policy; redirects are answers, never followed; no answer in 5 s is a failure.
 */
export async function askEligibility(
  fetch: FetchLike,
  target: EligibilityTarget,
  urlPolicy: UrlPolicy,
  contacts: EligibilityContact[],
  timeoutMs = ELIGIBILITY_TIMEOUT_MS,
): Promise<EligibilityAnswer> {
  const check = checkWebhookUrl(target.url, urlPolicy);
  if (!check.ok) return { ok: false, reason: check.reason };
  const now = Date.now();
  const body = eligibilityBody(contacts, now);
  // A cleared timer, not AbortSignal.timeout: that one stays armed after the answer and keeps the object awake.
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<EligibilityAnswer>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException("The eligibility endpoint did not answer in time.", "TimeoutError"));
      resolve({ ok: false, reason: `no answer within ${timeoutMs / 1000} s.` });
    }, timeoutMs);
  });
  const exchange = async (): Promise<EligibilityAnswer> => {
    try {
      const headers = await webhookHeaders(target.key, newId("msg", now), now, body);
      const response = await fetch(check.url.href, { method: "POST", headers, body, redirect: "manual", signal: controller.signal });
      const text = await boundedText(response);
      if (text === null) return { ok: false, reason: `the answer is larger than ${MAX_ANSWER_BYTES / 1024} KB.` };
      return readEligibilityAnswer(response.status, response.headers.get("Location"), text, new Set(contacts.map((c) => c.contact_id)));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `network error: ${detail.slice(0, 300)}` };
    }
  };
  try {
    // The race, not only the abort signal, bounds the wait: a fetcher that ignores the signal cannot hold the tick.
    return await Promise.race([exchange(), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
