import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createCampaign, json, jsonInit, newTenant } from "./helpers";

describe("agents", () => {
  it("creates as draft by default, lists, patches and deletes", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/agents", jsonInit("POST", { name: "Sales" }, t.auth));
    expect(created.status).toBe(201);
    const agent = await json<{ id: string; status: string; stream_url: null }>(created);
    expect(agent).toMatchObject({ status: "draft", stream_url: null });
    expect(agent.id).toMatch(/^agt_[0-9a-z]{26}$/);

    const patched = await call(`/api/v1/agents/${agent.id}`, jsonInit("PATCH", { status: "active", stream_url: "wss://x.test/s" }, t.auth));
    expect(await json(patched)).toMatchObject({ status: "active", stream_url: "wss://x.test/s" });

    const list = await json<{ agents: unknown[]; total: number }>(await call("/api/v1/agents?status=active", { headers: t.auth }));
    expect(list.total).toBe(2);
    expect((await call(`/api/v1/agents/${agent.id}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
    expect((await call(`/api/v1/agents/${agent.id}`, { headers: t.auth })).status).toBe(404);
  });

  it.each([
    [{}, "name"],
    [{ name: "A", status: "live" }, "status"],
    [{ name: "A", stream_url: "http://insecure.test" }, "stream_url"],
  ])("rejects %j with 400 naming %s", async (body, field) => {
    const t = await newTenant();
    const res = await call("/api/v1/agents", jsonInit("POST", body, t.auth));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(field);
  });

  it("refuses deleting an agent a live campaign uses (409)", async () => {
    const t = await newTenant();
    await createCampaign(t);
    expect((await call(`/api/v1/agents/${t.agentId}`, { method: "DELETE", headers: t.auth })).status).toBe(409);
  });

  it("rejects a non-JSON body with 415", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/agents", { method: "POST", headers: { ...t.auth, "Content-Type": "text/plain" }, body: "name=x" });
    expect(res.status).toBe(415);
    await res.body?.cancel();
  });
});

describe("telephony providers", () => {
  it("encrypts credentials at rest and never returns them", async () => {
    const t = await newTenant();
    const res = await call(
      "/api/v1/telephony/providers",
      jsonInit("POST", { provider: "twilio", name: "Main", credentials: { account_sid: "AC123", auth_token: "very-secret-token" } }, t.auth),
    );
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain("very-secret-token");
    expect(text).not.toContain("credentials");
    const row = await env.DB.prepare("SELECT credentials FROM telephony_providers WHERE id = ?").bind(JSON.parse(text).id).first<{ credentials: string }>();
    expect(row?.credentials).not.toContain("very-secret-token");
    expect(row?.credentials.length).toBeGreaterThan(40);
    const list = await call("/api/v1/telephony/providers", { headers: t.auth });
    expect(await list.text()).not.toContain("very-secret-token");
  });

  it.each([
    [{ provider: "twilio", credentials: { account_sid: "AC1" } }, "auth_token"],
    [{ provider: "plivo", credentials: { auth_token: "x" } }, "auth_id"],
    [{ provider: "vobiz", credentials: {} }, "auth_id and auth_token"],
    [{ provider: "telnyx", credentials: {} }, "provider"],
  ])("rejects %j with 400 naming %s", async (body, needle) => {
    const t = await newTenant();
    const res = await call("/api/v1/telephony/providers", jsonInit("POST", body, t.auth));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(needle);
  });

  it("refuses deleting a provider that numbers use (409), then allows it", async () => {
    const t = await newTenant();
    expect((await call(`/api/v1/telephony/providers/${t.providerId}`, { method: "DELETE", headers: t.auth })).status).toBe(409);
    const spare = await json<{ id: string }>(await call("/api/v1/telephony/providers", jsonInit("POST", { provider: "simulator" }, t.auth)));
    expect((await call(`/api/v1/telephony/providers/${spare.id}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
  });
});

describe("phone numbers", () => {
  it("creates, patches flags and refuses duplicates and bad numbers (400)", async () => {
    const t = await newTenant();
    const body = { e164: "+442079460958", credentials_id: t.providerId, provider: "simulator" };
    const created = await call("/api/v1/telephony/numbers", jsonInit("POST", body, t.auth));
    expect(created.status).toBe(201);
    const number = await json<{ id: string }>(created);
    expect(number).toMatchObject({ inbound_enabled: true, outbound_enabled: true, agent_id: null });
    expect((await call("/api/v1/telephony/numbers", jsonInit("POST", body, t.auth))).status).toBe(400);
    for (const e164 of ["4420794", "+0123456789", "+1234", "+1234567890123456"]) {
      const res = await call("/api/v1/telephony/numbers", jsonInit("POST", { ...body, e164 }, t.auth));
      expect(res.status, e164).toBe(400);
      await res.body?.cancel();
    }
    const patched = await call(`/api/v1/telephony/numbers/${number.id}`, jsonInit("PATCH", { outbound_enabled: false, agent_id: t.agentId }, t.auth));
    expect(await json(patched)).toMatchObject({ outbound_enabled: false, agent_id: t.agentId });
  });

  it("lists numbers, refuses deleting one a live campaign uses (409), deletes it once the campaign is done", async () => {
    const t = await newTenant();
    const list = await json<{ numbers: { id: string; e164: string }[]; total: number }>(await call("/api/v1/telephony/numbers", { headers: t.auth }));
    expect(list.total).toBe(1);
    expect(list.numbers[0]).toMatchObject({ id: t.numberId, e164: "+15550001000" });
    const campaign = await createCampaign(t);
    const refused = await call(`/api/v1/telephony/numbers/${t.numberId}`, { method: "DELETE", headers: t.auth });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain(campaign.id);
    await call(`/api/v1/campaigns/${campaign.id}/stop`, { method: "POST", headers: t.auth });
    expect((await call(`/api/v1/telephony/numbers/${t.numberId}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
    expect((await call(`/api/v1/telephony/numbers/${t.numberId}`, { headers: t.auth })).status).toBe(404);
  });

  it("refuses credentials of another provider kind or another account (400)", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const mismatch = await call(
      "/api/v1/telephony/numbers",
      jsonInit("POST", { e164: "+15550002000", credentials_id: t.providerId, provider: "twilio" }, t.auth),
    );
    expect(mismatch.status).toBe(400);
    const foreign = await call(
      "/api/v1/telephony/numbers",
      jsonInit("POST", { e164: "+15550002000", credentials_id: other.providerId, provider: "simulator" }, t.auth),
    );
    expect(foreign.status).toBe(400);
    await Promise.all([mismatch.body?.cancel(), foreign.body?.cancel()]);
  });
});

describe("tenancy", () => {
  it("answers 404 for every resource of another account, and changes nothing", async () => {
    const owner = await newTenant();
    const intruder = await newTenant();
    const campaign = await createCampaign(owner);
    const paths: [string, string][] = [
      ["GET", `/api/v1/agents/${owner.agentId}`],
      ["DELETE", `/api/v1/agents/${owner.agentId}`],
      ["GET", `/api/v1/telephony/providers/${owner.providerId}`],
      ["DELETE", `/api/v1/telephony/providers/${owner.providerId}`],
      ["DELETE", `/api/v1/telephony/numbers/${owner.numberId}`],
      ["GET", `/api/v1/campaigns/${campaign.id}`],
      ["GET", `/api/v1/campaigns/${campaign.id}/contacts`],
      // Each way of reading a page fetches the campaign and the page together: none may answer with the page.
      ["GET", `/api/v1/campaigns/${campaign.id}/contacts?status=pending`],
      ["GET", `/api/v1/campaigns/${campaign.id}/contacts?status=cancelled`],
      ["GET", `/api/v1/campaigns/${campaign.id}/contacts?disposition=interested`],
      ["GET", `/api/v1/campaigns/${campaign.id}/events`],
      ["POST", `/api/v1/campaigns/${campaign.id}/start`],
      ["POST", `/api/v1/campaigns/${campaign.id}/stop`],
      ["DELETE", `/api/v1/campaigns/${campaign.id}`],
    ];
    for (const [method, path] of paths) {
      const res = await call(path, { method, headers: intruder.auth });
      expect(res.status, `${method} ${path}`).toBe(404);
      await res.body?.cancel();
    }
    const patch = await call(`/api/v1/agents/${owner.agentId}`, jsonInit("PATCH", { name: "owned" }, intruder.auth));
    expect(patch.status).toBe(404);
    const list = await json<{ campaigns: unknown[] }>(await call("/api/v1/campaigns", { headers: intruder.auth }));
    expect(list.campaigns).toEqual([]);
    const mine = await json<{ status: string; name: string }>(await call(`/api/v1/campaigns/${campaign.id}`, { headers: owner.auth }));
    expect(mine.status).toBe("draft");
    expect((await json<{ name: string }>(await call(`/api/v1/agents/${owner.agentId}`, { headers: owner.auth }))).name).toBe("Agent");
  });
});
