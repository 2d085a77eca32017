import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, call, json, jsonInit, newTenant, signSession, uniqueAccountId } from "./helpers";

async function accountWithMember(subject: string) {
  const tenant = await newTenant();
  const res = await call(`/admin/v1/accounts/${tenant.accountId}/members`, jsonInit("POST", { subject }, ADMIN));
  expect(res.status, "member added").toBe(201);
  return tenant;
}

const session = async (subject: string, accountId?: string) => ({
  Authorization: `Bearer ${await signSession(subject)}`,
  ...(accountId ? { "X-Account-ID": accountId } : {}),
});

describe("API keys", () => {
  it("authenticates a valid key and scopes it to its account", async () => {
    const tenant = await newTenant({ concurrent_max: 7 });
    const res = await call("/api/v1/call-limits", { headers: tenant.auth });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ concurrent_max: 7, calls_per_minute: 0, daily_calls_max: 10000, daily_minutes_max: 100000 });
  });

  it("stores only a keyed hash, never the key", async () => {
    const tenant = await newTenant();
    const rows = await env.DB.prepare("SELECT * FROM api_keys WHERE account_id = ?").bind(tenant.accountId).all();
    const stored = JSON.stringify(rows.results);
    expect(stored).not.toContain(tenant.key.slice(-20));
    expect(rows.results[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["no header", {}],
    ["not bearer", { Authorization: "Basic abc" }],
    ["unknown key", { Authorization: "Bearer sk_live_nobody_AAAAAAAAAAAAAAAAAAAAAAAA" }],
    ["malformed key", { Authorization: "Bearer sk_live_" }],
    ["garbage token", { Authorization: "Bearer not-a-jwt" }],
  ])("rejects %s with 401", async (_, headers) => {
    const res = await call("/api/v1/campaigns", { headers });
    expect(res.status).toBe(401);
    expect(await res.text()).toMatch(/\w+/);
  });

  it("rejects a key whose account part was changed", async () => {
    const tenant = await newTenant();
    const other = await newTenant();
    const forged = tenant.key.replace(tenant.accountId, other.accountId);
    expect((await call("/api/v1/agents", { headers: { Authorization: `Bearer ${forged}` } })).status).toBe(401);
  });

  it("answers 403 when X-Account-ID differs from the key's account", async () => {
    const tenant = await newTenant();
    const res = await call("/api/v1/agents", { headers: { ...tenant.auth, "X-Account-ID": "someone-else" } });
    expect(res.status).toBe(403);
    const same = await call("/api/v1/agents", { headers: { ...tenant.auth, "X-Account-ID": tenant.accountId } });
    expect(same.status).toBe(200);
    await same.body?.cancel();
  });

  it("refuses an sk_live_ caller minting or revoking keys (403)", async () => {
    const tenant = await newTenant();
    const mint = await call("/api/v1/api-keys", jsonInit("POST", { name: "leak" }, tenant.auth));
    expect(mint.status).toBe(403);
    const list = await json<{ api_keys: { id: string }[] }>(await call("/api/v1/api-keys", { headers: tenant.auth }));
    expect(list.api_keys).toHaveLength(1);
    const revoke = await call(`/api/v1/api-keys/${list.api_keys[0]?.id}`, { method: "DELETE", headers: tenant.auth });
    expect(revoke.status).toBe(403);
    expect((await call("/api/v1/agents", { headers: tenant.auth })).status).toBe(200);
  });

  it("mints keys for a session, shows last8 only, and a revoked key is 401 at once", async () => {
    const tenant = await accountWithMember("user-1");
    const headers = await session("user-1", tenant.accountId);
    const mint = await call("/api/v1/api-keys", jsonInit("POST", { name: "ci", expiry: "30d" }, headers));
    expect(mint.status).toBe(201);
    const minted = await json<{ id: string; key: string; last8: string; expires_at: string }>(mint);
    expect(minted.key.startsWith(`sk_live_${tenant.accountId}_`)).toBe(true);
    expect(minted.last8).toBe(minted.key.slice(-8));
    expect(Date.parse(minted.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const listed = await call("/api/v1/api-keys", { headers });
    const body = await json<{ api_keys: Record<string, unknown>[]; total: number }>(listed);
    expect(body.total).toBe(2);
    expect(JSON.stringify(body)).not.toContain(minted.key);

    const newKey = { Authorization: `Bearer ${minted.key}` };
    expect((await call("/api/v1/agents", { headers: newKey })).status).toBe(200);
    expect((await call(`/api/v1/api-keys/${minted.id}`, { method: "DELETE", headers })).status).toBe(204);
    expect((await call("/api/v1/agents", { headers: newKey })).status).toBe(401);
    expect((await call(`/api/v1/api-keys/${minted.id}`, { method: "DELETE", headers })).status).toBe(404);
  });

  it("rejects a bad expiry with 400", async () => {
    const tenant = await accountWithMember("user-exp");
    const res = await call("/api/v1/api-keys", jsonInit("POST", { name: "x", expiry: "2d" }, await session("user-exp", tenant.accountId)));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("expiry");
  });

  it("treats an expired key as 401", async () => {
    const tenant = await newTenant();
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE account_id = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), tenant.accountId)
      .run();
    expect((await call("/api/v1/agents", { headers: tenant.auth })).status).toBe(401);
  });
});

describe("sessions (JWT)", () => {
  it("accepts a member with X-Account-ID", async () => {
    const tenant = await accountWithMember("alice");
    const res = await call("/api/v1/call-limits", { headers: await session("alice", tenant.accountId) });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });

  it("needs X-Account-ID (400) in the right shape (400)", async () => {
    await accountWithMember("bob");
    expect((await call("/api/v1/agents", { headers: await session("bob") })).status).toBe(400);
    expect((await call("/api/v1/agents", { headers: await session("bob", "Not Valid!") })).status).toBe(400);
  });

  it("answers 403 for an account the subject is not a member of", async () => {
    const mine = await accountWithMember("carol");
    const other = await newTenant();
    expect((await call("/api/v1/agents", { headers: await session("carol", other.accountId) })).status).toBe(403);
    expect((await call("/api/v1/agents", { headers: await session("mallory", mine.accountId) })).status).toBe(403);
  });

  it("rejects expired, wrong-audience and wrong-issuer tokens with 401", async () => {
    const tenant = await accountWithMember("dave");
    for (const token of [
      await signSession("dave", { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      await signSession("dave", { audience: "someone-else" }),
      await signSession("dave", { issuer: "https://evil.test" }),
    ]) {
      const res = await call("/api/v1/agents", { headers: { Authorization: `Bearer ${token}`, "X-Account-ID": tenant.accountId } });
      expect(res.status).toBe(401);
      await res.body?.cancel();
    }
  });
});

describe("reserved account", () => {
  it("answers 403 for kataven-admin on tenant routes, by key and by session", async () => {
    const now = new Date().toISOString();
    await env.DB.prepare(
      "INSERT OR IGNORE INTO accounts (id, concurrent_max, calls_per_minute, daily_calls_max, daily_minutes_max, created_at, updated_at) VALUES ('kataven-admin', 10, 60, 1, 1, ?, ?)",
    )
      .bind(now, now)
      .run();
    const { key } = await json<{ key: string }>(await call("/admin/v1/accounts/kataven-admin/api-keys", jsonInit("POST", { name: "k" }, ADMIN)));
    expect((await call("/api/v1/campaigns", { headers: { Authorization: `Bearer ${key}` } })).status).toBe(403);
    await call("/admin/v1/accounts/kataven-admin/members", jsonInit("POST", { subject: "root" }, ADMIN));
    expect((await call("/api/v1/campaigns", { headers: await session("root", "kataven-admin") })).status).toBe(403);
  });

  it("cannot be created through the admin API", async () => {
    const res = await call("/admin/v1/accounts", jsonInit("POST", { id: "kataven-admin" }, ADMIN));
    expect(res.status).toBe(400);
  });
});

describe("platform admin", () => {
  it("requires the admin token", async () => {
    expect((await call("/admin/v1/accounts", jsonInit("POST", { id: uniqueAccountId() }))).status).toBe(401);
    expect((await call("/admin/v1/accounts", jsonInit("POST", { id: uniqueAccountId() }, { Authorization: "Bearer nope" }))).status).toBe(401);
    const tenant = await newTenant();
    expect((await call("/admin/v1/accounts", jsonInit("POST", { id: uniqueAccountId() }, tenant.auth))).status).toBe(401);
  });

  it("creates with defaults, refuses duplicates (409) and bad caps (400), patches caps", async () => {
    const id = uniqueAccountId();
    const created = await call("/admin/v1/accounts", jsonInit("POST", { id, name: "Acme" }, ADMIN));
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({
      id,
      name: "Acme",
      concurrent_max: 10,
      calls_per_minute: 60,
      daily_calls_max: 10000,
      daily_minutes_max: 100000,
    });
    expect((await call("/admin/v1/accounts", jsonInit("POST", { id }, ADMIN))).status).toBe(409);
    const bad = await call("/admin/v1/accounts", jsonInit("POST", { id: uniqueAccountId(), concurrent_max: -1 }, ADMIN));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("concurrent_max");
    expect((await call("/admin/v1/accounts", jsonInit("POST", { id: "Bad Id" }, ADMIN))).status).toBe(400);

    const patched = await call(`/admin/v1/accounts/${id}`, jsonInit("PATCH", { concurrent_max: 0, calls_per_minute: 5 }, ADMIN));
    expect(patched.status).toBe(200);
    expect(await json(patched)).toMatchObject({ concurrent_max: 0, calls_per_minute: 5 });
    expect((await call("/admin/v1/accounts/missing-account", jsonInit("PATCH", { concurrent_max: 1 }, ADMIN))).status).toBe(404);
    expect((await call("/admin/v1/accounts/missing-account/api-keys", jsonInit("POST", { name: "k" }, ADMIN))).status).toBe(404);
  });

  it("refuses adding the same member twice", async () => {
    const tenant = await accountWithMember("erin");
    const again = await call(`/admin/v1/accounts/${tenant.accountId}/members`, jsonInit("POST", { subject: "erin" }, ADMIN));
    expect(again.status).toBe(409);
  });
});
