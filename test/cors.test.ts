import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../src/http/errors";
import { eventsTokenTtlMs, mintEventsToken } from "../src/http/events-token";
import { ADMIN, call, createCampaign, csvOf, json, jsonInit, lifecycle, newTenant, signSession, type Tenant } from "./helpers";
import { useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => {
  restore();
  vi.useRealTimers();
});

const MOUNTS = ["/api/v1", "/hub-api/api/v1", "/v1"];
const CORS_HEADERS = ["access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers", "access-control-allow-credentials"];

/** Reads the whole body (every stream here ends at once: its campaign is terminal) and returns the CORS headers. */
async function corsOf(res: Response) {
  await res.text();
  return Object.fromEntries(CORS_HEADERS.map((name) => [name, res.headers.get(name)]).filter(([, v]) => v !== null));
}

async function mint(t: Tenant, id: string, body?: unknown) {
  const res = await call(`/api/v1/campaigns/${id}/events/token`, body === undefined ? { method: "POST", headers: t.auth } : jsonInit("POST", body, t.auth));
  expect(res.status, await res.clone().text()).toBe(201);
  return json<{ campaign_id: string; token: string; expires_at: string }>(res);
}

/** A stopped campaign (so its streams end at once) and a token for it. */
async function finishedCampaign() {
  const t = await newTenant();
  const { id } = await createCampaign(t, csvOf(2));
  await lifecycle(t, id, "stop").then((r) => r.text());
  return { t, id, token: (await mint(t, id)).token };
}

const q = (token: string) => `token=${encodeURIComponent(token)}`;

describe("CORS on token-authenticated events routes", () => {
  it("answers the preflight of both events URLs under every mount, allowing GET, Last-Event-ID and Cache-Control", async () => {
    const { id, token } = await finishedCampaign();
    for (const mount of MOUNTS) {
      for (const path of ["events", "events/ws"]) {
        const res = await call(`${mount}/campaigns/${id}/${path}?${q(token)}`, {
          method: "OPTIONS",
          headers: {
            Origin: "https://crm.example.com",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "last-event-id,cache-control",
          },
        });
        expect(res.status, `${mount} ${path}`).toBe(204);
        const headers = await corsOf(res);
        expect(headers["access-control-allow-origin"]).toBe("*");
        expect(headers["access-control-allow-methods"]).toContain("GET");
        expect(headers["access-control-allow-headers"]?.toLowerCase().split(/\s*,\s*/)).toEqual(expect.arrayContaining(["last-event-id", "cache-control"]));
        expect(headers["access-control-allow-credentials"], "never with credentials").toBeUndefined();
      }
    }
  });

  it("puts Access-Control-Allow-Origin: * on every answer, successes and errors alike", async () => {
    restore = useSimulatedTime();
    const { t, id, token } = await finishedCampaign();
    const other = await createCampaign(t, csvOf(1));
    const gone = await createCampaign(t, csvOf(1));
    const goneToken = (await mint(t, gone.id)).token;
    await call(`/api/v1/campaigns/${gone.id}`, { method: "DELETE", headers: t.auth }).then((r) => r.text());
    const origin = { Origin: "https://crm.example.com" };

    const cases: [string, string, RequestInit, number][] = [
      ["stream", `/api/v1/campaigns/${id}/events?${q(token)}`, { headers: origin }, 200],
      ["stream under /v1", `/v1/campaigns/${id}/events?${q(token)}`, { headers: origin }, 200],
      ["stream replay", `/api/v1/campaigns/${id}/events?${q(token)}`, { headers: { ...origin, "Last-Event-ID": "0" } }, 200],
      ["tampered token", `/api/v1/campaigns/${id}/events?${q(`${token.slice(0, -2)}xx`)}`, { headers: origin }, 401],
      ["empty token", `/api/v1/campaigns/${id}/events?token=`, { headers: origin }, 401],
      ["another campaign", `/api/v1/campaigns/${other.id}/events?${q(token)}`, { headers: origin }, 403],
      ["deleted campaign", `/api/v1/campaigns/${gone.id}/events?${q(goneToken)}`, { headers: origin }, 404],
      ["not a GET", `/api/v1/campaigns/${id}/events?${q(token)}`, { method: "POST", headers: origin }, 403],
      ["WebSocket without Upgrade", `/api/v1/campaigns/${id}/events/ws?${q(token)}`, { headers: origin }, 400],
    ];
    for (const [label, path, init, status] of cases) {
      const res = await call(path, init);
      expect(res.status, label).toBe(status);
      expect(await corsOf(res), label).toEqual({ "access-control-allow-origin": "*" });
    }

    vi.setSystemTime(Date.now() + 5 * 60_000 + 1);
    const expired = await call(`/api/v1/campaigns/${id}/events?${q(token)}`, { headers: origin });
    expect(expired.status).toBe(401);
    expect(expired.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(await expired.text()).toContain("expired");
  });

  it("keeps the WebSocket upgrade working and marks it for CORS too", async () => {
    const { id, token } = await finishedCampaign();
    const res = await call(`/api/v1/campaigns/${id}/events/ws?${q(token)}`, { headers: { Upgrade: "websocket", Origin: "https://crm.example.com" } });
    expect(res.status).toBe(101);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const socket = res.webSocket as WebSocket;
    const types: string[] = [];
    const closed = new Promise<number>((resolve) => socket.addEventListener("close", (e) => resolve(e.code)));
    socket.addEventListener("message", (e) => {
      types.push(JSON.parse(e.data as string).type);
    });
    socket.accept();
    expect(await closed).toBe(1000);
    expect(types).toEqual(["snapshot", "end"]);
  });
});

describe("no CORS where a key or a session authenticates", () => {
  it("sends no CORS header on API-key, JWT and admin routes, their errors, or their OPTIONS", async () => {
    const { t, id, token } = await finishedCampaign();
    await call(`/admin/v1/accounts/${t.accountId}/members`, jsonInit("POST", { subject: "cora" }, ADMIN)).then((r) => r.text());
    const session = { Authorization: `Bearer ${await signSession("cora")}`, "X-Account-ID": t.accountId };
    const origin = { Origin: "https://crm.example.com" };

    const cases: [string, string, RequestInit, number][] = [
      ["key: list", "/api/v1/campaigns", { headers: { ...t.auth, ...origin } }, 200],
      ["key: campaign", `/v1/campaigns/${id}`, { headers: { ...t.auth, ...origin } }, 200],
      ["key: events stream", `/api/v1/campaigns/${id}/events`, { headers: { ...t.auth, ...origin } }, 200],
      ["key and token: the key wins", `/api/v1/campaigns/${id}/events?${q(token)}`, { headers: { ...t.auth, ...origin } }, 200],
      ["key: mint", `/api/v1/campaigns/${id}/events/token`, { method: "POST", headers: { ...t.auth, ...origin } }, 201],
      ["JWT: list", "/api/v1/campaigns", { headers: { ...session, ...origin } }, 200],
      ["JWT: events stream", `/api/v1/campaigns/${id}/events`, { headers: { ...session, ...origin } }, 200],
      ["no credentials", "/api/v1/campaigns", { headers: origin }, 401],
      ["no credentials on events", `/api/v1/campaigns/${id}/events`, { headers: origin }, 401],
      ["bad key", "/api/v1/campaigns", { headers: { Authorization: "Bearer sk_live_nobody_0000000000000000", ...origin } }, 401],
      ["admin", `/admin/v1/accounts/${t.accountId}`, { headers: { ...ADMIN, ...origin } }, 200],
      ["OPTIONS on a key route", "/api/v1/campaigns", { method: "OPTIONS", headers: { ...origin, "Access-Control-Request-Method": "GET" } }, 401],
      [
        "OPTIONS on events without a token",
        `/api/v1/campaigns/${id}/events`,
        { method: "OPTIONS", headers: { ...origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" } },
        401,
      ],
      ["OPTIONS on mint", `/api/v1/campaigns/${id}/events/token?${q(token)}`, { method: "OPTIONS", headers: origin }, 403],
    ];
    for (const [label, path, init, status] of cases) {
      const res = await call(path, init);
      expect(res.status, label).toBe(status);
      expect(await corsOf(res), label).toEqual({});
    }
  });
});

describe("origin-bound events tokens", () => {
  it("lets the bound origin and origin-less servers read, and refuses other origins with a readable 403", async () => {
    const { t, id } = await finishedCampaign();
    const { token } = await mint(t, id, { origin: "https://crm.example.com" });
    const events = (headers: Record<string, string>, path = "events") => call(`/api/v1/campaigns/${id}/${path}?${q(token)}`, { headers });

    const same = await events({ Origin: "https://crm.example.com" });
    expect(same.status).toBe(200);
    expect(same.headers.get("Access-Control-Allow-Origin")).toBe("*");
    const text = await same.text();
    expect(text).toContain("event: end");
    const snapshot = JSON.parse(/^data: (.*)$/m.exec(text)?.[1] ?? "null");
    expect(snapshot, "a page holding only a token can title the campaign").toMatchObject({ campaign_id: id, name: "Test campaign", status: "completed" });

    const server = await events({});
    expect(server.status, "no Origin: not a browser").toBe(200);
    await server.text();

    for (const other of ["https://evil.example.com", "http://crm.example.com", "https://crm.example.com:8443", "null"]) {
      const refused = await events({ Origin: other });
      expect(refused.status, other).toBe(403);
      expect(refused.headers.get("Access-Control-Allow-Origin"), other).toBe("*");
      expect(await refused.text()).toMatch(/minted for another origin/);
    }
    const socket = await events({ Origin: "https://evil.example.com", Upgrade: "websocket" }, "events/ws");
    expect(socket.status).toBe(403);
    await socket.text();
  });

  it("binds only to a bare origin: anything with a path, credentials, default port or another scheme is a 400", async () => {
    const { t, id } = await finishedCampaign();
    for (const origin of ["https://crm.example.com", "http://127.0.0.1:8841", "https://crm.example.com:8443", "http://[::1]:3000"]) {
      const { token, campaign_id } = await mint(t, id, { origin });
      expect(campaign_id).toBe(id);
      const res = await call(`/api/v1/campaigns/${id}/events?${q(token)}`, { headers: { Origin: origin } });
      expect(res.status, origin).toBe(200);
      await res.text();
    }
    const invalid: [unknown, RegExp][] = [
      ["https://crm.example.com/", /did you mean "https:\/\/crm.example.com"/],
      ["https://crm.example.com/app", /scheme, host and port only/],
      ["https://crm.example.com:443", /did you mean "https:\/\/crm.example.com"/],
      ["https://user:pw@crm.example.com", /origin/],
      ["HTTPS://CRM.example.com", /did you mean "https:\/\/crm.example.com"/],
      ["crm.example.com", /origin/],
      ["ftp://crm.example.com", /origin/],
      ["null", /origin/],
      ["", /origin/],
      [42, /origin/],
    ];
    for (const [origin, message] of invalid) {
      const res = await call(`/api/v1/campaigns/${id}/events/token`, jsonInit("POST", { origin }, t.auth));
      expect(res.status, String(origin)).toBe(400);
      expect(await res.text(), String(origin)).toMatch(message);
    }
    const notJson = await call(`/api/v1/campaigns/${id}/events/token`, {
      method: "POST",
      headers: { ...t.auth, "Content-Type": "text/plain" },
      body: "origin",
    });
    expect(notJson.status).toBe(415);
    await notJson.text();
    const emptyJson = await call(`/api/v1/campaigns/${id}/events/token`, {
      method: "POST",
      headers: { ...t.auth, "Content-Type": "application/json" },
      body: "",
    });
    expect(emptyJson.status, "an empty body mints an unbound token").toBe(201);
    await emptyJson.text();
  });
});

describe("events token lifetime", () => {
  it("comes from EVENTS_TOKEN_TTL_SECONDS, 300 s by default, and a bad value names the variable", async () => {
    expect(eventsTokenTtlMs({ ...env, EVENTS_TOKEN_TTL_SECONDS: undefined })).toBe(300_000);
    expect(eventsTokenTtlMs({ ...env, EVENTS_TOKEN_TTL_SECONDS: "6" })).toBe(6_000);
    const now = Date.parse("2030-01-01T00:00:00Z");
    const minted = await mintEventsToken({ ...env, EVENTS_TOKEN_TTL_SECONDS: "6" }, "acct", "cmp_x", { now });
    expect(minted.expires_at).toBe("2030-01-01T00:00:06.000Z");
    for (const bad of ["0", "-5", "1.5", "six", "86401"]) {
      expect(() => eventsTokenTtlMs({ ...env, EVENTS_TOKEN_TTL_SECONDS: bad }), bad).toThrow(ApiError);
      expect(() => eventsTokenTtlMs({ ...env, EVENTS_TOKEN_TTL_SECONDS: bad }), bad).toThrow(/EVENTS_TOKEN_TTL_SECONDS/);
    }
  });
});
