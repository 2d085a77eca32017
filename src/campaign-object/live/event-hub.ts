import type { LogEvent } from "../storage/event-log";
import { isFinal, type Snapshot } from "./events";

const SNAPSHOT_INTERVAL_MS = 2_000;
const HEARTBEAT_INTERVAL_MS = 15_000;
/** SSE streams close after this long; EventSource reconnects by itself (told by `retry:`). */
const STREAM_LIFETIME_MS = 30 * 60_000;
const RECONNECT_HINT_MS = 3_000;
/** Events replayed or pushed per write, so one slow reader cannot make a huge frame. */
const BATCH = 500;
/** Transitions are pushed at most this often: one fan-out carries everything that happened meanwhile. */
const PUBLISH_DELAY_MS = 50;

export interface EventSource {
  snapshot(): Snapshot | null;
  /** Logged contact transitions and results with id > `after`, oldest first. */
  eventsAfter(after: number, limit: number): LogEvent[];
  lastEventId(): number;
}

interface SseSubscriber {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  lastId: number;
  closesAt: number;
}

/** What a hibernating WebSocket remembers: the last event it was sent. */
interface SocketAttachment {
  lastId: number;
}

const encoder = new TextEncoder();

/** SSE framing: one `data:` line per JSON document; a blank line ends each event. */
const sse = {
  retry: (ms: number) => `retry: ${ms}\n\n`,
  snapshot: (snapshot: Snapshot) => `data: ${JSON.stringify(snapshot)}\n\n`,
  event: (event: LogEvent) => `event: ${event.kind}\nid: ${event.id}\ndata: ${JSON.stringify(event.data)}\n\n`,
  end: (snapshot: Snapshot) => `event: end\ndata: ${JSON.stringify(snapshot)}\n\n`,
  heartbeat: () => ": heartbeat\n\n",
};

/** The same messages as JSON WebSocket frames. */
const frames = {
  snapshot: (snapshot: Snapshot) => JSON.stringify({ type: "snapshot", data: snapshot }),
  event: (event: LogEvent) => JSON.stringify({ type: event.kind, id: event.id, data: event.data }),
  end: (snapshot: Snapshot) => JSON.stringify({ type: "end", data: snapshot }),
};

const SSE_HEADERS = { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" };

/**
 * Fans a campaign's snapshots and contact transitions out to SSE streams and hibernatable
 * WebSockets. One snapshot per tick is shared by all subscribers; transitions come from the
 * object's event log, so a reconnect with Last-Event-ID gets exactly what it missed.
 */
export class EventHub {
  private readonly streams = new Set<SseSubscriber>();
  private ticker: ReturnType<typeof setInterval> | undefined;
  private publishTimer: ReturnType<typeof setTimeout> | undefined;
  private lastHeartbeat = Date.now();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly source: EventSource,
  ) {}

  get hasSubscribers(): boolean {
    return this.streams.size > 0 || this.ctx.getWebSockets().length > 0;
  }

  /** Opens the stream a forwarded request asks for: SSE, or a WebSocket on …/ws; both resume after Last-Event-ID. */
  open(request: Request): Response {
    const url = new URL(request.url);
    const raw = request.headers.get("Last-Event-ID") ?? url.searchParams.get("last_event_id");
    const lastEventId = raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
    if (!url.pathname.endsWith("/ws")) return this.openSse(lastEventId);
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("Expected a WebSocket upgrade.", { status: 426 });
    return this.openWebSocket(lastEventId);
  }

  openSse(lastEventId: number | null): Response {
    const snapshot = this.source.snapshot();
    // The runtime's native byte pipe: a chunk written to 500 streams costs far less than with a JS TransformStream.
    const { readable, writable } = new IdentityTransformStream();
    const writer = writable.getWriter() as WritableStreamDefaultWriter<Uint8Array>;
    const subscriber: SseSubscriber = { writer, lastId: lastEventId ?? this.source.lastEventId(), closesAt: Date.now() + STREAM_LIFETIME_MS };
    let text = sse.retry(RECONNECT_HINT_MS);
    if (snapshot) text += sse.snapshot(snapshot);
    text += this.pendingSse(subscriber);
    if (!snapshot || isFinal(snapshot)) {
      if (snapshot) text += sse.end(snapshot);
      void writer
        .write(encoder.encode(text))
        .then(() => writer.close())
        .catch(() => undefined);
      return new Response(readable, { headers: SSE_HEADERS });
    }
    this.streams.add(subscriber);
    this.send(subscriber, encoder.encode(text));
    this.ensureTicker();
    return new Response(readable, { headers: SSE_HEADERS });
  }

  openWebSocket(lastEventId: number | null): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    // Pings are answered by the runtime without waking the object: idle dashboards cost nothing.
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.ctx.acceptWebSocket(server);
    const snapshot = this.source.snapshot();
    const attachment: SocketAttachment = { lastId: lastEventId ?? this.source.lastEventId() };
    if (snapshot) server.send(frames.snapshot(snapshot));
    this.pushToSocket(server, attachment);
    if (!snapshot || isFinal(snapshot)) {
      if (snapshot) server.send(frames.end(snapshot));
      server.close(1000, "campaign finished");
    } else {
      this.ensureTicker();
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Asks for a push soon; a terminal campaign is pushed at once so its streams end without delay. */
  publish() {
    if (!this.hasSubscribers) return;
    const snapshot = this.source.snapshot();
    if (!snapshot || isFinal(snapshot)) {
      this.pushNow();
      return;
    }
    this.publishTimer ??= setTimeout(() => this.pushNow(), PUBLISH_DELAY_MS);
  }

  /** Pushes new transitions to every subscriber now; ends every stream once the campaign is terminal. */
  pushNow() {
    if (!this.hasSubscribers) return;
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
    // Subscribers at the same position share one query and one encoded chunk.
    const byPosition = new Map<number, SseSubscriber[]>();
    for (const subscriber of this.streams) {
      const group = byPosition.get(subscriber.lastId);
      if (group) group.push(subscriber);
      else byPosition.set(subscriber.lastId, [subscriber]);
    }
    for (const [lastId, group] of byPosition) {
      const cursor = { lastId };
      const text = this.pendingSse(cursor);
      if (!text) continue;
      const bytes = encoder.encode(text);
      for (const subscriber of group) {
        subscriber.lastId = cursor.lastId;
        this.send(subscriber, bytes);
      }
    }
    for (const socket of this.ctx.getWebSockets()) {
      const attachment = (socket.deserializeAttachment() as SocketAttachment | null) ?? { lastId: this.source.lastEventId() };
      this.pushToSocket(socket, attachment);
    }
    const snapshot = this.source.snapshot();
    if (!snapshot || isFinal(snapshot)) this.endAll(snapshot);
    // After hibernation the ticker is gone; the first activity of a running campaign restarts it.
    else if (snapshot.status === "running") this.ensureTicker();
  }

  /**
   * The campaign's counts changed with no transition to carry them (contacts appended): every
   * subscriber gets the snapshot now, whatever the status (the 2 s tick sends one only while running).
   */
  pushSnapshot() {
    if (!this.hasSubscribers) return;
    const snapshot = this.source.snapshot();
    if (!snapshot || isFinal(snapshot)) return;
    const frame = encoder.encode(sse.snapshot(snapshot));
    for (const subscriber of this.streams) this.send(subscriber, frame);
    for (const socket of this.ctx.getWebSockets()) this.safeSend(socket, frames.snapshot(snapshot));
  }

  /** The 2 s tick: a snapshot while running, a heartbeat comment every 15 s, expired streams closed. */
  tick() {
    const snapshot = this.source.snapshot();
    if (!snapshot || isFinal(snapshot)) {
      this.pushNow();
      return;
    }
    const now = Date.now();
    const heartbeat = now - this.lastHeartbeat >= HEARTBEAT_INTERVAL_MS;
    if (heartbeat) this.lastHeartbeat = now;
    const running = snapshot.status === "running";
    const frame = encoder.encode((running ? sse.snapshot(snapshot) : "") + (heartbeat ? sse.heartbeat() : ""));
    for (const subscriber of this.streams) {
      if (now >= subscriber.closesAt) {
        this.streams.delete(subscriber);
        void subscriber.writer.close().catch(() => undefined);
        continue;
      }
      this.send(subscriber, frame);
    }
    if (running) for (const socket of this.ctx.getWebSockets()) this.safeSend(socket, frames.snapshot(snapshot));
    this.stopTickerIfIdle(snapshot);
  }

  private endAll(snapshot: Snapshot | null) {
    const frame = encoder.encode(snapshot ? sse.end(snapshot) : "");
    for (const subscriber of this.streams) {
      this.streams.delete(subscriber);
      const { writer } = subscriber;
      void writer
        .write(frame)
        .then(() => writer.close())
        .catch(() => undefined);
    }
    for (const socket of this.ctx.getWebSockets()) {
      if (snapshot) this.safeSend(socket, frames.end(snapshot));
      try {
        socket.close(1000, "campaign finished");
      } catch {}
    }
    this.stopTicker();
  }

  private pendingSse(subscriber: { lastId: number }): string {
    let text = "";
    for (;;) {
      const events = this.source.eventsAfter(subscriber.lastId, BATCH);
      for (const event of events) text += sse.event(event);
      if (events.length > 0) subscriber.lastId = (events.at(-1) as LogEvent).id;
      if (events.length < BATCH) return text;
    }
  }

  private pushToSocket(socket: WebSocket, attachment: SocketAttachment) {
    let lastId = attachment.lastId;
    for (;;) {
      const events = this.source.eventsAfter(lastId, BATCH);
      for (const event of events) this.safeSend(socket, frames.event(event));
      if (events.length > 0) lastId = (events.at(-1) as LogEvent).id;
      if (events.length < BATCH) break;
    }
    if (lastId !== attachment.lastId || socket.deserializeAttachment() === null) socket.serializeAttachment({ lastId } satisfies SocketAttachment);
  }

  /** A failed write means the client has gone: forget it rather than keep the object busy. */
  private send(subscriber: SseSubscriber, bytes: Uint8Array) {
    if (bytes.byteLength === 0) return;
    subscriber.writer.write(bytes).catch(() => {
      this.streams.delete(subscriber);
    });
  }

  private safeSend(socket: WebSocket, message: string) {
    try {
      socket.send(message);
    } catch {
      // Closed meanwhile; the runtime drops it from getWebSockets().
    }
  }

  private ensureTicker() {
    this.ticker ??= setInterval(() => this.tick(), SNAPSHOT_INTERVAL_MS);
  }

  /** SSE needs heartbeats while open; sockets only need ticks while running, so idle ones can hibernate. */
  private stopTickerIfIdle(snapshot: Snapshot) {
    if (this.streams.size === 0 && snapshot.status !== "running") this.stopTicker();
  }

  private stopTicker() {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
