// @ts-check
/**
 * A campaign's live events as edgedial serves them (`GET …/campaigns/{id}/events`, SSE): the
 * framing, resumption after the last contact event, and reconnection with backoff. The
 * <edgedial-campaign> widget and the typed client (`edgedial/client`) both read events through
 * this module, so the two cannot drift apart. It needs nothing but `fetch` and streams.
 */

/**
 * @typedef {"draft" | "scheduled" | "running" | "paused" | "completed" | "failed"} CampaignStatus
 * @typedef {"pending" | "originated" | "connected" | "completed" | "failed" | "cancelled"} ContactStatus
 * @typedef {{ total: number, pending: number, originated: number, connected: number, completed: number, failed: number, cancelled: number, dispositions: Record<string, number> }} Stats
 * @typedef {{ campaign_id: string, name: string, status: CampaignStatus, status_reason: string | null, stats: Stats, in_flight: number, attempts: number, at: string }} Snapshot
 * @typedef {{ contact_id: string, phone_number: string, status: ContactStatus, attempt: number, outcome: string | null, at: string }} ContactTransition
 * @typedef {{ contact_id: string, call_id: string, disposition: string, callback_at: string | null, opt_out: boolean, at: string }} ResultEvent
 * @typedef {{ type: "snapshot", data: Snapshot } | { type: "contact", id: number, data: ContactTransition } | { type: "result", id: number, data: ResultEvent } | { type: "end", data: Snapshot }} CampaignEvent
 * @typedef {{ event: string, id: string | null, data: string, retry: number | null }} SseMessage
 */

/**
 * @typedef {object} StreamOptions
 * @property {(lastEventId: number | null, signal: AbortSignal | undefined) => Promise<Response>} open
 *   Makes one events request that resumes after `lastEventId` (null: from now on).
 * @property {(response: Response) => Error | Promise<Error>} [refused] The error to end with when the server refuses the stream (4xx).
 * @property {number | null} [lastEventId] Resume after this contact event.
 * @property {AbortSignal} [signal]
 * @property {number} [maxReconnects] Failed attempts in a row before giving up (default 10).
 * @property {() => void} [onOpen] Called when a request is answered with a stream.
 * @property {(delayMs: number, reason: unknown) => void} [onRetry] Called before each wait to reconnect.
 * @property {() => number} [random] Jitter source in [0, 1), for tests.
 */

/** The wait before a reconnect until the server's `retry:` says otherwise. */
const DEFAULT_RETRY_MS = 3_000;
/** Repeated failures double the wait, up to this. */
export const BACKOFF_MAX_MS = 30_000;

/**
 * An incremental SSE parser (the WHATWG EventSource field rules): `push` takes text as it arrives
 * and returns the messages it completed. A message is dispatched by a blank line.
 */
export function createSseParser() {
  let buffer = "";
  /** @type {{ event: string, id: string | null, data: string[], retry: number | null } | null} */
  let pending = null;
  return {
    /** @param {string} text @returns {SseMessage[]} */
    push(text) {
      buffer += text;
      // A CR at the very end may be half of a CRLF split across chunks: it waits for the next one.
      const held = buffer.endsWith("\r") ? "\r" : "";
      const lines = buffer
        .slice(0, buffer.length - held.length)
        .replace(/\r\n?/g, "\n")
        .split("\n");
      buffer = (lines.pop() ?? "") + held;
      /** @type {SseMessage[]} */
      const messages = [];
      for (const line of lines) {
        if (line === "") {
          if (pending) messages.push({ event: pending.event, id: pending.id, data: pending.data.join("\n"), retry: pending.retry });
          pending = null;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        pending ??= { event: "message", id: null, data: [], retry: null };
        if (field === "event") pending.event = value;
        else if (field === "id") pending.id = value;
        else if (field === "data") pending.data.push(value);
        else if (field === "retry" && /^\d+$/.test(value)) pending.retry = Number(value);
      }
      return messages;
    },
  };
}

/**
 * The SSE messages of a response body, until it ends. Leaving the loop early cancels the body.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<SseMessage>}
 */
async function* readSse(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = createSseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * What an SSE message means on a campaign stream: unnamed messages are snapshots, `contact` carries
 * a transition and `result` an agent's call result, each with its event id (one sequence for both),
 * `end` the final snapshot. Anything else is not for us (null).
 * @param {SseMessage} message
 * @returns {CampaignEvent | null}
 */
export function toCampaignEvent(message) {
  if (message.data === "") return null;
  if (message.event === "message") return { type: "snapshot", data: JSON.parse(message.data) };
  if (message.event === "end") return { type: "end", data: JSON.parse(message.data) };
  if (message.id === null || !/^\d+$/.test(message.id)) return null;
  if (message.event === "contact") return { type: "contact", id: Number(message.id), data: JSON.parse(message.data) };
  if (message.event === "result") return { type: "result", id: Number(message.id), data: JSON.parse(message.data) };
  return null;
}

/** Whether a refused request is worth repeating: the server or the network may recover, a 4xx will not. */
export const isRetryableStatus = (/** @type {number} */ status) => status >= 500 || status === 408 || status === 429;

/**
 * The wait before reconnect number `failures` (1, 2, …): the server's hint, doubled per failure in
 * a row, at most BACKOFF_MAX_MS, with ±20% jitter so many pages do not come back in step.
 * @param {number} failures @param {number} retryMs @param {() => number} [random]
 */
export function reconnectDelay(failures, retryMs, random = Math.random) {
  const base = Math.min(BACKOFF_MAX_MS, retryMs * 2 ** Math.max(0, failures - 1));
  return Math.min(BACKOFF_MAX_MS, Math.round(base * (0.8 + random() * 0.4)));
}

/** @param {number} ms @param {AbortSignal} [signal] */
function wait(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** @param {Response} response */
async function defaultRefusal(response) {
  const text = (await response.text().catch(() => "")).trim();
  return new Error(text || `The events stream was refused (${response.status}).`);
}

/**
 * A campaign's events until its `end`. A stream that drops or closes early is reopened after the
 * last contact or result event seen, so no transition or result is lost or repeated; a refusal (4xx but 408 and 429)
 * ends it with `refused`'s error; `maxReconnects` failures in a row end it too.
 * @param {StreamOptions} options
 * @returns {AsyncGenerator<CampaignEvent>}
 */
export async function* streamCampaignEvents(options) {
  const { signal, maxReconnects = 10, refused = defaultRefusal } = options;
  let lastEventId = options.lastEventId ?? null;
  let retryMs = DEFAULT_RETRY_MS;
  let failures = 0;
  for (;;) {
    /** @type {unknown} */
    let reason;
    /** @type {Response | null} */
    let response = null;
    try {
      response = await options.open(lastEventId, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      reason = error;
    }
    if (response && !response.ok) {
      if (!isRetryableStatus(response.status)) throw await refused(response);
      await response.body?.cancel().catch(() => undefined);
      reason = new Error(`The events stream answered ${response.status}.`);
    } else if (response) {
      options.onOpen?.();
      try {
        for await (const message of readSse(/** @type {ReadableStream<Uint8Array>} */ (response.body))) {
          if (message.retry !== null) retryMs = message.retry;
          const event = toCampaignEvent(message);
          if (!event) continue;
          // A stream that delivers is healthy: only failures in a row count towards giving up.
          failures = 0;
          if (event.type === "contact" || event.type === "result") {
            // A replay starts after lastEventId; this only guards against a server that repeats one.
            if (lastEventId !== null && event.id <= lastEventId) continue;
            lastEventId = event.id;
          }
          yield event;
          if (event.type === "end") return;
        }
        reason = new Error("The events stream closed before the campaign ended.");
      } catch (error) {
        if (signal?.aborted) throw error;
        reason = error;
      }
    }
    if (++failures > maxReconnects) throw new Error(`The events stream kept failing; gave up after ${maxReconnects} reconnects.`, { cause: reason });
    const delay = reconnectDelay(failures, retryMs, options.random);
    options.onRetry?.(delay, reason);
    await wait(delay, signal);
  }
}
