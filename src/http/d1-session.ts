import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { badRequest } from "./errors";

/** The header a response carries its D1 session bookmark in, and a request hands it back in. */
const BOOKMARK_HEADER = "x-d1-bookmark";

/** D1 bookmarks are opaque, but short and printable; anything else was never handed out. */
const BOOKMARK_SHAPE = /^[0-9A-Za-z-]{1,200}$/;

/**
 * The D1 binding as the routes see it inside a session: every query of the request runs in one
 * D1 session (sequentially consistent, read from a replica where one is new enough), so the
 * existing `database(c.env)` accessor reads through it unchanged.
 */
class SessionDatabase implements D1Database {
  private session: D1DatabaseSession;
  /** Where the session started, while it has run no query (D1 has no bookmark for it yet). */
  private startedAt: string | null;

  constructor(
    private readonly primary: D1Database,
    start: string,
  ) {
    this.session = primary.withSession(start);
    this.startedAt = start.startsWith("first-") ? null : start;
  }

  prepare(query: string): D1PreparedStatement {
    return this.session.prepare(query);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.session.batch<T>(statements);
  }

  /** Raw multi-statement SQL has no session form; it goes to the primary (no route uses it). */
  exec(query: string): Promise<D1ExecResult> {
    return this.primary.exec(query);
  }

  withSession(constraintOrBookmark?: string): D1DatabaseSession {
    return this.primary.withSession(constraintOrBookmark);
  }

  dump(): Promise<ArrayBuffer> {
    return this.primary.dump();
  }

  get bookmark(): string | null {
    return this.session.getBookmark() ?? this.startedAt;
  }

  /** A write made outside this request (by a campaign's object) must be visible to what the request reads next. */
  continueFrom(bookmark: string) {
    this.session = this.primary.withSession(bookmark);
    this.startedAt = bookmark;
  }
}

/**
 * Tenant routes that write, or that were handed a bookmark (`x-d1-bookmark`), read D1 through a
 * D1 session starting there, and their response carries the session's latest bookmark: a client
 * that passes it along reads its own writes, even from a replica. A read that sent none reads the
 * primary, which holds every write, without a session: a session costs every query of the
 * request, and such a read has nothing to be consistent with. `x-d1-bookmark: first-unconstrained`
 * asks for a session that may read from the nearest replica.
 */
export const d1Sessions = createMiddleware<AppEnv>(async (c, next) => {
  const given = c.req.header(BOOKMARK_HEADER)?.trim();
  if (given && !BOOKMARK_SHAPE.test(given)) {
    throw badRequest(`${BOOKMARK_HEADER} must be the value of a previous response's ${BOOKMARK_HEADER} header; leave it out to read from anywhere.`);
  }
  if (!given && (c.req.method === "GET" || c.req.method === "HEAD")) {
    await next();
    return;
  }
  const db = new SessionDatabase(c.env.DB, given || "first-unconstrained");
  c.env = { ...c.env, DB: db };
  await next();
  const bookmark = db.bookmark;
  // A WebSocket upgrade answer cannot be re-made with another header; a stream needs no bookmark.
  if (bookmark && c.res.status !== 101) c.header(BOOKMARK_HEADER, bookmark);
});

/** After a campaign's object wrote to D1 on this request's behalf: later reads (and the bookmark returned) include that write. */
export function continueSessionFrom(env: { DB: D1Database }, bookmark: string | null | undefined) {
  if (bookmark && env.DB instanceof SessionDatabase) env.DB.continueFrom(bookmark);
}
