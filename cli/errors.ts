/** How the CLI reports a failure: one sentence on stderr and an exit status, never a stack trace. */

import { ApiError } from "../client/index.js";

/** Exit statuses other than a finished watch's; docs/cli.md lists them all. */
const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** A mistake in what was typed, caught before any request: said as it is, exit status 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the name did not resolve",
  ECONNRESET: "the connection was reset",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  UND_ERR_CONNECT_TIMEOUT: "the connection timed out",
  UND_ERR_SOCKET: "the connection closed",
};

/** The system error code under a failed fetch (undici wraps it in `cause`, sometimes twice). */
function networkCode(error: unknown): string | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code in NETWORK_CODES) return code;
  }
  return null;
}

/** The sentence for stderr: the API's own for a refusal, "cannot reach …" for the network, else the error's message. */
export function describeError(error: unknown, baseUrl: string): string {
  if (error instanceof ApiError) return error.message;
  const code = networkCode(error);
  if (code) return `cannot reach ${baseUrl} (${NETWORK_CODES[code]}). Is the server running? Set EDGEDIAL_BASE_URL or --base-url to its address.`;
  if (error instanceof TypeError && error.message === "fetch failed")
    return `cannot reach ${baseUrl}. Is the server running? Set EDGEDIAL_BASE_URL or --base-url to its address.`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export const exitCodeFor = (error: unknown) => (error instanceof UsageError ? EXIT_USAGE : EXIT_ERROR);
