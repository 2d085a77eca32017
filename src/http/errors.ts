import type { Context } from "hono";

const codeToStatus = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  /** The same Idempotency-Key's first request is still running. */
  idempotency_key_in_use: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** The Idempotency-Key was first used with another request. */
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal_error: 500,
  not_configured: 503,
} as const;

export type ErrorCode = keyof typeof codeToStatus;

/** The one error type routes throw; onError turns it into the wire format. */
export class ApiError extends Error {
  readonly status: (typeof codeToStatus)[ErrorCode];
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.status = codeToStatus[code];
  }
}

/** Input an error sentence repeats is cut to this many characters: the sentence names it without handing a huge value back. */
const ECHOED_CHARS = 40;

/** A caller's text as an error sentence repeats it: its first characters, with … when cut. */
export const shortened = (text: string): string => (text.length > ECHOED_CHARS ? `${text.slice(0, ECHOED_CHARS)}…` : text);

/** Any value a caller sent, as an error sentence quotes it: a string in quotes, anything else as JSON, shortened alike. */
export const quoted = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(shortened(value)) : shortened(JSON.stringify(value) ?? String(value));

export const badRequest = (message: string) => new ApiError("bad_request", message);
export const notFound = (what: string, id: string) => new ApiError("not_found", `${what} ${shortened(id)} was not found.`);
export const conflict = (message: string) => new ApiError("conflict", message);
export const forbidden = (message: string) => new ApiError("forbidden", message);
export const unauthorized = (message: string) => new ApiError("unauthorized", message);

/** q-value of the best Accept entry matching `type` ("a/b"), or 0. */
function acceptQuality(accept: string, type: string): number {
  const [major] = type.split("/");
  let best = 0;
  let bestSpecificity = -1;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.trim().toLowerCase().split(";");
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === "*/*" ? 0 : -1;
    if (specificity < bestSpecificity || specificity < 0) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const quality = q ? Number(q.slice(2)) : 1;
    best = Number.isFinite(quality) ? quality : 0;
    bestSpecificity = specificity;
  }
  return best;
}

/** JSON only when the client prefers it over text/plain (Kataven's default wire format). */
export function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return acceptQuality(accept, "application/json") > acceptQuality(accept, "text/plain");
}

export function errorResponse(c: Context, error: ApiError): Response {
  const headers: Record<string, string> = {};
  if (error.status === 401) headers["WWW-Authenticate"] = 'Bearer realm="edgedial"';
  if (prefersJson(c.req.header("Accept"))) {
    return c.json({ error: { code: error.code, message: error.message } }, error.status, headers);
  }
  return c.text(error.message, error.status, headers);
}
