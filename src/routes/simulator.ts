import { Hono } from "hono";
import { simulatorToken } from "../carriers/registry";
import { getSimulatorStub, SIMULATOR_SHARDS, shardFor } from "../carriers/simulator/simulator-do";
import type { AppEnv } from "../env";
import { safeEqual } from "../http/crypto";
import { ApiError } from "../http/errors";

/** Twilio's REST surface for calls, as far as edgedial uses it, served by the simulator. */
export const simulatorRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (c.env.SIMULATOR_ENABLED !== "true") throw new ApiError("not_found", "The simulator carrier is not enabled on this deployment.");
    await next();
  })
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
