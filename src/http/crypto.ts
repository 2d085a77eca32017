import { ApiError } from "./errors";

const encoder = new TextEncoder();

function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
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

/** Keyed hash under which API keys are stored (HMAC-SHA256 with the server pepper). */
export async function hashApiKey(key: string, pepper: string | undefined): Promise<string> {
  const hmacKey = await crypto.subtle.importKey("raw", encoder.encode(requireSecret(pepper, "API_KEY_PEPPER")), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return toHex(await crypto.subtle.sign("HMAC", hmacKey, encoder.encode(key)));
}

/** Constant-time string comparison (hashes both sides so lengths do not leak). */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", encoder.encode(a)), crypto.subtle.digest("SHA-256", encoder.encode(b))]);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
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
