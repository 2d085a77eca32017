import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

/**
 * A webhook receiver for local use and tests (simulator deployments only): one object per sink
 * name records what it is sent and answers the status it was told to, e.g. 503 until a time, then 200.
 */
export interface SinkBehaviour {
  /** Answer this status… */
  status: number;
  /** …until this epoch ms, then `then_status` (absent: always `status`). */
  until?: number | null;
  then_status?: number;
  /** Location header sent with a 3xx. */
  location?: string | null;
  /** A 2xx answers this body as is (e.g. a malformed eligibility answer). */
  body?: string | null;
  /** A 2xx answers a contact.eligibility check: dial every contact but these phone numbers (refused with `reason`, or left out). */
  eligibility?: { refuse?: string[]; omit?: string[]; reason?: string } | null;
}

/** The sink's answer to one contact.eligibility message, as its behaviour says. */
function eligibilityAnswer(body: string, rules: NonNullable<SinkBehaviour["eligibility"]>): string {
  const contacts = (JSON.parse(body) as { data?: { contacts?: { contact_id: string; phone_number: string }[] } }).data?.contacts ?? [];
  const results = contacts
    .filter((c) => !rules.omit?.includes(c.phone_number))
    .map((c) =>
      rules.refuse?.includes(c.phone_number)
        ? { contact_id: c.contact_id, dial: false, reason: rules.reason ?? "refused by the sink" }
        : { contact_id: c.contact_id, dial: true },
    );
  return JSON.stringify({ results });
}

export interface ReceivedWebhook {
  seq: number;
  at: number;
  headers: Record<string, string>;
  body: string;
  answered: number;
}

/** A sink keeps this many requests; older ones are dropped. */
const KEEP = 20_000;
const RECORDED_HEADERS = ["content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature"];

export class WebhookSinkDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS received (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL, answered INTEGER NOT NULL)`);
      this.sql.exec("CREATE TABLE IF NOT EXISTS behaviour (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), value TEXT NOT NULL)");
    });
  }

  configure(behaviour: SinkBehaviour) {
    this.sql.exec("INSERT OR REPLACE INTO behaviour (singleton, value) VALUES (1, ?)", JSON.stringify(behaviour));
  }

  /** Records one request and answers as configured (200 by default). */
  receive(headers: Record<string, string>, body: string): { status: number; location: string | null; body: string | null } {
    const now = Date.now();
    const raw = this.sql.exec<{ value: string }>("SELECT value FROM behaviour").toArray()[0]?.value;
    const behaviour: SinkBehaviour = raw ? JSON.parse(raw) : { status: 200 };
    const status = behaviour.until != null && now >= behaviour.until ? (behaviour.then_status ?? 200) : behaviour.status;
    const kept = Object.fromEntries(RECORDED_HEADERS.filter((h) => headers[h] !== undefined).map((h) => [h, headers[h] as string]));
    this.sql.exec("INSERT INTO received (at, headers, body, answered) VALUES (?, ?, ?, ?)", now, JSON.stringify(kept), body, status);
    this.sql.exec("DELETE FROM received WHERE seq <= (SELECT max(seq) FROM received) - ?", KEEP);
    const ok = status >= 200 && status < 300;
    const answer = ok && behaviour.body != null ? behaviour.body : ok && behaviour.eligibility ? eligibilityAnswer(body, behaviour.eligibility) : null;
    return { status, location: status >= 300 && status < 400 ? (behaviour.location ?? null) : null, body: answer };
  }

  received(after = 0): ReceivedWebhook[] {
    return this.sql
      .exec<{ seq: number; at: number; headers: string; body: string; answered: number }>(
        "SELECT seq, at, headers, body, answered FROM received WHERE seq > ? ORDER BY seq",
        after,
      )
      .toArray()
      .map((r) => ({ ...r, headers: JSON.parse(r.headers) as Record<string, string> }));
  }

  reset() {
    this.sql.exec("DELETE FROM received");
    this.sql.exec("DELETE FROM behaviour");
  }
}

export const getWebhookSink = (env: Env, name: string) => (env.WEBHOOK_SINK as DurableObjectNamespace<WebhookSinkDO>).get(env.WEBHOOK_SINK.idFromName(name));
