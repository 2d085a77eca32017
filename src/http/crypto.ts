import { ApiError } from "./errors";

const encoder = new TextEncoder();

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function requireSecret(value: string | undefined, name: string): string {
  if (!value) {
    throw new ApiError("not_configured", `The server is missing its ${name} secret; set it with \`wrangler secret put ${name}\`.`);
  }
  return value;
}

export type HmacHash = "SHA-1" | "SHA-256";

const hmacKeys = new Map<string, Promise<CryptoKey>>();

/** HMAC keys are imported once per secret and isolate: API keys, callbacks and webhooks all sign with a handful of them. */
export function hmacKey(secret: string | Uint8Array<ArrayBuffer>, hash: HmacHash = "SHA-256"): Promise<CryptoKey> {
  const id = `${hash}:${typeof secret === "string" ? `text:${secret}` : `bytes:${toBase64(secret)}`}`;
  let key = hmacKeys.get(id);
  if (!key) {
    // A bound on memory, not an eviction policy: an isolate rarely sees more than a few secrets.
    if (hmacKeys.size > 1000) hmacKeys.clear();
    const material = typeof secret === "string" ? encoder.encode(secret) : secret;
    key = crypto.subtle.importKey("raw", material, { name: "HMAC", hash }, false, ["sign", "verify"]);
    hmacKeys.set(id, key);
  }
  return key;
}

/** HMAC of a UTF-8 string under a cached key. */
export async function hmac(secret: string | Uint8Array<ArrayBuffer>, data: string, hash: HmacHash = "SHA-256"): Promise<ArrayBuffer> {
  return crypto.subtle.sign("HMAC", await hmacKey(secret, hash), encoder.encode(data));
}

/** Constant time over the strings' length; strings of different lengths are simply unequal. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Constant-time comparison of secrets whose length is itself secret: hashing both sides first hides it. */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  return constantTimeEqual(toHex(da), toHex(db));
}

/** Keyed hash under which API keys are stored (HMAC-SHA256 with the server pepper). */
export async function hashApiKey(key: string, pepper: string | undefined): Promise<string> {
  return toHex(await hmac(requireSecret(pepper, "API_KEY_PEPPER"), key));
}

async function secretsKey(secret: string | undefined): Promise<CryptoKey> {
  const raw = requireSecret(secret, "SECRETS_KEY");
  // Any string works as the secret: its SHA-256 is the 256-bit AES key.
  const material = await crypto.subtle.digest("SHA-256", encoder.encode(raw));
  return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** AES-GCM with a fresh 96-bit IV; output is base64(iv || ciphertext+tag). */
export async function encryptSecret(plaintext: string, secret: string | undefined): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await secretsKey(secret), encoder.encode(plaintext));
  const out = new Uint8Array(12 + ciphertext.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ciphertext), 12);
  return toBase64(out);
}

export async function decryptSecret(sealed: string, secret: string | undefined): Promise<string> {
  const bytes = fromBase64(sealed);
  const plaintext = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, await secretsKey(secret), bytes.slice(12));
  return new TextDecoder().decode(plaintext);
}
