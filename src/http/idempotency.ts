import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type KeptResponse, MAX_KEPT_BODY_BYTES } from "../accounts/idempotency-store";
import { getAccountStub } from "../accounts/stub";
import type { AppEnv } from "../env";
import { boundedRequest, uploadTooLarge } from "./body";
import { ApiError, badRequest } from "./errors";
import { idempotencyKeyProblem, pathBelowMount, requestFingerprint } from "./request-fingerprint";

const IDEMPOTENCY_HEADER = "Idempotency-Key";
const REPLAYED_HEADER = "Idempotent-Replayed";

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The headers a replay needs to mean what the first answer meant; the rest are per-response. */
const KEPT_HEADERS = ["content-type", "content-disposition", "location", "x-d1-bookmark"];

/** Reads at most `limit` bytes of a body; null when there is more (the rest is left unread). */
async function readUpTo(body: ReadableStream<Uint8Array> | null, limit: number): Promise<ArrayBuffer | null> {
  if (!body) return new ArrayBuffer(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    parts.push(value);
  }
  return new Blob(parts).arrayBuffer();
}

/**
 * The answer to keep for replay, or null to free the key instead: a 5xx or a 429 says nothing
 * about the request (a retry should run), and a stream or a large body is not stored.
 */
async function answerToKeep(response: Response): Promise<KeptResponse | null> {
  if (response.status >= 500 || response.status === 429) return null;
  if (/^text\/event-stream/i.test(response.headers.get("Content-Type") ?? "")) return null;
  const body = await readUpTo(response.clone().body, MAX_KEPT_BODY_BYTES);
  if (!body) return null;
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: response.status, headers, body };
}

function replay(kept: KeptResponse): Response {
  const headers = new Headers(kept.headers);
  headers.set(REPLAYED_HEADER, "true");
  const empty = kept.status === 204 || kept.status === 304;
  return new Response(empty ? null : kept.body, { status: kept.status, headers });
}

async function fingerprintOf(c: Context<AppEnv>, mounts: readonly string[]): Promise<string> {
  const copy = await boundedRequest(c.req.raw.clone(), () => uploadTooLarge("The request body"));
  const url = new URL(c.req.url);
  return requestFingerprint(c.req.method, pathBelowMount(`${url.pathname}${url.search}`, mounts), c.req.header("Content-Type") ?? "", await copy.arrayBuffer());
}

/**
 * Idempotency-Key on the tenant API (Stripe's semantics): the first request with a key runs and
 * its answer is kept 24 h for the account; the same request again gets that answer back. One call
 * to the account's object before the handler and one after; without the header, none.
 */
export function idempotentRequests(mounts: readonly string[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = c.req.header(IDEMPOTENCY_HEADER);
    if (key === undefined || !MUTATING.has(c.req.method)) return next();
    const problem = idempotencyKeyProblem(key);
    if (problem) throw badRequest(problem);
    const fingerprint = await fingerprintOf(c, mounts);
    const account = getAccountStub(c.env, c.get("caller").accountId);
    const claimed = await account.claimIdempotencyKey(key, fingerprint);
    if (claimed.outcome === "replay") return replay(claimed.response);
    if (claimed.outcome === "in_progress") {
      throw new ApiError("idempotency_key_in_use", "A request with this Idempotency-Key is still running; retry it with the same key once it has answered.");
    }
    if (claimed.outcome === "mismatch") {
      throw new ApiError(
        "idempotency_key_reused",
        "This Idempotency-Key was already used with a different request (method, path or body); use a fresh key for a new request.",
      );
    }
    await next();
    try {
      await account.settleIdempotencyKey(key, claimed.claim, await answerToKeep(c.res));
    } catch (error) {
      // The request did run: its answer goes out; the key frees itself once the claim lapses.
      console.error("idempotency key not settled", error);
    }
  });
}
