import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createCampaign, csvOf, json, lifecycle, newTenant, type Tenant } from "./helpers";
import { runUntil, step, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => {
  restore();
  vi.useRealTimers();
});

/** Reads an SSE body incrementally; `until` returns once the text so far satisfies the predicate. */
function sseReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  let closed = false;
  return {
    get text() {
      return text;
    },
    get closed() {
      return closed;
    },
    async until(done: (text: string) => boolean, maxReads = 200) {
      for (let i = 0; i < maxReads && !done(text); i++) {
        const { value, done: end } = await reader.read();
        if (end) {
          closed = true;
          break;
        }
        text += decoder.decode(value, { stream: true });
      }
      return text;
    },
    cancel: () => reader.cancel(),
  };
}

interface Frame {
  event?: string;
  id?: number;
  data?: Record<string, unknown>;
  comment?: string;
}

/** Parses complete SSE frames (blank-line separated). */
function parseFrames(text: string): Frame[] {
  return text
    .split("\n\n")
    .slice(0, -1)
    .map((block) => {
      const frame: Frame = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(": ")) frame.comment = line.slice(2);
        else if (line.startsWith("event: ")) frame.event = line.slice(7);
        else if (line.startsWith("id: ")) frame.id = Number(line.slice(4));
        else if (line.startsWith("data: ")) frame.data = JSON.parse(line.slice(6));
      }
      return frame;
    });
}

const contactFrames = (text: string) => parseFrames(text).filter((f) => f.event === "contact");
const events = (t: Tenant, id: string, headers: Record<string, string> = {}) => call(`/api/v1/campaigns/${id}/events`, { headers: { ...t.auth, ...headers } });

describe("SSE", () => {
  it("ends at once on a terminal campaign with the final snapshot", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(3));
    await lifecycle(t, id, "stop");
    const res = await events(t, id);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/event-stream");
    const stream = sseReader(res);
    await stream.until(() => false);
    expect(stream.closed).toBe(true);
    expect(stream.text).toMatch(/^retry: 3000\n\ndata: \{[^\n]*\}\n\nevent: end\ndata: \{[^\n]*\}\n\n$/);
    const [, snapshot, end] = parseFrames(stream.text);
    expect(snapshot?.data).toMatchObject({ campaign_id: id, status: "completed", stats: { total: 3, cancelled: 3 } });
    expect(end?.data).toMatchObject({ status: "completed", in_flight: 0, attempts: 0 });
  });

  it("streams a snapshot, contact transitions with increasing ids, then end, in exact framing", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    const { id } = await createCampaign(t, "phone_number\n+15550400001\n+15550400071\n");
    const stream = sseReader(await events(t, id));
    await stream.until((s) => s.includes("\n\ndata: "));
    expect(stream.text).toMatch(/^retry: 3000\n\ndata: \{"campaign_id":"[^"]+","status":"draft",.*\}\n\n$/);
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.status === "completed");
    await stream.until(() => false);
    expect(stream.closed).toBe(true);
    for (const block of stream.text.split("\n\n").slice(0, -1)) {
      expect(block).toMatch(/^(retry: \d+|: heartbeat|data: \{.*\}|event: contact\nid: \d+\ndata: \{.*\}|event: end\ndata: \{.*\})$/);
    }
    const contacts = contactFrames(stream.text);
    const ids = contacts.map((f) => f.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const answered = contacts.filter((f) => f.data?.phone_number === "+15550400001").map((f) => [f.data?.status, f.data?.outcome, f.data?.attempt]);
    expect(answered).toEqual([
      ["originated", null, 1],
      ["connected", null, 1],
      ["completed", "answered", 1],
    ]);
    expect(contacts.find((f) => f.data?.phone_number === "+15550400071" && f.data?.status === "failed")?.data).toMatchObject({ outcome: "busy", attempt: 1 });
    const last = parseFrames(stream.text).at(-1);
    expect(last).toMatchObject({ event: "end", data: { status: "completed", stats: { completed: 1, failed: 1 } } });
  });

  it("replays exactly what a reconnecting client missed: no transition lost, none repeated", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    const { id } = await createCampaign(t, csvOf(30), { max_concurrent_calls: "3" });
    await lifecycle(t, id, "start");
    const first = sseReader(await events(t, id));
    await first.until((s) => s.includes("\n\ndata: "));
    await runUntil(t, [id], (c) => c.stats.completed! + c.stats.failed! >= 6);
    await first.until((s) => contactFrames(s).length >= 5);
    const seen = contactFrames(first.text);
    await first.cancel();
    const lastId = seen.at(-1)?.id as number;

    await runUntil(t, [id], (c) => c.stats.completed! + c.stats.failed! >= 18);
    const second = sseReader(await events(t, id, { "Last-Event-ID": String(lastId) }));
    await runUntil(t, [id], (c) => c.status === "completed");
    await second.until(() => false);
    const replayed = contactFrames(second.text);
    const all = [...seen, ...replayed].map((f) => f.id as number);
    expect(replayed[0]?.id).toBe(lastId + 1);
    expect(all).toEqual(Array.from({ length: all.length }, (_, i) => all[0]! + i));
    const terminal = [...seen, ...replayed].filter((f) => ["completed", "failed"].includes(f.data?.status as string));
    expect(new Set(terminal.map((f) => f.data?.contact_id)).size).toBe(30);
  });

  it("answers 404 for an unknown campaign", async () => {
    const t = await newTenant();
    const res = await events(t, "cmp_nope");
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });
});

describe("EventHub cadence", () => {
  const snapshot = (status: string) => ({
    campaign_id: "cmp_x",
    status,
    status_reason: null,
    stats: { total: 1, pending: 1, originated: 0, connected: 0, completed: 0, failed: 0, cancelled: 0 },
    in_flight: 0,
    attempts: 0,
    at: new Date().toISOString(),
  });

  it("sends a snapshot every 2 s while running and a heartbeat comment every 15 s", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const { EventHub } = await import("../src/campaign-object/live/event-hub");
    let status = "running";
    const ctx = { getWebSockets: () => [] } as unknown as DurableObjectState;
    const hub = new EventHub(ctx, { snapshot: () => snapshot(status) as never, eventsAfter: () => [], lastEventId: () => 0 });
    const stream = sseReader(hub.openSse(null));
    await stream.until((s) => s.includes("\n\ndata: "));
    const ticksAt: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 8; i++) {
      vi.advanceTimersByTime(2_000);
      await stream.until((s) => parseFrames(s).filter((f) => f.data).length >= i + 2);
      ticksAt.push(Date.now() - start);
    }
    expect(ticksAt).toEqual([2_000, 4_000, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000]);
    const frames = parseFrames(stream.text);
    expect(frames.filter((f) => f.comment === "heartbeat")).toHaveLength(1);
    expect(frames.at(-1)?.comment).toBe("heartbeat");
    // Paused: heartbeats keep the connection alive, but no snapshots are sent.
    status = "paused";
    vi.advanceTimersByTime(16_000);
    await stream.until((s) => parseFrames(s).filter((f) => f.comment === "heartbeat").length >= 2);
    expect(parseFrames(stream.text).filter((f) => f.data)).toHaveLength(9);
    status = "completed";
    vi.advanceTimersByTime(2_000);
    await stream.until(() => false);
    expect(stream.closed).toBe(true);
    expect(parseFrames(stream.text).at(-1)?.event).toBe("end");
  });
});

describe("events token", () => {
  it("lets a browser read one campaign's events with ?token= for 5 minutes, and nothing else", async () => {
    restore = useSimulatedTime();
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(1));
    const other = await createCampaign(t, csvOf(1));
    await lifecycle(t, id, "stop");
    const minted = await call(`/api/v1/campaigns/${id}/events/token`, { method: "POST", headers: t.auth });
    expect(minted.status).toBe(201);
    const { token, expires_at } = await json<{ token: string; expires_at: string }>(minted);
    expect(Date.parse(expires_at) - Date.now()).toBe(5 * 60_000);

    const ok = await call(`/api/v1/campaigns/${id}/events?token=${encodeURIComponent(token)}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("event: end");
    const wrong = await call(`/api/v1/campaigns/${other.id}/events?token=${encodeURIComponent(token)}`);
    expect(wrong.status).toBe(403);
    for (const [method, path] of [
      ["GET", `/api/v1/campaigns/${id}`],
      ["GET", `/api/v1/campaigns/${id}/contacts`],
      ["POST", `/api/v1/campaigns/${id}/start`],
      ["POST", `/api/v1/campaigns/${id}/events/token`],
    ]) {
      const res = await call(`${path}?token=${encodeURIComponent(token)}`, { method });
      expect(res.status, `${method} ${path}`).toBe(403);
      await res.body?.cancel();
    }
    const tampered = await call(`/api/v1/campaigns/${id}/events?token=${encodeURIComponent(`${token.slice(0, -2)}xx`)}`);
    expect(tampered.status).toBe(401);
    await Promise.all([wrong.body?.cancel(), tampered.body?.cancel()]);

    vi.setSystemTime(Date.now() + 5 * 60_000 + 1);
    const expired = await call(`/api/v1/campaigns/${id}/events?token=${encodeURIComponent(token)}`);
    expect(expired.status).toBe(401);
    expect(await expired.text()).toContain("expired");
  });

  it("is minted only for a campaign of the caller's account", async () => {
    const t = await newTenant();
    const intruder = await newTenant();
    const { id } = await createCampaign(t, csvOf(1));
    const res = await call(`/api/v1/campaigns/${id}/events/token`, { method: "POST", headers: intruder.auth });
    expect(res.status).toBe(404);
    await res.body?.cancel();
    expect((await call(`/api/v1/campaigns/${id}/events/token`, { method: "POST" })).status).toBe(401);
  });
});

describe("WebSocket", () => {
  async function connect(t: Tenant, id: string, query = "") {
    const res = await call(`/api/v1/campaigns/${id}/events/ws${query}`, { headers: { ...t.auth, Upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const socket = res.webSocket as WebSocket;
    const messages: { type: string; id?: number; data: Record<string, unknown> }[] = [];
    let closed: number | null = null;
    socket.addEventListener("message", (e) => {
      if (e.data !== "pong") messages.push(JSON.parse(e.data as string));
      else messages.push({ type: "pong", data: {} });
    });
    socket.addEventListener("close", (e) => {
      closed = e.code;
    });
    socket.accept();
    return { socket, messages, closed: () => closed };
  }

  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
    expect(check()).toBe(true);
  };

  it("sends the same messages as JSON frames, answers ping, and closes on end", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    const { id } = await createCampaign(t, "phone_number\n+15550400101\n");
    const ws = await connect(t, id);
    await waitFor(() => ws.messages.length >= 1);
    expect(ws.messages[0]).toMatchObject({ type: "snapshot", data: { campaign_id: id, status: "draft" } });
    ws.socket.send("ping");
    await waitFor(() => ws.messages.some((m) => m.type === "pong"));
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.status === "completed");
    await step(t, [id]);
    await waitFor(() => ws.closed() !== null);
    const contact = ws.messages.filter((m) => m.type === "contact");
    expect(contact.map((m) => m.data.status)).toEqual(["originated", "connected", "completed"]);
    expect(contact.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(ws.messages.at(-1)).toMatchObject({ type: "end", data: { status: "completed" } });
    expect(ws.closed()).toBe(1000);
  });

  it("replays from last_event_id and closes at once on a finished campaign", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    const { id } = await createCampaign(t, "phone_number\n+15550400102\n");
    await lifecycle(t, id, "start");
    await runUntil(t, [id], (c) => c.status === "completed");
    const ws = await connect(t, id, "?last_event_id=1");
    await waitFor(() => ws.closed() !== null);
    expect(ws.messages.map((m) => [m.type, m.id])).toEqual([
      ["snapshot", undefined],
      ["contact", 2],
      ["contact", 3],
      ["end", undefined],
    ]);
  });

  it("needs an Upgrade request", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(1));
    const res = await call(`/api/v1/campaigns/${id}/events/ws`, { headers: t.auth });
    expect(res.status).toBe(400);
    await res.body?.cancel();
  });
});

describe("a draft campaign's stream", () => {
  it("gets a snapshot with the new total as soon as contacts are appended, though no transition carries it", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(2));
    const stream = sseReader(await call(`/api/v1/campaigns/${id}/events`, { headers: t.auth }));
    await stream.until((text) => text.includes('"total":2'));
    const appended = await call(`/api/v1/campaigns/${id}/contacts`, {
      method: "POST",
      headers: { ...t.auth, "Content-Type": "text/csv" },
      body: "phone_number,first_name\n+15550100010,New\n",
    });
    expect(appended.status).toBe(200);
    await stream.until((text) => text.includes('"total":3'), 20);
    expect(stream.text).toContain('"total":3');
    await stream.cancel();
  });
});
