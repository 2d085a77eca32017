import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError, Edgedial } from "../client/index";
import { BASE, newTenant } from "./helpers";
import { useSimulatedTime } from "./sim";
import { newSink, received, runAccountOutbox, sinkUrl, verifyReceived } from "./webhook-helpers";

let restore: () => void = () => undefined;
afterEach(() => restore());

describe("Edgedial client: webhooks", () => {
  it("creates, lists, reads, updates, tests and removes endpoints, and reads their deliveries", async () => {
    restore = useSimulatedTime(Date.now() + 3_600_000);
    const t = await newTenant();
    const edgedial = new Edgedial({ apiKey: t.key, baseUrl: BASE, fetch: (request) => exports.default.fetch(request) });
    const sink = newSink("client");
    const endpoint = await edgedial.webhooks.create({ url: sinkUrl(sink), events: ["contact.completed", "ping"], description: "CRM" });
    expect(endpoint).toMatchObject({ events: ["contact.completed", "ping"], description: "CRM", enabled: true, secret: expect.stringMatching(/^whsec_/) });
    expect((await edgedial.webhooks.get(endpoint.id)).url).toBe(sinkUrl(sink));
    const list = await edgedial.webhooks.list({ limit: 10 });
    expect(list).toMatchObject({ total: 1, count: 1 });
    expect(list.raw.webhooks).toBe(list.items);
    expect((await edgedial.webhooks.update(endpoint.id, { description: null })).description).toBeNull();

    const { message_id } = await edgedial.webhooks.test(endpoint.id);
    await runAccountOutbox(t, Date.now() + 60_000);
    const [request] = await received(sink);
    expect(request?.headers["webhook-id"]).toBe(message_id);
    expect(verifyReceived(endpoint.secret, request as NonNullable<typeof request>)).toMatchObject({ type: "ping" });
    const log = await edgedial.webhooks.deliveries(endpoint.id, { status: "delivered" });
    expect(log.items).toEqual([expect.objectContaining({ message_id, type: "ping", status: "delivered", attempts: 1, last_status_code: 200 })]);

    const refused = await edgedial.webhooks.create({ url: "http://hooks.example.com/" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 400, code: "bad_request", message: expect.stringContaining("https") });
    await edgedial.webhooks.remove(endpoint.id);
    await expect(edgedial.webhooks.get(endpoint.id)).rejects.toMatchObject({ status: 404, code: "not_found" });
  });
});
