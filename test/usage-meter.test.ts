import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getAccountStub } from "../src/accounts/stub";
import { AGENT_URL_TTL_MS, D1Sync } from "../src/campaign-object/d1-sync";
import type { ObjectStorage } from "../src/campaign-object/storage/object-storage";
import { database } from "../src/db/client";
import { agents } from "../src/db/schema";
import type { Env } from "../src/env";
import { meteredEnv, meteringOn } from "../src/usage/meter";
import { usageReport } from "../src/usage/usage-counts";
import { ADMIN, call, jsonInit, newTenant } from "./helpers";

const meterOn = { ...env, SIMULATOR_ENABLED: "true", USAGE_METER: "true" } as Env;

describe("usage metering", () => {
  it("is on only with the simulator and USAGE_METER both true, and leaves the bindings alone when off", () => {
    expect(meteringOn({ SIMULATOR_ENABLED: "true", USAGE_METER: "true" })).toBe(true);
    expect(meteringOn({ SIMULATOR_ENABLED: "false", USAGE_METER: "true" })).toBe(false);
    expect(meteringOn({ SIMULATOR_ENABLED: "true" })).toBe(false);
    const off = { ...env, USAGE_METER: undefined } as Env;
    expect(meteredEnv(off)).toBe(off);
  });

  it("counts D1 rows from every result's meta, and first/raw/batch answer what the plain binding answers", async () => {
    const t = await newTenant();
    const metered = meteredEnv(meterOn);
    const before = usageReport().d1;
    const plain = await database(env).select().from(agents).where(eq(agents.id, t.agentId)).get();
    const counted = await database(metered).select().from(agents).where(eq(agents.id, t.agentId)).get();
    expect(counted).toEqual(plain);
    const sql = "SELECT id, name FROM agents WHERE account_id = ?";
    expect(await metered.DB.prepare(sql).bind(t.accountId).first()).toEqual(await env.DB.prepare(sql).bind(t.accountId).first());
    expect(await metered.DB.prepare(sql).bind(t.accountId).first("name")).toBe("Agent");
    expect(await metered.DB.prepare(sql).bind(t.accountId).raw()).toEqual(await env.DB.prepare(sql).bind(t.accountId).raw());
    expect(await metered.DB.prepare(sql).bind("no-such-account").first()).toBeNull();
    const [written] = await metered.DB.batch([metered.DB.prepare("UPDATE agents SET name = ? WHERE id = ?").bind("Renamed", t.agentId)]);
    expect(written?.meta.rows_written).toBeGreaterThan(0);
    const after = usageReport().d1;
    expect(after.queries - before.queries).toBe(6);
    expect(after.rows_read - before.rows_read).toBeGreaterThanOrEqual(5);
    expect(after.rows_written - before.rows_written).toBe(written?.meta.rows_written);
    expect(usageReport().statements.some((s) => s.sql.startsWith("UPDATE agents SET name"))).toBe(true);
  });

  it("counts each call on an object's stub as one request", async () => {
    const metered = meteredEnv(meterOn);
    const before = usageReport().object_requests.account ?? 0;
    const stub = getAccountStub(metered, "meter-test");
    expect(await stub.renewLeases([])).toEqual([]);
    expect((usageReport().object_requests.account ?? 0) - before).toBe(1);
  });

  it("answers GET /simulator/usage only where metering is on", async () => {
    const res = await call("/simulator/usage", { headers: ADMIN });
    expect(res.status).toBe(env.USAGE_METER === "true" ? 200 : 404);
    expect((await call("/simulator/usage")).status).toBe(401);
  });
});

describe("the agent's stream URL in the campaign object", () => {
  it("is read from D1 once per AGENT_URL_TTL_MS, so a PATCH reaches a running campaign within that bound", async () => {
    const t = await newTenant();
    let reads = 0;
    const countingDb = new Proxy(env.DB, {
      get(target, property) {
        if (property === "prepare")
          return (sql: string) => {
            reads++;
            return target.prepare(sql);
          };
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const sync = new D1Sync({ ...env, DB: countingDb } as Env, {} as ObjectStorage);
    const t0 = 1_000_000;
    expect(await sync.agentStreamUrl(t.agentId, t0)).toBe("wss://agent.test/stream");
    const patched = await call(`/api/v1/agents/${t.agentId}`, jsonInit("PATCH", { stream_url: "wss://agent.test/other" }, t.auth));
    expect(patched.status).toBe(200);
    expect(await sync.agentStreamUrl(t.agentId, t0 + AGENT_URL_TTL_MS - 1)).toBe("wss://agent.test/stream");
    expect(reads).toBe(1);
    expect(await sync.agentStreamUrl(t.agentId, t0 + AGENT_URL_TTL_MS)).toBe("wss://agent.test/other");
    expect(reads).toBe(2);
  });
});
