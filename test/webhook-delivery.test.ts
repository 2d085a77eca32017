import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type LeasedDelivery, OutboxStore } from "../src/outbox/outbox-store";
import { call, jsonInit, newTenant } from "./helpers";
import { useSimulatedTime } from "./sim";
import {
  accountStub,
  configureSink,
  createEndpoint,
  deliveries,
  type EndpointView,
  newSink,
  received,
  runAccountOutbox,
  sendTest,
  sinkUrl,
  verifyReceived,
} from "./webhook-helpers";

let restore: () => void = () => undefined;
afterEach(() => restore());

const HOUR = 3_600_000;
/** Simulated time an hour ahead of the real clock, so no alarm fires by itself: each step is the test's. */
const offClock = () => useSimulatedTime(Date.now() + HOUR);

describe("webhook delivery through the account's outbox", () => {
  it("delivers a test ping, signed so the standardwebhooks library verifies it; a tampered body fails", async () => {
    restore = offClock();
    const t = await newTenant();
    const sink = newSink();
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    const messageId = await sendTest(t, endpoint.id);
    expect(messageId).toMatch(/^msg_[0-9a-z]{26}$/);
    await runAccountOutbox(t, Date.now() + HOUR);

    const [request, ...rest] = await received(sink);
    expect(rest).toEqual([]);
    expect(request?.headers).toMatchObject({ "webhook-id": messageId, "content-type": "application/json" });
    expect(request?.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(Number(request?.headers["webhook-timestamp"])).toBe(Math.floor((request?.at ?? 0) / 1000));
    const body = verifyReceived(endpoint.secret, request as NonNullable<typeof request>);
    expect(body).toEqual({ type: "ping", timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), data: { endpoint_id: endpoint.id } });
    const tampered = { ...(request as NonNullable<typeof request>), body: (request?.body ?? "").replace("ping", "pong") };
    expect(() => verifyReceived(endpoint.secret, tampered)).toThrow(/No matching signature/);

    const log = await deliveries(t, endpoint.id);
    expect(log.deliveries).toEqual([
      {
        message_id: messageId,
        type: "ping",
        status: "delivered",
        attempts: 1,
        last_status_code: 200,
        last_error: null,
        next_attempt_at: null,
        created_at: expect.any(String),
      },
    ]);
  });

  it("retries through a 6-hour outage: every message arrives, each until its 2xx and never after", async () => {
    restore = offClock();
    const start = Date.now();
    const t = await newTenant();
    const sink = newSink("outage");
    await configureSink(sink, { status: 503, until: start + 6 * HOUR, then_status: 200 });
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    const ids = [await sendTest(t, endpoint.id), await sendTest(t, endpoint.id), await sendTest(t, endpoint.id)];
    await runAccountOutbox(t, start + 24 * HOUR);

    const requests = await received(sink);
    for (const id of ids) {
      const mine = requests.filter((r) => r.headers["webhook-id"] === id);
      const answers = mine.map((r) => r.answered);
      // 5 s, 30 s, 2 min, 10 min, 1 h, then every 4 h: seven 503s, the 2xx at about 9 h 13 min, and nothing after it.
      expect(answers, id).toEqual([503, 503, 503, 503, 503, 503, 503, 200]);
      const gaps = mine.slice(1).map((r, i) => r.at - (mine[i]?.at ?? 0));
      const expected = [5_000, 30_000, 120_000, 600_000, HOUR, 4 * HOUR, 4 * HOUR];
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual((expected[i] as number) * 0.9);
        expect(gap).toBeLessThanOrEqual((expected[i] as number) * 1.1 + 200);
      });
      for (const r of mine) expect(verifyReceived(endpoint.secret, r)).toMatchObject({ type: "ping" });
    }
    expect(requests.length).toBe(24);

    const log = await deliveries(t, endpoint.id);
    expect(log.deliveries.map((d) => [d.message_id, d.status, d.attempts, d.last_status_code])).toEqual(
      [...ids].reverse().map((id) => [id, "delivered", 8, 200]),
    );
    const view = await (await call(`/api/v1/webhooks/${endpoint.id}`, { headers: t.auth })).json<EndpointView>();
    expect(view).toMatchObject({ enabled: true, disabled_reason: null });

    // A day later still nothing more arrives.
    vi.setSystemTime(Date.now() + 24 * HOUR);
    await runAccountOutbox(t, Date.now() + 24 * HOUR);
    expect((await received(sink)).length).toBe(24);
  });

  it("shows a failing delivery as pending with its error and next attempt", async () => {
    restore = offClock();
    const t = await newTenant();
    const sink = newSink();
    await configureSink(sink, { status: 500 });
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    const id = await sendTest(t, endpoint.id);
    const stub = accountStub(t);
    await runDurableObjectAlarm(stub);
    await stub.webhookOutbox({ settle: true });
    vi.setSystemTime(Date.now() + 1_000);
    await runDurableObjectAlarm(stub);
    await stub.webhookOutbox({ settle: true });
    const [row] = (await deliveries(t, endpoint.id)).deliveries;
    expect(row).toMatchObject({ message_id: id, status: "pending", attempts: 1, last_status_code: 500, last_error: "HTTP 500" });
    const wait = Date.parse(row?.next_attempt_at ?? "") - Date.now();
    expect(wait).toBeGreaterThan(2_000);
    expect(wait).toBeLessThan(6_000);
  });

  it("disables an endpoint that has failed every delivery for 3 days, with a reason; PATCH re-enables it", async () => {
    restore = offClock();
    const start = Date.now();
    const t = await newTenant();
    const sink = newSink("down");
    await configureSink(sink, { status: 502 });
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    const id = await sendTest(t, endpoint.id);
    await runAccountOutbox(t, start + 5 * 24 * HOUR);

    const view = await (await call(`/api/v1/webhooks/${endpoint.id}`, { headers: t.auth })).json<EndpointView>();
    expect(view.enabled).toBe(false);
    expect(view.disabled_reason).toMatch(/every delivery failed for 3 days\. The last error was: HTTP 502\. Fix the receiver/);
    const requests = await received(sink);
    const last = requests.at(-1)?.at ?? 0;
    expect(last - start).toBeGreaterThanOrEqual(3 * 24 * HOUR);
    expect(last - start).toBeLessThan(3 * 24 * HOUR + 5 * HOUR);
    const [row] = (await deliveries(t, endpoint.id)).deliveries;
    expect(row).toMatchObject({ message_id: id, status: "failed", next_attempt_at: null });
    expect(row?.last_error).toMatch(/endpoint was disabled/);
    expect(row?.attempts).toBe(requests.length);

    const test = await call(`/api/v1/webhooks/${endpoint.id}/test`, { method: "POST", headers: t.auth });
    expect(test.status).toBe(409);
    expect(await test.text()).toMatch(/is disabled .*PATCH it with "enabled": true/);
    const patched = await call(`/api/v1/webhooks/${endpoint.id}`, jsonInit("PATCH", { enabled: true }, t.auth));
    expect(await patched.json()).toMatchObject({ enabled: true, disabled_reason: null });
    await configureSink(sink, { status: 200 });
    const again = await sendTest(t, endpoint.id);
    await runAccountOutbox(t, Date.now() + HOUR);
    expect((await received(sink)).at(-1)).toMatchObject({ answered: 200, headers: { "webhook-id": again } });
  });

  it("does not follow a redirect: a 302 is a failure and its Location is never requested", async () => {
    restore = offClock();
    const t = await newTenant();
    const sink = newSink("moved");
    const target = newSink("target");
    await configureSink(sink, { status: 302, location: sinkUrl(target) });
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    await sendTest(t, endpoint.id);
    await runAccountOutbox(t, Date.now() + 10 * 60_000);
    expect((await received(sink)).map((r) => r.answered)).toEqual([302, 302, 302, 302]);
    expect(await received(target)).toEqual([]);
    const [row] = (await deliveries(t, endpoint.id)).deliveries;
    expect(row).toMatchObject({ status: "pending", attempts: 4, last_status_code: 302 });
    expect(row?.last_error).toContain("not followed");
  });

  it("loses nothing when the object is evicted between the enqueue and the delivery", async () => {
    restore = offClock();
    const t = await newTenant();
    const sink = newSink("crash");
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    const id = await sendTest(t, endpoint.id);
    await evictDurableObject(accountStub(t));
    await runAccountOutbox(t, Date.now() + HOUR);
    const requests = await received(sink);
    expect(requests.map((r) => r.headers["webhook-id"])).toEqual([id]);
    verifyReceived(endpoint.secret, requests[0] as NonNullable<(typeof requests)[0]>);
  });

  it("sends again after a crash mid-request, once the lease runs out", async () => {
    restore = offClock();
    const t = await newTenant();
    const sink = newSink("midway");
    const endpoint = await createEndpoint(t, { url: sinkUrl(sink) });
    const id = await sendTest(t, endpoint.id);
    const stub = accountStub(t);
    // Start the request, then tear the object down before its result is written.
    await runDurableObjectAlarm(stub);
    await evictDurableObject(stub);
    await runAccountOutbox(t, Date.now() + HOUR);
    const requests = await received(sink);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([id]));
    expect((await deliveries(t, endpoint.id)).deliveries[0]).toMatchObject({ message_id: id, status: "delivered" });
    expect(await stub.webhookOutbox({ settle: true })).toMatchObject({ messages: 0, deliveries: 0, alarm: null });
  });

  it("checks the URL again at send time: an endpoint saved under a looser policy gets nothing", async () => {
    restore = offClock();
    const t = await newTenant();
    const endpoint = await createEndpoint(t, { url: sinkUrl(newSink()) });
    // As if saved by a deployment whose policy allowed it: the row now points at a private address.
    await env.DB.prepare("UPDATE webhook_endpoints SET url = 'https://10.1.2.3/hook' WHERE id = ?").bind(endpoint.id).run();
    await sendTest(t, endpoint.id);
    await runAccountOutbox(t, Date.now() + 60_000);
    const [row] = (await deliveries(t, endpoint.id)).deliveries;
    expect(row).toMatchObject({ status: "pending", last_status_code: null });
    expect(row?.last_error).toBe("url points at 10.1.2.3, a private network address; webhooks are delivered only to public addresses.");
    expect(row?.attempts).toBeGreaterThanOrEqual(2);
  });
});

/** A fresh outbox store in an account object's own SQLite, for tests of the store alone. */
async function withOutboxStore(test: (store: OutboxStore, sql: SqlStorage) => void) {
  const stub = env.ACCOUNTS.get(env.ACCOUNTS.idFromName(`outbox-store-${crypto.randomUUID()}`));
  await runInDurableObject(stub, (_instance, state) => {
    const store = new OutboxStore(state.storage.sql);
    store.createSchema();
    test(store, state.storage.sql);
  });
}

describe("the outbox's lease", () => {
  it("keeps every delivery of one lease from being leased again until the lease runs out, and no others", async () => {
    await withOutboxStore((store) => {
      const t0 = 1_000_000;
      const leaseMs = 30_000;
      for (let i = 0; i < 5; i++) store.insertMessage(`msg_${i}`, "ping", "{}", t0, ["ep_a", "ep_b"]);
      const key = (d: { message_id: string; endpoint_id: string }) => `${d.message_id}/${d.endpoint_id}`;
      const first = store.leaseDue(t0, 6, leaseMs).map(key);
      expect(first).toHaveLength(6);
      // The four left out are still due; the six leased are not, even one millisecond before their lease ends.
      const rest = store.leaseDue(t0 + leaseMs - 1, 10, leaseMs).map(key);
      expect(rest).toHaveLength(4);
      expect(rest.filter((k) => first.includes(k))).toEqual([]);
      expect(store.leaseDue(t0 + leaseMs - 1, 10, leaseMs)).toEqual([]);
      // Once it runs out, exactly the first lease's deliveries are due again.
      const again = store.leaseDue(t0 + leaseMs, 10, leaseMs).map(key);
      expect(again.sort()).toEqual([...first].sort());
    });
  });
});

describe("the outbox's record of a pass", () => {
  it("writes every answered attempt of a pass at once: delivered, failed with its retry, and one already final left alone", async () => {
    await withOutboxStore((store, sql) => {
      const t0 = 1_000_000;
      for (let i = 0; i < 3; i++) store.insertMessage(`msg_${i}`, "ping", "{}", t0, ["ep_a"]);
      const leased = store.leaseDue(t0, 10, 30_000);
      const leasedOf = (id: string) => {
        const delivery = leased.find((d) => d.message_id === id);
        if (!delivery) throw new Error(`${id} was not leased`);
        return delivery;
      };
      const [first, second, third] = ["msg_0", "msg_1", "msg_2"].map(leasedOf) as [LeasedDelivery, LeasedDelivery, LeasedDelivery];
      // The third was disabled meanwhile: its delivery is final, and a late answer must not reopen it.
      store.failPendingOf("ep_a", "disabled", t0 + 5);
      const rows = () =>
        Object.fromEntries(
          sql
            .exec<Record<string, SqlStorageValue>>(
              "SELECT message_id, status, attempts, due_at, next_attempt_at, last_status_code, last_error FROM outbox_deliveries ORDER BY message_id",
            )
            .toArray()
            .map((r) => [r.message_id as string, r]),
        );
      const before = rows();
      expect(Object.values(before).map((r) => r.status)).toEqual(["failed", "failed", "failed"]);
      // Re-open the first two as a real pass would see them (only the third was final).
      sql.exec("UPDATE outbox_deliveries SET status = 'pending' WHERE message_id IN ('msg_0', 'msg_1')");
      store.recordAttempts([
        { delivery: first, outcome: { ok: true, statusCode: 204 }, nextAttemptAt: null, at: t0 + 10 },
        { delivery: second, outcome: { ok: false, statusCode: 503, error: "HTTP 503" }, nextAttemptAt: t0 + 5_010, at: t0 + 11 },
        { delivery: third, outcome: { ok: true, statusCode: 200 }, nextAttemptAt: null, at: t0 + 12 },
      ]);
      const after = rows();
      expect(after.msg_0).toMatchObject({ status: "delivered", attempts: 1, due_at: null, next_attempt_at: null, last_status_code: 204, last_error: null });
      expect(after.msg_1).toMatchObject({
        status: "pending",
        attempts: 1,
        due_at: t0 + 5_010,
        next_attempt_at: t0 + 5_010,
        last_status_code: 503,
        last_error: "HTTP 503",
      });
      expect(after.msg_2).toEqual(before.msg_2);
      // The endpoint's health is as its last counted answer left it: failing since the 503.
      expect(store.dirtyHealth()).toEqual([expect.objectContaining({ endpoint_id: "ep_a", failing_since: t0 + 11, last_error: "HTTP 503" })]);
    });
  });
});
