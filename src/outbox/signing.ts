/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `whsec_` + base64 secret bytes,
 * `webhook-signature: v1,<base64 HMAC-SHA256(secret bytes, "<id>.<unix seconds>.<body>")>`.
 */

import { fromBase64, hmacKey, toBase64 } from "../http/crypto";

const SECRET_PREFIX = "whsec_";
/** 24 random bytes: inside the specification's 24–64 and 32 base64 characters with no padding. */
const SECRET_BYTES = 24;

const encoder = new TextEncoder();

export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))}`;
}

/** The key bytes a `whsec_` secret stands for. */
export function secretKeyBytes(secret: string): Uint8Array<ArrayBuffer> {
  return fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
}

export function importSigningKey(secret: string): Promise<CryptoKey> {
  return hmacKey(secretKeyBytes(secret));
}

export async function signMessage(key: CryptoKey, messageId: string, timestampSeconds: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${messageId}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The three headers of one delivery attempt; the timestamp is the attempt's, so receivers' replay windows hold on retries. */
export async function webhookHeaders(key: CryptoKey, messageId: string, nowMs: number, body: string): Promise<Record<string, string>> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    "Content-Type": "application/json",
    "User-Agent": "edgedial-webhooks/1",
    "webhook-id": messageId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signMessage(key, messageId, timestamp, body),
  };
}
