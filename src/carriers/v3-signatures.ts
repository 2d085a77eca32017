import { constantTimeEqual, hmac, toBase64 } from "../http/crypto";
import type { SignedCallback } from "./types";

const encoder = new TextEncoder();

/** A string as the official SDK's utf8.encode leaves it: one character per UTF-8 byte. */
function utf8Bytes(text: string): string {
  let out = "";
  for (const byte of encoder.encode(text)) out += String.fromCharCode(byte);
  return out;
}

/** Node's querystring.unescape: '+' is a space, %XX a byte, broken escapes stay as they are. */
function unescapeQuery(text: string): string {
  const spaced = text.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < spaced.length; i++) {
      const hex = spaced.slice(i + 1, i + 3);
      if (spaced[i] === "%" && /^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else bytes.push(...encoder.encode(spaced[i] as string));
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  }
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Names sorted, each name's values sorted, as the SDK sorts its parameter maps. */
function sortedPairs(pairs: [string, string][]): [string, string][] {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of pairs) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return [...grouped.keys()].sort(byCodeUnits).flatMap((name) => (grouped.get(name) ?? []).sort(byCodeUnits).map((value) => [name, value] as [string, string]));
}

function queryPairs(query: string): [string, string][] {
  return query
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const at = part.indexOf("=");
      return at < 0 ? [unescapeQuery(part), ""] : [unescapeQuery(part.slice(0, at)), unescapeQuery(part.slice(at + 1))];
    });
}

/**
 * The string Plivo's V3 signature covers, built as plivo-node's v3Security does: scheme://host[:port]/path,
 * then "?" and the URL's query sorted and decoded (also when only POST parameters follow), "." between
 * query and parameters, then every POST parameter as name+value sorted by name; a GET covers its query only.
 */
export function plivoSignedString(method: "POST" | "GET", url: string, params: [string, string][]): string {
  const match = /^(?:([^:/?#]+):)?(?:\/\/)?(?:[^@/?#]*@)?([^:/?#]*)(?::(\d*))?([^?#]*)(?:\?([^#]*))?/.exec(utf8Bytes(url));
  const [, scheme = "", host = "", port = "", path = "", query = ""] = match ?? [];
  let base = `${scheme === "" ? "http" : scheme}://${port === "" ? host : `${host}:${port}`}`;
  if (path.trim() !== "") base += path.trim().startsWith("/") ? path.trim() : `/${path.trim()}`;
  const sortedQuery = sortedPairs(queryPairs(query))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const postParams = method === "POST" ? params : [];
  if (sortedQuery !== "" || postParams.length > 0) base += `?${sortedQuery}`;
  if (sortedQuery !== "" && postParams.length > 0) base += ".";
  for (const [name, value] of sortedPairs(postParams)) base += name + value;
  return base;
}

async function hmacBase64(token: string, data: string): Promise<string> {
  // Like the SDK, the token and the URL are UTF-8 encoded twice; identical for the ASCII both always are.
  return toBase64(await hmac(utf8Bytes(token), data));
}

export function plivoSignature(token: string, method: "POST" | "GET", url: string, params: [string, string][], nonce: string): Promise<string> {
  return hmacBase64(token, `${plivoSignedString(method, url, params)}.${utf8Bytes(nonce)}`);
}

/** Vobiz V3 covers only the URL without its query, and the nonce: base64(HMAC-SHA256(token, url + "." + nonce)). */
export function vobizSignature(token: string, url: string, nonce: string): Promise<string> {
  const at = url.search(/[?#]/);
  return hmacBase64(token, `${at < 0 ? url : url.slice(0, at)}.${nonce}`);
}

/** A signature header may hold several comma-separated signatures (key rotation); any one matching will do. */
function headerMatches(header: string | undefined, expected: string): boolean {
  if (!header) return false;
  let matched = false;
  for (const candidate of header.split(",")) if (constantTimeEqual(candidate.trim(), expected)) matched = true;
  return matched;
}

export const PLIVO_SIGNATURE_HEADER = "x-plivo-signature-v3";
export const PLIVO_NONCE_HEADER = "x-plivo-signature-v3-nonce";
export const VOBIZ_SIGNATURE_HEADER = "x-vobiz-signature-v3";
export const VOBIZ_NONCE_HEADER = "x-vobiz-signature-v3-nonce";

export async function verifyPlivoCallback(token: string, callback: SignedCallback): Promise<boolean> {
  const nonce = callback.headers[PLIVO_NONCE_HEADER];
  if (!nonce) return false;
  return headerMatches(callback.headers[PLIVO_SIGNATURE_HEADER], await plivoSignature(token, callback.method, callback.url, callback.params, nonce));
}

export async function verifyVobizCallback(token: string, callback: SignedCallback): Promise<boolean> {
  const nonce = callback.headers[VOBIZ_NONCE_HEADER];
  if (!nonce) return false;
  return headerMatches(callback.headers[VOBIZ_SIGNATURE_HEADER], await vobizSignature(token, callback.url, nonce));
}

/** A nonce of the kind both carriers send: 20 random digits. */
export function newNonce(): string {
  return [...crypto.getRandomValues(new Uint8Array(20))].map((b) => String(b % 10)).join("");
}
