import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { API_MOUNTS } from "../src/http/mounts";
import { BASE, call, createCampaign, newTenant, type Tenant } from "./helpers";

/** The plain reads whose first D1 batch carries the API key's check (src/http/key-check.ts). */
const batchedReads = (campaignId: string) => [
  "/campaigns",
  `/campaigns/${campaignId}`,
  `/campaigns/${campaignId}/contacts`,
  "/agents",
  "/telephony/providers",
  "/telephony/numbers",
  "/webhooks",
];

/** The app over a D1 binding that records its round trips: each batch (with its size), and each statement run on its own. */
function countingApp() {
  const trips: string[] = [];
  const counted = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, name) {
        if (name === "bind") return (...values: unknown[]) => counted(target.bind(...values));
        if (name === "all" || name === "first" || name === "run" || name === "raw")
          return (...args: unknown[]) => {
            trips.push("single");
            return (target[name] as (...a: unknown[]) => unknown).apply(target, args);
          };
        const value = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const unwrapped = new WeakMap<D1PreparedStatement, D1PreparedStatement>();
  const db = new Proxy(env.DB, {
    get(target, name) {
      if (name === "prepare")
        return (query: string) => {
          const real = target.prepare(query);
          const wrapped = counted(real);
          unwrapped.set(wrapped, real);
          return wrapped;
        };
      if (name === "batch")
        return (statements: D1PreparedStatement[]) => {
          trips.push(`batch of ${statements.length}`);
          return target.batch(statements);
        };
      const value = Reflect.get(target, name, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const app = createApp();
  return { trips, fetch: (path: string, headers: Record<string, string>) => app.fetch(new Request(`${BASE}${path}`, { headers }), { ...env, DB: db }) };
}

async function setKey(tenant: Tenant, column: "revoked_at" | "expires_at", at: string) {
  await env.DB.prepare(`UPDATE api_keys SET ${column} = ? WHERE account_id = ?`).bind(at, tenant.accountId).run();
}

describe("an API key checked in a plain read's own D1 batch", () => {
  it("serves each plain read with a usable key in one D1 round trip, the check included", async () => {
    const tenant = await newTenant();
    const { id } = await createCampaign(tenant);
    const app = countingApp();
    const expected: Record<string, string> = {
      // The key, then the page and its count (or, for a campaign, its row; for contacts, the campaign and the page).
      "/campaigns": "batch of 3",
      [`/campaigns/${id}`]: "batch of 2",
      [`/campaigns/${id}/contacts`]: "batch of 3",
    };
    for (const path of batchedReads(id)) {
      app.trips.length = 0;
      const res = await app.fetch(`/api/v1${path}`, tenant.auth);
      expect(res.status, path).toBe(200);
      await res.body?.cancel();
      expect(app.trips, path).toEqual([expected[path] ?? "batch of 3"]);
    }
    // Any other route still looks the key up on its own first.
    app.trips.length = 0;
    const limits = await app.fetch("/api/v1/call-limits", tenant.auth);
    expect(limits.status).toBe(200);
    expect(app.trips[0]).toBe("single");
  });

  it.each([
    ["revoked", (t: Tenant) => setKey(t, "revoked_at", new Date().toISOString())],
    ["expired", (t: Tenant) => setKey(t, "expires_at", new Date(Date.now() - 1_000).toISOString())],
  ])("answers 401 to a key that is %s, on every plain read and every mount, with nothing of the account", async (_, spoil) => {
    const tenant = await newTenant();
    const { id } = await createCampaign(tenant);
    await spoil(tenant);
    for (const mount of API_MOUNTS) {
      for (const path of batchedReads(id)) {
        const res = await call(`${mount}${path}`, { headers: tenant.auth });
        const text = await res.text();
        expect(res.status, `${mount}${path}`).toBe(401);
        expect(text).toContain("The API key is invalid, revoked or expired.");
        expect(text).not.toContain(id);
      }
    }
  });

  it("answers 401 for a key that names an account with another account's secret, or an unknown secret", async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const { id } = await createCampaign(other);
    const forged = tenant.key.replace(tenant.accountId, other.accountId);
    const unknown = `${tenant.key.slice(0, -4)}AAAA`;
    for (const key of [forged, unknown]) {
      for (const path of batchedReads(id)) {
        const res = await call(`/api/v1${path}`, { headers: { Authorization: `Bearer ${key}` } });
        const text = await res.text();
        expect(res.status, path).toBe(401);
        expect(text).not.toContain(id);
      }
    }
  });

  it("answers 401, not the route's own 400 or 404, when the route refused the request before it read anything", async () => {
    const tenant = await newTenant();
    await setKey(tenant, "revoked_at", new Date().toISOString());
    for (const path of ["/campaigns?page=abc", "/campaigns/cmp_missing", "/campaigns/cmp_missing/contacts?limit=0", "/agents?status=nope"]) {
      const res = await call(`/api/v1${path}`, { headers: tenant.auth });
      expect(res.status, path).toBe(401);
      expect(await res.text()).toBe("The API key is invalid, revoked or expired.");
    }
    // With a usable key the same requests get the route's own answers.
    const fresh = await newTenant();
    expect((await call("/api/v1/campaigns?page=abc", { headers: fresh.auth })).status).toBe(400);
    expect((await call("/api/v1/campaigns/cmp_missing", { headers: fresh.auth })).status).toBe(404);
  });

  it("checks the key before the route where the batch cannot carry it: a D1 bookmark, X-Account-ID of another account", async () => {
    const tenant = await newTenant();
    const { id } = await createCampaign(tenant);
    const app = countingApp();
    const withBookmark = await app.fetch(`/api/v1/campaigns/${id}`, { ...tenant.auth, "x-d1-bookmark": "first-primary" });
    expect(withBookmark.status).toBe(200);
    // The key alone on the primary; the route's read went through its session.
    expect(app.trips).toEqual(["single"]);
    const mismatched = await call(`/api/v1/campaigns/${id}`, { headers: { ...tenant.auth, "X-Account-ID": "someone-else" } });
    expect(mismatched.status).toBe(403);
    await setKey(tenant, "revoked_at", new Date().toISOString());
    // A refused key is 401 before the account header is judged, as on every other route.
    expect((await call(`/api/v1/campaigns/${id}`, { headers: { ...tenant.auth, "X-Account-ID": "someone-else" } })).status).toBe(401);
  });
});
