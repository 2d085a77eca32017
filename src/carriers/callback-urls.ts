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
 * Where a call is moved once a late machine verdict is in (Plivo, Vobiz): the agent's document, or
 * the message for the machine. The attempt's own answer URL with a stage, so they are verified
 * like it (signature, nonce, Vobiz path MAC).
 */
export async function verdictUrls(env: Env, kind: CarrierKind, campaignId: string, attemptId: string) {
  const answer = `${await attemptBaseUrl(env, kind, campaignId, attemptId)}/answer`;
  return { agentUrl: `${answer}?stage=agent`, voicemailUrl: `${answer}?stage=voicemail` };
}
