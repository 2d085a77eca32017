// @ts-check
/**
 * The dashboard's one door to the API. The credential lives in this tab's sessionStorage and in
 * the Authorization header of same-origin requests, nowhere else: not localStorage, not a cookie,
 * not a URL, not a log.
 */

const STORAGE_KEY = "edgedial.session";

/**
 * @typedef {{ kind: "key", key: string } | { kind: "session", token: string, account: string }} Session
 */

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * `npm start` prints `/#key=sk_live_…`: the fragment never reaches a server, and the key moves into
 * sessionStorage and out of the address bar before anything else runs.
 */
export function adoptKeyFromUrl() {
  const match = /^#key=([^&]+)$/.exec(location.hash);
  if (!match?.[1]) return false;
  history.replaceState(null, "", `${location.pathname}${location.search}#/`);
  saveSession({ kind: "key", key: decodeURIComponent(match[1]) });
  return true;
}

/** @returns {Session | null} */
export function currentSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
    if (saved?.kind === "key" && typeof saved.key === "string") return saved;
    if (saved?.kind === "session" && typeof saved.token === "string" && typeof saved.account === "string") return saved;
  } catch {
    // A damaged entry is as good as none.
  }
  return null;
}

/** @param {Session} session */
export function saveSession(session) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The account a session acts on: from the key itself (`sk_live_<account>_<secret>`) or as given with a JWT. */
export function accountOf(/** @type {Session} */ session) {
  if (session.kind === "session") return session.account;
  const rest = session.key.replace(/^sk_live_/, "");
  return rest.slice(0, rest.lastIndexOf("_")) || "?";
}

/** @param {Session} session */
function authHeaders(session) {
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${session.kind === "key" ? session.key : session.token}` };
  if (session.kind === "session") headers["X-Account-ID"] = session.account;
  return headers;
}

/** Called when the API refuses the stored credential, so the app can return to sign-in. */
let onUnauthorized = () => {};
export function whenUnauthorized(/** @type {() => void} */ handler) {
  onUnauthorized = handler;
}

const MUTATING_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** A create or an action is sent again this often when the network or a gateway fails it. */
const RETRIES = 2;
const RETRY_PAUSE_MS = 500;

/** 128 random bits as hex; getRandomValues also works where randomUUID does not (a page on plain http). */
const freshKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

const pause = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A failure the same request may get past: a gateway's, or its own first try still running. */
async function worthRetrying(/** @type {Response} */ response) {
  if (response.status === 500 || response.status === 502 || response.status === 504) return true;
  if (response.status !== 409) return false;
  return (await errorOf(response.clone())).code === "idempotency_key_in_use";
}

/**
 * @param {string} method
 * @param {string} path  below /api/v1
 * @param {{ json?: unknown, body?: BodyInit, type?: string, accept?: string, query?: Record<string, string | number | undefined | null>, session?: Session, raw?: boolean }} [options]
 * @returns {Promise<any>}
 */
export async function request(method, path, options = {}) {
  const session = options.session ?? currentSession();
  if (!session) throw new ApiError(401, "unauthorized", "Sign in first.");
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [name, value] of Object.entries(options.query ?? {}))
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  /** @type {Record<string, string>} */
  const headers = { Accept: options.accept ?? "application/json", ...authHeaders(session) };
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.type) {
    headers["Content-Type"] = options.type;
  }
  const mutating = MUTATING_METHODS.has(method.toUpperCase());
  // One key per create or action, kept across this call's own retries: the server runs it once.
  if (mutating) headers["Idempotency-Key"] = freshKey();
  let response;
  for (let attempt = 0; ; attempt++) {
    const mayRetry = mutating && attempt < RETRIES;
    try {
      response = await fetch(url, { method, headers, body, cache: "no-store" });
    } catch {
      if (mayRetry) {
        await pause(RETRY_PAUSE_MS * 2 ** attempt);
        continue;
      }
      throw new ApiError(0, "network", "The API could not be reached; check that edgedial is running.");
    }
    if (!mayRetry || !(await worthRetrying(response))) break;
    await pause(RETRY_PAUSE_MS * 2 ** attempt);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !options.session) onUnauthorized();
    throw error;
  }
  if (options.raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** @param {Response} response */
async function errorOf(response) {
  const text = await response.text();
  try {
    const { error } = JSON.parse(text);
    return new ApiError(response.status, error.code, error.message);
  } catch {
    return new ApiError(response.status, "http_error", text.trim() || `The API answered ${response.status}.`);
  }
}

/**
 * Saves an authenticated GET as a file: a plain link cannot carry the Authorization header.
 * @param {string} path @param {Record<string, string | undefined>} query @param {string} fallbackName
 */
export async function download(path, query, fallbackName) {
  /** @type {Response} */
  const response = await request("GET", path, { query, raw: true, accept: "text/csv, application/json;q=0.9" });
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
