import { describe, expect, it } from "vitest";
import { call, campaignForm, countRows, createCampaign, csvOf, json, jsonInit, newTenant, postCampaign, type Tenant } from "./helpers";

/** What the account holds, to show a refused request wrote nothing. */
const footprint = async (t: Tenant) => ({
  campaigns: await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId),
  contacts: await countRows("SELECT count(*) AS n FROM contacts WHERE account_id = ?", t.accountId),
  agents: await countRows("SELECT count(*) AS n FROM agents WHERE account_id = ?", t.accountId),
});

const FAR_FUTURE = "9999-12-31T23:59:59Z";
const BOUND_SENTENCE = "scheduled_at must be before 2100-01-01T00:00:00Z";

describe("scheduled_at beyond what a timer can hold", () => {
  it("is a 400 naming the field at create (form and JSON), clone and preflight, and writes nothing", async () => {
    const t = await newTenant();
    const source = await createCampaign(t);
    const before = await footprint(t);

    const form = await postCampaign(t, csvOf(2), { scheduled_at: FAR_FUTURE });
    expect(form.status).toBe(400);
    expect(await form.text()).toContain(BOUND_SENTENCE);

    const body = { name: "Far", agent_id: t.agentId, phone_number_id: t.numberId, scheduled_at: FAR_FUTURE, contacts: [{ phone_number: "+14155550100" }] };
    const viaJson = await call("/api/v1/campaigns", jsonInit("POST", body, t.auth));
    expect(viaJson.status).toBe(400);
    expect(await viaJson.text()).toContain(BOUND_SENTENCE);

    const clone = await call(`/api/v1/campaigns/${source.id}/clone`, jsonInit("POST", { scheduled_at: "2190-01-01T00:00:00Z" }, t.auth));
    expect(clone.status).toBe(400);
    expect(await clone.text()).toContain(BOUND_SENTENCE);

    const preflight = await json<{ ok: boolean; errors: { row: number | null; reason: string }[] }>(
      await call("/api/v1/campaigns/preflight", { method: "POST", headers: t.auth, body: campaignForm(t, csvOf(2), { scheduled_at: FAR_FUTURE }) }),
    );
    expect(preflight.ok).toBe(false);
    expect(preflight.errors).toContainEqual(expect.objectContaining({ row: null, reason: expect.stringContaining(BOUND_SENTENCE) }));
    expect(await footprint(t)).toEqual(before);
  });

  it("still takes a time just inside the bound", async () => {
    const t = await newTenant();
    const created = await postCampaign(t, csvOf(1), { scheduled_at: "2099-12-31T23:59:59Z" });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ status: "scheduled", scheduled_at: "2099-12-31T23:59:59.000Z" });
  });
});

describe("GET /campaigns paging", () => {
  it.each([
    ["page=abc", /page must be a whole number/],
    ["page=-1", /page must be from 0 to/],
    ["page=0&limit=5", /Use either page, or limit and offset, not both/],
    ["page=1&offset=20", /Use either page, or limit and offset, not both/],
    ["limit=abc", /limit must be a whole number/],
  ])("refuses %s with a 400, as the contacts list does", async (query, sentence) => {
    const t = await newTenant();
    const res = await call(`/api/v1/campaigns?${query}`, { headers: t.auth });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(sentence);
  });

  it("pages by page in pages of 20", async () => {
    const t = await newTenant();
    for (let i = 0; i < 3; i++) await createCampaign(t);
    const first = await json<{ campaigns: unknown[]; limit: number; offset: number; total: number }>(
      await call("/api/v1/campaigns?page=0", { headers: t.auth }),
    );
    expect(first).toMatchObject({ limit: 20, offset: 0, total: 3 });
    expect(first.campaigns).toHaveLength(3);
    const second = await json<{ campaigns: unknown[]; offset: number }>(await call("/api/v1/campaigns?page=1", { headers: t.auth }));
    expect(second).toMatchObject({ offset: 20, campaigns: [] });
  });
});

describe("agent names", () => {
  it.each([
    ["a 300-character name", "x".repeat(300), "name: must be at most 200 characters; it has 300"],
    ["an object", { first: "A" }, "name: must be a string"],
    ["a number", 42, "name: must be a string"],
    ["an empty name", "  ", "name: must not be empty"],
    ["no name", undefined, "name: is required"],
  ])("refuses %s at create and update, saying what is wrong", async (_what, name, sentence) => {
    const t = await newTenant();
    const before = await footprint(t);
    const created = await call("/api/v1/agents", jsonInit("POST", { name, status: "draft" }, t.auth));
    expect(created.status).toBe(400);
    expect(await created.text()).toContain(sentence);
    expect(await footprint(t)).toEqual(before);
    if (name === undefined) return;
    const patched = await call(`/api/v1/agents/${t.agentId}`, jsonInit("PATCH", { name }, t.auth));
    expect(patched.status).toBe(400);
    expect(await patched.text()).toContain(sentence);
    const agent = await json<{ name: string }>(await call(`/api/v1/agents/${t.agentId}`, { headers: t.auth }));
    expect(agent.name).toBe("Agent");
  });
});

describe("X-Content-Type-Options: nosniff", () => {
  it("is on every answer: success, error, unknown route, carrier callback, the OpenAPI document", async () => {
    const t = await newTenant();
    const answers = await Promise.all([
      call("/api/v1/campaigns", { headers: t.auth }),
      call("/api/v1/campaigns/cmp_missing", { headers: t.auth }),
      call("/api/v1/campaigns"),
      call("/api/v1/no-such-route", { headers: t.auth }),
      call("/v1/campaigns", { headers: t.auth }),
      call("/webhooks/twilio/cmp_missing/att_missing", { method: "POST", body: new URLSearchParams({ CallSid: "CA1" }) }),
      call("/openapi.json"),
    ]);
    for (const res of answers) {
      await res.arrayBuffer();
      expect(res.headers.get("X-Content-Type-Options"), `${res.url} ${res.status}`).toBe("nosniff");
    }
    expect(answers.map((r) => r.status)).toEqual([200, 404, 401, 404, 200, 200, 200]);
  });
});

describe("errors that repeat what was sent", () => {
  const huge = "z".repeat(10_000);
  it.each([
    ["a 10 KB campaign id", `/api/v1/campaigns/cmp_${huge}`, 404],
    ["a 10 KB path", `/api/v1/${huge}`, 404],
    ["a 10 KB status filter", `/api/v1/campaigns?status=${huge}`, 400],
    ["a 10 KB limit", `/api/v1/campaigns?limit=${huge}`, 400],
    ["a 10 KB DNC number", `/api/v1/dnc/${huge}`, 400],
  ])("cut %s to a short prefix", async (_what, path, status) => {
    const t = await newTenant();
    const res = await call(path, { headers: { ...t.auth, Accept: "application/json" } });
    expect(res.status).toBe(status);
    const { error } = await json<{ error: { message: string } }>(res);
    expect(error.message.length, error.message).toBeLessThan(400);
    expect(error.message).toContain("zzz…");
  });

  it("cut a 10 KB form field at create", async () => {
    const t = await newTenant();
    for (const field of ["scheduled_at", "default_country", "calling_timezone", "agent_id"]) {
      const res = await postCampaign(t, csvOf(1), { [field]: huge });
      expect(res.status, field).toBe(400);
      const text = await res.text();
      expect(text.length, `${field}: ${text.slice(0, 200)}`).toBeLessThan(400);
    }
  });
});

describe("carrier callbacks for calls nobody knows", () => {
  it("answer an unknown campaign and an unknown attempt of a real campaign alike", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t);
    const post = (path: string) => call(path, { method: "POST", body: new URLSearchParams({ CallSid: "CA1", CallStatus: "completed" }) });
    const unknownCampaign = await post("/webhooks/twilio/cmp_01nosuchcampaign0000000000/att_1");
    const unknownAttempt = await post(`/webhooks/twilio/${id}/att_1`);
    const answers = [
      { status: unknownCampaign.status, body: await unknownCampaign.text(), type: unknownCampaign.headers.get("Content-Type") },
      { status: unknownAttempt.status, body: await unknownAttempt.text(), type: unknownAttempt.headers.get("Content-Type") },
    ];
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]).toMatchObject({ status: 200, body: "unknown attempt; ignored" });
  });
});
