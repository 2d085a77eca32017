import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decideTransition, type LifecycleAction } from "../src/campaign-object/lifecycle";
import type { CampaignStatus } from "../src/db/schema";
import { ADMIN, call, countRows, createCampaign, csvOf, json, jsonInit, lifecycle, newTenant } from "./helpers";

describe("decideTransition", () => {
  const table: [CampaignStatus, LifecycleAction, CampaignStatus | "409"][] = [
    ["draft", "start", "running"],
    ["scheduled", "start", "running"],
    ["paused", "start", "running"],
    ["running", "start", "409"],
    ["completed", "start", "409"],
    ["failed", "start", "409"],
    ["running", "pause", "paused"],
    ["draft", "pause", "409"],
    ["paused", "pause", "409"],
    ["paused", "resume", "running"],
    ["running", "resume", "409"],
    ["draft", "resume", "409"],
    ["draft", "stop", "completed"],
    ["scheduled", "stop", "completed"],
    ["running", "stop", "completed"],
    ["paused", "stop", "completed"],
    ["completed", "stop", "completed"],
    ["failed", "stop", "failed"],
    ["running", "delete", "409"],
    ["paused", "delete", "paused"],
  ];
  it.each(table)("%s + %s → %s", (from, action, expected) => {
    const result = decideTransition(from, action);
    if (expected === "409") expect(result.ok).toBe(false);
    else expect(result).toMatchObject({ ok: true, to: expected });
  });

  it("reserves budget on start/resume and releases it on pause/stop", () => {
    expect(decideTransition("draft", "start")).toMatchObject({ budget: "reserve" });
    expect(decideTransition("paused", "resume")).toMatchObject({ budget: "reserve" });
    expect(decideTransition("running", "pause")).toMatchObject({ budget: "release" });
    expect(decideTransition("running", "stop")).toMatchObject({ budget: "release" });
    expect(decideTransition("completed", "stop")).toMatchObject({ changed: false });
  });
});

const get = async (t: { auth: Record<string, string> }, id: string) =>
  json<{ status: string; started_at: string | null; completed_at: string | null; stats: Record<string, number> }>(
    await call(`/api/v1/campaigns/${id}`, { headers: t.auth }),
  );

describe("lifecycle routes", () => {
  it("runs draft → running → paused → running → completed, with timestamps", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t);
    const started = await lifecycle(t, id, "start");
    expect(started.status).toBe(200);
    const running = await json<{ status: string; started_at: string }>(started);
    expect(running.status).toBe("running");
    expect(running.started_at).not.toBeNull();
    expect((await json(await lifecycle(t, id, "pause"))).status).toBe("paused");
    const resumed = await json<{ status: string; started_at: string }>(await lifecycle(t, id, "resume"));
    expect(resumed).toMatchObject({ status: "running", started_at: running.started_at });
    const stopped = await json<{ status: string; completed_at: string }>(await lifecycle(t, id, "stop"));
    expect(stopped.status).toBe("completed");
    expect(stopped.completed_at).not.toBeNull();
  });

  it("answers 409 to actions the state does not allow, 404 to unknown ids", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t);
    for (const action of ["pause", "resume"]) {
      const res = await lifecycle(t, id, action);
      expect(res.status, action).toBe(409);
      expect(await res.text()).toContain("draft");
    }
    await lifecycle(t, id, "start");
    expect((await lifecycle(t, id, "start")).status).toBe(409);
    await lifecycle(t, id, "stop");
    expect((await lifecycle(t, id, "start")).status).toBe(409);
    expect((await lifecycle(t, id, "resume")).status).toBe(409);
    for (const action of ["start", "pause", "resume", "stop"]) {
      const res = await lifecycle(t, "cmp_doesnotexist", action);
      expect(res.status).toBe(404);
      await res.body?.cancel();
    }
  });

  it("stop twice is 200 both times and cancels every pending contact", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(4));
    await lifecycle(t, id, "start");
    const first = await lifecycle(t, id, "stop");
    expect(first.status).toBe(200);
    const firstBody = await json<{ completed_at: string; stats: Record<string, number> }>(first);
    expect(firstBody.stats).toMatchObject({ total: 4, pending: 0, cancelled: 4 });
    const second = await lifecycle(t, id, "stop");
    expect(second.status).toBe(200);
    expect(await json(second)).toMatchObject({ status: "completed", completed_at: firstBody.completed_at, stats: firstBody.stats });
    expect(await countRows("SELECT count(*) AS n FROM contacts WHERE campaign_id = ? AND status = 'cancelled'", id)).toBe(4);
  });

  it("stops a draft or scheduled campaign too", async () => {
    const t = await newTenant();
    const scheduled = await createCampaign(t, csvOf(2), { scheduled_at: new Date(Date.now() + 60_000).toISOString() });
    expect((await json(await lifecycle(t, scheduled.id, "stop"))).status).toBe("completed");
  });

  it("deletes with its contacts (204), refuses while running (409)", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(5));
    await lifecycle(t, id, "start");
    const refused = await call(`/api/v1/campaigns/${id}`, { method: "DELETE", headers: t.auth });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("running");
    expect(await countRows("SELECT count(*) AS n FROM contacts WHERE campaign_id = ?", id)).toBe(5);
    await lifecycle(t, id, "pause");
    expect((await call(`/api/v1/campaigns/${id}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
    expect((await call(`/api/v1/campaigns/${id}`, { headers: t.auth })).status).toBe(404);
    expect(await countRows("SELECT count(*) AS n FROM contacts WHERE campaign_id = ?", id)).toBe(0);
    expect((await call(`/api/v1/campaigns/${id}`, { method: "DELETE", headers: t.auth })).status).toBe(404);
    expect((await lifecycle(t, id, "start")).status).toBe(404);
  });
});

describe("readiness", () => {
  it("starts only with an active agent on an outbound-enabled number (409 otherwise)", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t);
    await call(`/api/v1/agents/${t.agentId}`, jsonInit("PATCH", { status: "paused" }, t.auth));
    const paused = await lifecycle(t, id, "start");
    expect(paused.status).toBe(409);
    expect(await paused.text()).toContain("only an active agent");
    await call(`/api/v1/agents/${t.agentId}`, jsonInit("PATCH", { status: "active" }, t.auth));
    await call(`/api/v1/telephony/numbers/${t.numberId}`, jsonInit("PATCH", { outbound_enabled: false }, t.auth));
    const disabled = await lifecycle(t, id, "start");
    expect(disabled.status).toBe(409);
    expect(await disabled.text()).toContain("outbound");
    expect((await get(t, id)).status).toBe("draft");
    await call(`/api/v1/telephony/numbers/${t.numberId}`, jsonInit("PATCH", { outbound_enabled: true }, t.auth));
    expect((await lifecycle(t, id, "start")).status).toBe(200);
  });
});

describe("concurrent budget", () => {
  it("two at 5 on a cap of 10 start, a third gets 409 naming them, pausing one lets it start", async () => {
    const t = await newTenant({ concurrent_max: 10 });
    const a = await createCampaign(t, csvOf(1), { name: "Alpha", max_concurrent_calls: "5" });
    const b = await createCampaign(t, csvOf(1), { name: "Beta", max_concurrent_calls: "5" });
    const c = await createCampaign(t, csvOf(1), { name: "Gamma", max_concurrent_calls: "5" });
    expect((await lifecycle(t, a.id, "start")).status).toBe(200);
    expect((await lifecycle(t, b.id, "start")).status).toBe(200);
    const refused = await lifecycle(t, c.id, "start");
    expect(refused.status).toBe(409);
    const message = await refused.text();
    for (const needle of ['"Alpha"', a.id, '"Beta"', b.id, "15", "concurrent_max of 10", "Pause another campaign", "max_concurrent_calls"]) {
      expect(message).toContain(needle);
    }
    expect((await get(t, c.id)).status).toBe("draft");

    await lifecycle(t, a.id, "pause");
    expect((await lifecycle(t, c.id, "start")).status).toBe(200);
    const resume = await lifecycle(t, a.id, "resume");
    expect(resume.status, "resume is budget-checked").toBe(409);
    expect(await resume.text()).toContain('"Gamma"');
    await lifecycle(t, b.id, "stop");
    expect((await lifecycle(t, a.id, "resume")).status).toBe(200);
  });

  it("two starts racing for the last budget: exactly one 200", async () => {
    const t = await newTenant({ concurrent_max: 8 });
    const a = await createCampaign(t, csvOf(1), { max_concurrent_calls: "5" });
    const b = await createCampaign(t, csvOf(1), { max_concurrent_calls: "5" });
    const results = await Promise.all([lifecycle(t, a.id, "start"), lifecycle(t, b.id, "start")]);
    const statuses = results.map((r) => r.status).sort();
    await Promise.all(results.map((r) => r.body?.cancel()));
    expect(statuses).toEqual([200, 409]);
    const running = await json<{ total: number }>(await call("/api/v1/campaigns?status=running", { headers: t.auth }));
    expect(running.total).toBe(1);
  });

  it("many racers on one campaign and others never overshoot the cap", async () => {
    const t = await newTenant({ concurrent_max: 10 });
    const ids = await Promise.all(Array.from({ length: 6 }, () => createCampaign(t, csvOf(1), { max_concurrent_calls: "3" })));
    const results = await Promise.all(ids.flatMap(({ id }) => [lifecycle(t, id, "start"), lifecycle(t, id, "start")]));
    await Promise.all(results.map((r) => r.body?.cancel()));
    const running = await json<{ campaigns: { max_concurrent_calls: number }[] }>(await call("/api/v1/campaigns?status=running", { headers: t.auth }));
    expect(running.campaigns.length).toBe(3);
    expect(running.campaigns.reduce((s, c) => s + c.max_concurrent_calls, 0)).toBeLessThanOrEqual(10);
  });

  it("a cap of 0 blocks every start; raising it lets the campaign start", async () => {
    const t = await newTenant({ concurrent_max: 0 });
    const { id } = await createCampaign(t, csvOf(1), { max_concurrent_calls: "1" });
    const refused = await lifecycle(t, id, "start");
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain("concurrent_max of 0");
    await call(`/admin/v1/accounts/${t.accountId}`, jsonInit("PATCH", { concurrent_max: 1 }, ADMIN));
    expect((await lifecycle(t, id, "start")).status).toBe(200);
  });

  it("stopping and deleting release the budget", async () => {
    const t = await newTenant({ concurrent_max: 5 });
    const a = await createCampaign(t, csvOf(1), { max_concurrent_calls: "5" });
    const b = await createCampaign(t, csvOf(1), { max_concurrent_calls: "5" });
    await lifecycle(t, a.id, "start");
    await lifecycle(t, a.id, "stop");
    expect((await lifecycle(t, b.id, "start")).status).toBe(200);
    await lifecycle(t, b.id, "pause");
    expect((await call(`/api/v1/campaigns/${b.id}`, { method: "DELETE", headers: t.auth })).status).toBe(204);
    const c = await createCampaign(t, csvOf(1), { max_concurrent_calls: "5" });
    expect((await lifecycle(t, c.id, "start")).status).toBe(200);
  });
});

describe("lists", () => {
  it("pages campaigns with the envelope and filters by status", async () => {
    const t = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createCampaign(t, csvOf(1), { name: `C${i}` })).id);
    await lifecycle(t, ids[0] as string, "stop");
    const first = await json<Record<string, unknown> & { campaigns: { id: string }[] }>(await call("/api/v1/campaigns?limit=2", { headers: t.auth }));
    expect(first).toMatchObject({ count: 2, total: 5, limit: 2, offset: 0, has_next: true, has_prev: false, next_offset: 2, prev_offset: null });
    expect(first.campaigns.map((c) => c.id)).toEqual([ids[4], ids[3]]);
    const last = await json<Record<string, unknown>>(await call("/api/v1/campaigns?limit=2&offset=4", { headers: t.auth }));
    expect(last).toMatchObject({ count: 1, has_next: false, has_prev: true, next_offset: null, prev_offset: 2 });
    const completed = await json<{ total: number; campaigns: { id: string }[] }>(await call("/api/v1/campaigns?status=completed", { headers: t.auth }));
    expect(completed.total).toBe(1);
    expect(completed.campaigns[0]?.id).toBe(ids[0]);
    for (const q of ["status=done", "limit=0", "limit=101", "offset=-1", "limit=x"]) {
      const res = await call(`/api/v1/campaigns?${q}`, { headers: t.auth });
      expect(res.status, q).toBe(400);
      await res.body?.cancel();
    }
  });

  it("pages contacts by limit/offset and by page, in CSV order, with status filter", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(250));
    const byOffset = await json<Record<string, unknown> & { contacts: { row: number }[] }>(
      await call(`/api/v1/campaigns/${id}/contacts?limit=100&offset=200`, { headers: t.auth }),
    );
    expect(byOffset).toMatchObject({ count: 50, total: 250, limit: 100, offset: 200, has_next: false, has_prev: true, next_offset: null, prev_offset: 100 });
    expect(byOffset.contacts[0]?.row).toBe(202);
    const byPage = await json<Record<string, unknown> & { contacts: { row: number }[] }>(
      await call(`/api/v1/campaigns/${id}/contacts?page=1`, { headers: t.auth }),
    );
    expect(byPage).toMatchObject({ count: 100, total: 250, limit: 100, offset: 100, has_next: true, has_prev: true, next_offset: 200, prev_offset: 0 });
    expect(byPage.contacts.map((c) => c.row)).toEqual(Array.from({ length: 100 }, (_, i) => 102 + i));

    await env.DB.prepare("UPDATE contacts SET status = 'failed' WHERE campaign_id = ? AND seq % 50 = 0").bind(id).run();
    await env.DB.prepare("UPDATE campaigns SET stat_failed = 5, stat_pending = 245 WHERE id = ?").bind(id).run();
    const failed = await json<{ total: number; contacts: { row: number }[] }>(
      await call(`/api/v1/campaigns/${id}/contacts?status=failed&limit=2&offset=1`, { headers: t.auth }),
    );
    expect(failed.total).toBe(5);
    expect(failed.contacts.map((c) => c.row)).toEqual([52, 102]);

    for (const q of ["limit=1001", "page=-1", "page=1&limit=5", "status=bogus"]) {
      const res = await call(`/api/v1/campaigns/${id}/contacts?${q}`, { headers: t.auth });
      expect(res.status, q).toBe(400);
      await res.body?.cancel();
    }
  });
});
