import { describe, expect, it } from "vitest";
import {
  BACKOFF_MAX_MS,
  type CampaignEvent,
  createSseParser,
  isRetryableStatus,
  reconnectDelay,
  streamCampaignEvents,
  toCampaignEvent,
} from "../public/campaign-stream.js";

const encoder = new TextEncoder();
const snapshot = (status: string) => ({
  campaign_id: "cmp_1",
  name: "Spring",
  status,
  status_reason: null,
  stats: { total: 2 },
  in_flight: 0,
  attempts: 0,
  at: "",
});
const contact = (id: number) => `event: contact\nid: ${id}\ndata: ${JSON.stringify({ contact_id: `ct_${id}`, status: "completed" })}\n\n`;

/** An SSE body sent in the given chunks, then closed (or errored, as a dropped connection is). */
function sseBody(chunks: string[], ending: "close" | "drop" = "close") {
  const queue = [...chunks];
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = queue.shift();
      if (chunk !== undefined) controller.enqueue(encoder.encode(chunk));
      else if (ending === "close") controller.close();
      else controller.error(new TypeError("network error"));
    },
  });
}

async function collect(events: AsyncGenerator<CampaignEvent>) {
  const seen: CampaignEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

describe("createSseParser", () => {
  it("reads fields by the EventSource rules across any chunking and line ending", () => {
    const text = 'retry: 3000\n\n: heartbeat\n\ndata: {"a":1}\r\n\r\nevent: contact\nid: 7\ndata:line one\ndata: line two\r\rdata\n\nevent: end\ndata: {}\n\n';
    const whole = createSseParser().push(text);
    expect(whole).toEqual([
      { event: "message", id: null, data: "", retry: 3000 },
      { event: "message", id: null, data: '{"a":1}', retry: null },
      { event: "contact", id: "7", data: "line one\nline two", retry: null },
      { event: "message", id: null, data: "", retry: null },
      { event: "end", id: null, data: "{}", retry: null },
    ]);
    // Every split point, including between the CR and LF of a CRLF, gives the same messages.
    for (let cut = 1; cut < text.length; cut++) {
      const parser = createSseParser();
      expect([...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))], `split at ${cut}`).toEqual(whole);
    }
  });

  it("keeps an unfinished message until its blank line arrives", () => {
    const parser = createSseParser();
    expect(parser.push("event: end\ndata: {}\n")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "end", id: null, data: "{}", retry: null }]);
  });
});

describe("toCampaignEvent", () => {
  it("maps unnamed messages to snapshots, contact (with its numeric id) and end; ignores the rest", () => {
    expect(toCampaignEvent({ event: "message", id: null, data: '{"status":"running"}', retry: null })).toEqual({
      type: "snapshot",
      data: { status: "running" },
    });
    expect(toCampaignEvent({ event: "contact", id: "12", data: '{"status":"completed"}', retry: null })).toEqual({
      type: "contact",
      id: 12,
      data: { status: "completed" },
    });
    expect(toCampaignEvent({ event: "end", id: null, data: '{"status":"completed"}', retry: null })).toEqual({ type: "end", data: { status: "completed" } });
    expect(toCampaignEvent({ event: "contact", id: null, data: "{}", retry: null }), "a contact without an id cannot be resumed from").toBeNull();
    expect(toCampaignEvent({ event: "message", id: null, data: "", retry: 3000 })).toBeNull();
    expect(toCampaignEvent({ event: "later", id: null, data: "{}", retry: null })).toBeNull();
  });
});

describe("reconnectDelay and isRetryableStatus", () => {
  it("starts at the server's hint, doubles per failure in a row, caps, and jitters by ±20%", () => {
    const middle = () => 0.5;
    expect([1, 2, 3, 4, 5, 6].map((n) => reconnectDelay(n, 3_000, middle))).toEqual([3_000, 6_000, 12_000, 24_000, BACKOFF_MAX_MS, BACKOFF_MAX_MS]);
    expect(reconnectDelay(1, 3_000, () => 0)).toBe(2_400);
    expect(reconnectDelay(1, 3_000, () => 0.999_999)).toBe(3_600);
    expect(
      reconnectDelay(9, 3_000, () => 0.999_999),
      "never past the cap",
    ).toBe(BACKOFF_MAX_MS);
  });

  it("retries outages, timeouts and rate limits, never other refusals", () => {
    expect([500, 502, 503, 408, 429].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410].some(isRetryableStatus)).toBe(false);
  });
});

describe("streamCampaignEvents", () => {
  it("resumes after the last contact event when a stream drops or closes early, and stops at end", async () => {
    const asked: (number | null)[] = [];
    const bodies = [
      sseBody(["retry: 1\n\n", `data: ${JSON.stringify(snapshot("running"))}\n\n`, contact(1), contact(2)], "drop"),
      sseBody([`data: ${JSON.stringify(snapshot("running"))}\n\n`, contact(2), contact(3)], "close"),
      sseBody([contact(4), `event: end\ndata: ${JSON.stringify(snapshot("completed"))}\n\n`, contact(5)]),
    ];
    const retries: number[] = [];
    const events = await collect(
      streamCampaignEvents({
        open: async (lastEventId) => {
          asked.push(lastEventId);
          return new Response(bodies.shift());
        },
        onRetry: (delay) => retries.push(delay),
        random: () => 0.5,
      }),
    );
    expect(asked).toEqual([null, 2, 3]);
    expect(
      events.map((e) => (e.type === "contact" ? e.id : e.type)),
      "the repeated 2 is dropped; nothing after end",
    ).toEqual(["snapshot", 1, 2, "snapshot", 3, 4, "end"]);
    expect(retries, "the server's retry: hint paces the reconnects").toEqual([1, 1]);
  });

  it("starts from a given lastEventId", async () => {
    const asked: (number | null)[] = [];
    await collect(
      streamCampaignEvents({
        open: async (lastEventId) => {
          asked.push(lastEventId);
          return new Response(sseBody([`event: end\ndata: {}\n\n`]));
        },
        lastEventId: 41,
      }),
    );
    expect(asked).toEqual([41]);
  });

  it("ends with the refusal's error on a 4xx, without retrying", async () => {
    let calls = 0;
    const stream = streamCampaignEvents({
      open: async () => {
        calls++;
        return new Response("This events token has expired.", { status: 401 });
      },
      refused: async (response) => new Error(`refused ${response.status}: ${await response.text()}`),
    });
    await expect(stream.next()).rejects.toThrow("refused 401: This events token has expired.");
    expect(calls).toBe(1);
  });

  it("retries 5xx answers and network failures with growing waits, then gives up after maxReconnects", async () => {
    let calls = 0;
    const waits: number[] = [];
    const stream = streamCampaignEvents({
      open: async () => {
        calls++;
        if (calls % 2) throw new TypeError("fetch failed");
        return new Response("busy", { status: 503 });
      },
      maxReconnects: 3,
      onRetry: (delay) => waits.push(delay),
      random: () => 0.5,
    });
    // The server's default hint is 3 s: shorten the waits by answering the timers at once.
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((callback: () => void) => realSetTimeout(callback, 0)) as typeof setTimeout;
    try {
      await expect(stream.next()).rejects.toThrow("gave up after 3 reconnects");
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    expect(calls).toBe(4);
    expect(waits).toEqual([3_000, 6_000, 12_000]);
  });

  it("stops at once when its signal aborts, during a stream or a wait", async () => {
    const abort = new AbortController();
    const stream = streamCampaignEvents({
      open: async (_id, signal) => {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(snapshot("running"))}\n\n`));
            signal?.addEventListener("abort", () => controller.error(signal.reason));
          },
        });
        return new Response(body);
      },
      signal: abort.signal,
    });
    expect((await stream.next()).value).toMatchObject({ type: "snapshot" });
    const next = stream.next();
    abort.abort(new Error("left the page"));
    await expect(next).rejects.toThrow("left the page");
  });
});
