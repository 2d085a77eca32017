import type { Env } from "../env";
import { constantTimeEqual, hmac, requireSecret, toHex } from "../http/crypto";
import { publicBase } from "./registry";
import type { CarrierKind } from "./types";

// Its own key, derived from SECRETS_KEY under a label, so it never doubles as the credentials key.
const pathSecret = (env: Env) => `callback-path:${requireSecret(env.SECRETS_KEY, "SECRETS_KEY")}`;

/**
 * The MAC a Vobiz callback path carries: Vobiz signs only the URL and a nonce, not what the path
 * means, so the path proves itself. First 32 hex characters of HMAC-SHA256("vobiz:campaign:attempt").
 */
export async function callbackPathMac(env: Env, campaignId: string, attemptId: string): Promise<string> {
  return toHex(await hmac(pathSecret(env), `vobiz:${campaignId}:${attemptId}`)).slice(0, 32);
}

/** Constant time over the expected length; any other length is simply wrong. */
export async function callbackPathMacMatches(env: Env, campaignId: string, attemptId: string, given: string): Promise<boolean> {
  return constantTimeEqual(await callbackPathMac(env, campaignId, attemptId), given);
}

async function attemptBaseUrl(env: Env, kind: CarrierKind, campaignId: string, attemptId: string) {
  let path = `/webhooks/${kind}/${campaignId}/${attemptId}`;
  if (kind === "vobiz") path += `/${await callbackPathMac(env, campaignId, attemptId)}`;
  return `${publicBase(env)}${path}`;
}

/** Where a carrier sends an attempt's callbacks and its answer request (routes in src/routes/carrier-callbacks.ts). */
export async function callbackUrls(env: Env, kind: CarrierKind, campaignId: string, attemptId: string) {
  const statusCallbackUrl = await attemptBaseUrl(env, kind, campaignId, attemptId);
  return { statusCallbackUrl, answerUrl: `${statusCallbackUrl}/answer` };
}

/**
 * The documents a held call (Plivo, Vobiz) is moved to, each a path segment after the attempt's
 * answer URL: `agent` and `voicemail` on the verdict's transfer, `after-hold` on the hold's own
 * redirect. In the path, not the query, because Vobiz's signature covers the URL without its query.
 */
export const DOCUMENT_STAGES = ["agent", "voicemail", "after-hold"] as const;
export type DocumentStage = (typeof DOCUMENT_STAGES)[number];

export const isDocumentStage = (value: string): value is DocumentStage => (DOCUMENT_STAGES as readonly string[]).includes(value);

/** Which document a signed answer-URL request asks for: the answer itself, a stage, or null for a path that is neither. */
export function documentStageOf(url: string): DocumentStage | "answer" | null {
  const [last, beforeLast] = new URL(url).pathname.split("/").reverse();
  if (last === "answer") return "answer";
  return beforeLast === "answer" && last !== undefined && isDocumentStage(last) ? last : null;
}

/** Where a held call is moved once its late machine verdict is in, or where its hold redirects when none came. */
export async function stageUrls(env: Env, kind: CarrierKind, campaignId: string, attemptId: string): Promise<Record<DocumentStage, string>> {
  const answer = `${await attemptBaseUrl(env, kind, campaignId, attemptId)}/answer`;
  return { agent: `${answer}/agent`, voicemail: `${answer}/voicemail`, "after-hold": `${answer}/after-hold` };
}
