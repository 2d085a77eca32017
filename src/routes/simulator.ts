import { type Context, Hono } from "hono";
import { simulatorAccountId, simulatorToken } from "../carriers/registry";
import { type FamilyDialect, familyError, type SimResponse } from "../carriers/simulator/plivo-wire";
import { type FamilyLookup, getSimulatorStub, SIMULATOR_SHARDS, shardFor } from "../carriers/simulator/simulator-do";
import { database } from "../db/client";
import { findInAccount } from "../db/queries";
import { providers } from "../db/schema";
import type { AppEnv, Env } from "../env";
import { requireTenant } from "../http/auth";
import { decryptSecret, safeEqual } from "../http/crypto";
import { ApiError, badRequest, notFound } from "../http/errors";

const allShards = () => Array.from({ length: SIMULATOR_SHARDS }, (_, i) => i.toString(16));
const send = (c: Context<AppEnv>, result: SimResponse) =>
  result.status === 204 ? c.body(null, 204) : c.body(result.json, result.status as 200, { "Content-Type": "application/json" });
const lookupOf = (status: string | undefined): FamilyLookup => (status === "live" ? "live" : status === "queued" ? "queued" : "record");

async function createFamilyCall(c: Context<AppEnv>, dialect: FamilyDialect) {
  const authId = c.req.param("authId") as string;
  const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
  if (!body || typeof body !== "object") return send(c, familyError(dialect, 400, "INVALID_JSON", "the request body must be a JSON object"));
  const shard = shardFor(typeof body.to === "string" ? body.to : "");
  return send(
    c,
    await getSimulatorStub(c.env, authId, shard).createFamilyCall({ dialect, authId, authToken: await simulatorToken(c.env, authId), body }, shard),
  );
}

/** Ids start with their shard's hex digit. */
const stubFor = (env: Env, authId: string, id: string) => getSimulatorStub(env, authId, /^[0-9a-f]/.test(id) ? id.charAt(0) : "0");

async function familyCall(c: Context<AppEnv>, dialect: FamilyDialect) {
  const authId = c.req.param("authId") as string;
  const id = c.req.param("id") as string;
  return send(c, await stubFor(c.env, authId, id).familyCall(dialect, authId, id, lookupOf(c.req.query("status"))));
}

async function cancelFamilyCall(c: Context<AppEnv>, dialect: FamilyDialect) {
  const authId = c.req.param("authId") as string;
  const id = c.req.param("id") as string;
  return send(c, await stubFor(c.env, authId, id).cancelFamilyCall(dialect, authId, id));
}

/** The transfer-call API: a live call's A leg is sent to a new document URL. */
async function transferFamilyCall(c: Context<AppEnv>, dialect: FamilyDialect) {
  const authId = c.req.param("authId") as string;
  const id = c.req.param("id") as string;
  const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
  if (!body || typeof body !== "object") return send(c, familyError(dialect, 400, "INVALID_JSON", "the request body must be a JSON object"));
  return send(c, await stubFor(c.env, authId, id).transferFamilyCall(dialect, authId, id, body));
}

/** Calls across the shards that may hold them, newest first. */
async function listed(c: Context<AppEnv>, lookup: FamilyLookup, to: string | null, from: string | null) {
  const authId = c.req.param("authId") as string;
  const shards = to ? [shardFor(to.startsWith("+") ? to : `+${to}`), shardFor(to.replace(/^\+/, ""))] : allShards();
  const lists = await Promise.all([...new Set(shards)].map((shard) => getSimulatorStub(c.env, authId, shard).familyCalls(authId, lookup, to, from)));
  return lists.flat().sort((a, b) => Number(b.created_at) - Number(a.created_at));
}

/** Plivo's Voice API for calls, as far as edgedial uses it: create, live/queued/record lookups, listings, transfer, hangup. */
const plivoRoutes = new Hono<AppEnv>()
  .use("/v1/Account/:authId/*", async (c, next) => {
    const authId = c.req.param("authId");
    const [scheme, encoded] = (c.req.header("Authorization") ?? "").split(" ");
    const [user, password] = scheme === "Basic" && encoded ? atob(encoded).split(":") : [];
    if (user !== authId || !password || !(await safeEqual(password, await simulatorToken(c.env, authId)))) {
      return send(c, familyError("plivo", 401, "AUTHENTICATION_FAILED", "Authentication failed: check the auth_id and auth_token."));
    }
    await next();
  })
  .post("/v1/Account/:authId/Call/", (c) => createFamilyCall(c, "plivo"))
  .get("/v1/Account/:authId/Call/", async (c) => {
    const status = c.req.query("status");
    const calls = await listed(c, lookupOf(status), c.req.query("to_number") ?? null, c.req.query("from_number") ?? null);
    if (status === "live" || status === "queued")
      return c.json({ api_id: crypto.randomUUID(), calls: calls.map((r) => (status === "live" ? r.live_id : r.queued_id)) });
    const since = Date.parse(`${(c.req.query("end_time__gte") ?? "").replace(" ", "T")}Z`);
    const objects = calls
      .filter((r) => Number.isNaN(since) || (r.ended_at ?? 0) >= since)
      .slice(0, Number(c.req.query("limit") ?? 20))
      .map((r) => JSON.parse(r.record));
    return c.json({ api_id: crypto.randomUUID(), meta: { limit: objects.length, offset: 0, total_count: objects.length }, objects });
  })
  .get("/v1/Account/:authId/Call/:id/", (c) => familyCall(c, "plivo"))
  .post("/v1/Account/:authId/Call/:id/", (c) => transferFamilyCall(c, "plivo"))
  .get("/v1/Account/:authId/Call/:id", (c) => familyCall(c, "plivo"))
  .delete("/v1/Account/:authId/Call/:id/", (c) => cancelFamilyCall(c, "plivo"))
  .delete("/v1/Account/:authId/Request/:id/", (c) => cancelFamilyCall(c, "plivo"));

/** Vobiz's Plivo-compatible API under /api/v1, authenticated by X-Auth-ID / X-Auth-Token, with its cdr endpoints. */
const vobizRoutes = new Hono<AppEnv>()
  .use("/api/v1/Account/:authId/*", async (c, next) => {
    const authId = c.req.param("authId");
    const token = c.req.header("X-Auth-Token") ?? "";
    if (c.req.header("X-Auth-ID") !== authId || !token || !(await safeEqual(token, await simulatorToken(c.env, authId)))) {
      return send(c, familyError("vobiz", 401, "INVALID_CREDENTIALS", "Invalid X-Auth-ID or X-Auth-Token."));
    }
    await next();
  })
  .post("/api/v1/Account/:authId/Call/", (c) => createFamilyCall(c, "vobiz"))
  .get("/api/v1/Account/:authId/Call/", async (c) => {
    const status = c.req.query("status") === "live" ? "live" : "queued";
    const calls = await listed(c, status, null, null);
    return c.json({ api_id: crypto.randomUUID(), calls: calls.map((r) => r.live_id) });
  })
  .get("/api/v1/Account/:authId/Call", async (c) => {
    const calls = await listed(c, lookupOf(c.req.query("status")) === "queued" ? "queued" : "live", null, null);
    return c.json({ api_id: crypto.randomUUID(), calls: calls.map((r) => r.live_id) });
  })
  .get("/api/v1/Account/:authId/Call/:id/", (c) => familyCall(c, "vobiz"))
  .post("/api/v1/Account/:authId/Call/:id/", (c) => transferFamilyCall(c, "vobiz"))
  .get("/api/v1/Account/:authId/Call/:id", (c) => familyCall(c, "vobiz"))
  .delete("/api/v1/Account/:authId/Call/:id", (c) => cancelFamilyCall(c, "vobiz"))
  .get("/api/v1/Account/:authId/cdr", async (c) => {
    const rows = await listed(c, "record", c.req.query("to_number") ?? null, c.req.query("from_number") ?? null);
    const data = rows.slice(0, Number(c.req.query("per_page") ?? 20)).map((r) => JSON.parse(r.record));
    return c.json({ success: true, account_id: c.req.param("authId"), count: data.length, data, pagination: { page: 1, per_page: data.length }, summary: {} });
  })
  .get("/api/v1/Account/:authId/cdr/:id", async (c) => {
    const authId = c.req.param("authId");
    const id = c.req.param("id");
    return send(c, await stubFor(c.env, authId, id).familyCall("vobiz", authId, id, "record"));
  });

/** Twilio's REST surface for calls, as far as edgedial uses it, served by the simulator. */
export const simulatorRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (c.env.SIMULATOR_ENABLED !== "true") throw new ApiError("not_found", "The simulator carrier is not enabled on this deployment.");
    await next();
  })
  .route("/plivo", plivoRoutes)
  // For benchmarks: what each answered call handed its agent (result_url among it), as an agent would read it off the stream it opens.
  .get("/providers/:id/answers", requireTenant, async (c) => {
    const id = c.req.param("id");
    const row = await findInAccount(database(c.env), providers, c.var.caller.accountId, id);
    if (row?.provider !== "simulator") throw notFound("Simulator provider", id);
    const accountId = simulatorAccountId(JSON.parse(await decryptSecret(row.credentials, c.env.SECRETS_KEY)) as Record<string, string>);
    // One rowid per shard, dot-separated, as the previous listing answered it.
    const after = (c.req.query("after") ?? "").split(".").map(Number);
    const shards = allShards();
    if (c.req.query("after") !== undefined && (after.length !== shards.length || after.some((n) => !Number.isSafeInteger(n) || n < 0)))
      throw badRequest(`after is the cursor a previous listing answered: ${shards.length} dot-separated row numbers.`);
    const lists = await Promise.all(shards.map((shard, i) => getSimulatorStub(c.env, accountId, shard).answersAfter(after[i] ?? 0, 500)));
    return c.json({ answers: lists.flatMap((l) => l.parameters), cursor: lists.map((l) => l.cursor).join(".") });
  })
  .route("/vobiz", vobizRoutes)
  .use("/2010-04-01/Accounts/:sid/*", async (c, next) => {
    const sid = c.req.param("sid");
    const [scheme, encoded] = (c.req.header("Authorization") ?? "").split(" ");
    const [user, password] = scheme === "Basic" && encoded ? atob(encoded).split(":") : [];
    if (user !== sid || !password || !(await safeEqual(password, await simulatorToken(c.env, sid)))) {
      return c.json({ code: 20003, message: "Authenticate", more_info: "https://www.twilio.com/docs/errors/20003", status: 401 }, 401);
    }
    await next();
  })
  .post("/2010-04-01/Accounts/:sid/Calls.json", async (c) => {
    const sid = c.req.param("sid");
    const form = [...(await c.req.formData()).entries()].map(([k, v]) => [k, String(v)] as [string, string]);
    const to = form.find(([k]) => k === "To")?.[1] ?? "";
    const shard = shardFor(to);
    const result = await getSimulatorStub(c.env, sid, shard).createCall({ accountSid: sid, authToken: await simulatorToken(c.env, sid), form }, shard);
    return c.body(result.json, result.status as 201, { "Content-Type": "application/json" });
  })
  .get("/2010-04-01/Accounts/:sid/Calls.json", async (c) => {
    const sid = c.req.param("sid");
    const to = c.req.query("To") ?? null;
    const from = c.req.query("From") ?? null;
    const shards = to ? [shardFor(to)] : Array.from({ length: SIMULATOR_SHARDS }, (_, i) => i.toString(16));
    const lists = await Promise.all(shards.map((shard) => getSimulatorStub(c.env, sid, shard).listCalls(sid, to, from)));
    return c.json({ calls: lists.flat() });
  })
  .get("/2010-04-01/Accounts/:sid/Calls/:file", async (c) => {
    const sid = c.req.param("sid");
    const callSid = c.req.param("file").replace(/\.json$/, "");
    const result = await getSimulatorStub(c.env, sid, callSid.charAt(2)).getCall(sid, callSid);
    return c.body(result.json, result.status as 200, { "Content-Type": "application/json" });
  });
