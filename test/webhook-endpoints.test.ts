import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { WEBHOOK_EVENT_TYPES } from "../src/outbox/event-types";
import { pruneDeliveryLog } from "../src/outbox/retention";
import { MAX_ENDPOINTS_PER_ACCOUNT } from "../src/routes/webhooks";
import { call, json, jsonInit, newTenant } from "./helpers";
import { createEndpoint, deliveries, type EndpointView, sinkUrl } from "./webhook-helpers";

const JSON_ERRORS = { Accept: "application/json" };

describe("webhook endpoint routes", () => {
  it("creates, lists, reads, updates and deletes an endpoint; the secret is shown once and stored encrypted", async () => {
    const t = await newTenant();
    const created = await createEndpoint(t, { url: "https://hooks.example.com/edgedial", description: "CRM" });
    expect(created).toEqual({
      id: expect.stringMatching(/^whk_[0-9a-z]{26}$/),
      url: "https://hooks.example.com/edgedial",
      events: [...WEBHOOK_EVENT_TYPES],
      description: "CRM",
      enabled: true,
      disabled_reason: null,
      created_at: expect.stringMatching(/Z$/),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32}$/),
    });
    const stored = await env.DB.prepare("SELECT secret FROM webhook_endpoints WHERE id = ?").bind(created.id).first<{ secret: string }>();
    expect(stored?.secret).not.toContain(created.secret.slice(6));

    const read = await json<EndpointView>(await call(`/api/v1/webhooks/${created.id}`, { headers: t.auth }));
    expect(read).toEqual({ ...created, secret: undefined });
    expect("secret" in read).toBe(false);
    const list = await json<{ webhooks: EndpointView[]; total: number }>(await call("/v1/webhooks", { headers: t.auth }));
    expect(list).toMatchObject({ total: 1, count: 1, has_next: false });
    expect(list.webhooks[0]).toEqual(read);

    const patched = await call(
      `/api/v1/webhooks/${created.id}`,
      jsonInit("PATCH", { events: ["contact.failed", "campaign.completed", "contact.failed"], description: null, enabled: false }, t.auth),
    );
    expect(await json(patched)).toMatchObject({
      events: ["campaign.completed", "contact.failed"],
      description: null,
      enabled: false,
      disabled_reason: "Disabled with PATCH.",
    });
    const enabled = await json(await call(`/api/v1/webhooks/${created.id}`, jsonInit("PATCH", { enabled: true, url: "https://other.example.com/h" }, t.auth)));
    expect(enabled).toMatchObject({ url: "https://other.example.com/h", enabled: true, disabled_reason: null });

    expect((await call(`/api/v1/webhooks/${created.id}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
    expect((await call(`/api/v1/webhooks/${created.id}`, { headers: t.auth })).status).toBe(404);
    expect((await call(`/api/v1/webhooks/${created.id}`, { method: "DELETE", headers: t.auth })).status).toBe(404);
  });

  it("validates events: an unknown type is named, an empty list is refused, and nothing is written", async () => {
    const t = await newTenant();
    const unknown = await call(
      "/api/v1/webhooks",
      jsonInit("POST", { url: "https://h.example.com/", events: ["contact.completed", "contact.answered"] }, t.auth),
    );
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toBe(`events: "contact.answered" is not an event type; use any of ${WEBHOOK_EVENT_TYPES.join(", ")}.`);
    const empty = await call("/api/v1/webhooks", jsonInit("POST", { url: "https://h.example.com/", events: [] }, t.auth));
    expect(empty.status).toBe(400);
    expect(await empty.text()).toMatch(/at least one event type; leave it out to receive every type/);
    const notArray = await call("/api/v1/webhooks", jsonInit("POST", { url: "https://h.example.com/", events: "ping" }, { ...t.auth, ...JSON_ERRORS }));
    expect(await json(notArray)).toMatchObject({ error: { code: "bad_request", message: expect.stringContaining("events") } });
    const missingUrl = await call("/api/v1/webhooks", jsonInit("POST", {}, t.auth));
    expect(await missingUrl.text()).toMatch(/url: is required/);
    const created = await createEndpoint(t, { url: "https://h.example.com/", events: ["ping"] });
    const badPatch = await call(`/api/v1/webhooks/${created.id}`, jsonInit("PATCH", { events: ["campaign.exploded"] }, t.auth));
    expect(badPatch.status).toBe(400);
    expect((await json<EndpointView>(await call(`/api/v1/webhooks/${created.id}`, { headers: t.auth }))).events).toEqual(["ping"]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM webhook_endpoints WHERE account_id = ?").bind(t.accountId).first<{ n: number }>();
    expect(count?.n).toBe(1);
  });

  it.each([
    ["http://hooks.example.com/x", /must use https/],
    ["https://10.0.0.8/x", /10\.0\.0\.8, a private network address/],
    ["https://192.168.1.1/x", /private network address/],
    ["https://169.254.169.254/latest", /link-local/],
    ["https://0xa9.0xfe.0xa9.0xfe/", /169\.254\.169\.254, a link-local address/],
    ["https://[fd12::1]/", /unique-local/],
    ["https://[::ffff:127.0.0.1]/", /IPv4-mapped/],
    ["https://100.64.0.9/", /carrier-grade NAT/],
    ["https://admin:hunter2@hooks.example.com/", /must not carry credentials/],
    ["ftp://hooks.example.com/", /must use https/],
  ])("refuses %s with a clear sentence, at create and at PATCH", async (url, message) => {
    const t = await newTenant();
    const res = await call("/api/v1/webhooks", jsonInit("POST", { url }, t.auth));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(message);
    const ok = await createEndpoint(t, { url: "https://hooks.example.com/" });
    const patch = await call(`/api/v1/webhooks/${ok.id}`, jsonInit("PATCH", { url }, t.auth));
    expect(patch.status).toBe(400);
    expect(await patch.text()).toMatch(message);
    expect((await json<EndpointView>(await call(`/api/v1/webhooks/${ok.id}`, { headers: t.auth }))).url).toBe("https://hooks.example.com/");
  });

  it("accepts plain http to loopback here, where the simulator is enabled", async () => {
    const t = await newTenant();
    for (const url of [sinkUrl("x"), "http://localhost:9000/hook", "http://[::1]:9000/hook", "http://2130706433:9000/hook"]) {
      const res = await call("/api/v1/webhooks", jsonInit("POST", { url }, t.auth));
      expect(res.status, url).toBe(201);
    }
    // The stored URL is the normalised one: the literal that was checked.
    const list = await json<{ webhooks: EndpointView[] }>(await call("/api/v1/webhooks", { headers: t.auth }));
    expect(list.webhooks.map((w) => w.url)).toContain("http://127.0.0.1:9000/hook");
  });

  it(`caps an account at ${MAX_ENDPOINTS_PER_ACCOUNT} endpoints`, async () => {
    const t = await newTenant();
    for (let i = 0; i < MAX_ENDPOINTS_PER_ACCOUNT; i++) await createEndpoint(t, { url: `https://h${i}.example.com/` });
    const res = await call("/api/v1/webhooks", jsonInit("POST", { url: "https://one-more.example.com/" }, t.auth));
    expect(res.status).toBe(409);
    expect(await res.text()).toMatch(/already has 20 webhook endpoints.*delete one first/);
  });

  it("keeps accounts apart: another account's endpoint is a 404 on every route", async () => {
    const owner = await newTenant();
    const other = await newTenant();
    const endpoint = await createEndpoint(owner, { url: "https://hooks.example.com/" });
    const base = `/api/v1/webhooks/${endpoint.id}`;
    const attempts: [string, RequestInit][] = [
      [base, { headers: other.auth }],
      [base, jsonInit("PATCH", { enabled: false }, other.auth)],
      [base, { method: "DELETE", headers: other.auth }],
      [`${base}/test`, { method: "POST", headers: other.auth }],
      [`${base}/deliveries`, { headers: other.auth }],
    ];
    for (const [path, init] of attempts) {
      const res = await call(path, init);
      expect(res.status, `${init.method ?? "GET"} ${path}`).toBe(404);
      expect(await res.text()).toBe(`Webhook endpoint ${endpoint.id} was not found.`);
    }
    expect((await json<{ total: number }>(await call("/api/v1/webhooks", { headers: other.auth }))).total).toBe(0);
    expect(await json(await call(base, { headers: owner.auth }))).toMatchObject({ enabled: true });
    expect((await call("/api/v1/webhooks", { headers: {} })).status).toBe(401);
  });

  it("lists deliveries newest first in the list envelope, filtered by status", async () => {
    const t = await newTenant();
    const endpoint = await createEndpoint(t, { url: "https://hooks.example.com/" });
    const rows = [
      ["msg_01aaaaaaaaaaaaaaaaaaaaaaaa", "delivered"],
      ["msg_01bbbbbbbbbbbbbbbbbbbbbbbb", "pending"],
      ["msg_01cccccccccccccccccccccccc", "failed"],
    ];
    for (const [id, status] of rows) {
      await env.DB.prepare(
        `INSERT INTO webhook_deliveries (endpoint_id, message_id, account_id, type, status, attempts, created_at, updated_at)
         VALUES (?, ?, ?, 'contact.completed', ?, 1, '2031-01-01T00:00:00.000Z', '2031-01-01T00:00:00.000Z')`,
      )
        .bind(endpoint.id, id, t.accountId, status)
        .run();
    }
    const all = await deliveries(t, endpoint.id, "?limit=2");
    expect(all).toMatchObject({ count: 2, total: 3, has_next: true, next_offset: 2 });
    expect(all.deliveries.map((d) => d.message_id)).toEqual(["msg_01cccccccccccccccccccccccc", "msg_01bbbbbbbbbbbbbbbbbbbbbbbb"]);
    expect(Object.keys(all.deliveries[0] ?? {})).toEqual([
      "message_id",
      "type",
      "status",
      "attempts",
      "last_status_code",
      "last_error",
      "next_attempt_at",
      "created_at",
    ]);
    expect((await deliveries(t, endpoint.id, "?status=pending")).deliveries.map((d) => d.status)).toEqual(["pending"]);
    const bad = await call(`/api/v1/webhooks/${endpoint.id}/deliveries?status=lost`, { headers: t.auth });
    expect(bad.status).toBe(400);
    // Deleting the endpoint deletes its log.
    await call(`/api/v1/webhooks/${endpoint.id}`, { method: "DELETE", headers: t.auth });
    const left = await env.DB.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = ?").bind(endpoint.id).first<{ n: number }>();
    expect(left?.n).toBe(0);
  });
});

describe("the delivery log's retention", () => {
  it("drops finished deliveries older than 30 days and keeps pending ones and recent ones", async () => {
    const t = await newTenant();
    const endpoint = await createEndpoint(t, { url: "https://hooks.example.com/" });
    const now = Date.parse("2031-06-01T00:00:00.000Z");
    const rows: [string, string, number][] = [
      ["msg_old_delivered", "delivered", 31],
      ["msg_old_failed", "failed", 45],
      ["msg_old_pending", "pending", 40],
      ["msg_recent", "delivered", 29],
    ];
    for (const [id, status, days] of rows) {
      const at = new Date(now - days * 86_400_000).toISOString();
      await env.DB.prepare(
        `INSERT INTO webhook_deliveries (endpoint_id, message_id, account_id, type, status, attempts, created_at, updated_at)
         VALUES (?, ?, ?, 'ping', ?, 1, ?, ?)`,
      )
        .bind(endpoint.id, id, t.accountId, status, at, at)
        .run();
    }
    expect(await pruneDeliveryLog(env, now)).toBeGreaterThanOrEqual(2);
    const left = await deliveries(t, endpoint.id);
    expect(left.deliveries.map((d) => d.message_id).sort()).toEqual(["msg_old_pending", "msg_recent"]);
  });
});

describe("the webhook sink", () => {
  it("answers only where the simulator is enabled and refuses bad names", async () => {
    expect((await call("/simulator/webhook-sink/bad.name", { method: "POST", body: "{}" })).status).toBe(400);
    const res = await call("/simulator/webhook-sink/ok-name", { method: "POST", body: "{}" });
    expect(res.status).toBe(200);
    expect(await json(await call("/simulator/webhook-sink/ok-name"))).toMatchObject({ received: [{ body: "{}", answered: 200 }] });
  });
});
