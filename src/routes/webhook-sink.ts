import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../env";
import { ApiError, badRequest } from "../http/errors";
import { readJson } from "../http/validation";
import { getWebhookSink } from "../outbox/webhook-sink-do";

/** Largest body a sink records. */
const MAX_SINK_BODY = 256 * 1024;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

function sinkName(name: string): string {
  if (!NAME.test(name)) throw badRequest("A sink name is 1–64 letters, digits, - or _.");
  return name;
}

const behaviourSchema = z.object({
  status: z.number().int().min(100).max(599),
  until: z.number().int().nullable().optional(),
  then_status: z.number().int().min(100).max(599).optional(),
  location: z.string().max(2048).nullable().optional(),
  body: z.string().max(MAX_SINK_BODY).nullable().optional(),
  eligibility: z
    .object({ refuse: z.array(z.string()).optional(), omit: z.array(z.string()).optional(), reason: z.string().max(500).optional() })
    .nullable()
    .optional(),
});

/**
 * A local webhook receiver (only where the simulator is enabled): POST /simulator/webhook-sink/{name}
 * records and answers; PUT …/{name}/behaviour sets the answer; GET …/{name} lists what arrived.
 */
export const webhookSinkRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (c.env.SIMULATOR_ENABLED !== "true") throw new ApiError("not_found", "The simulator is not enabled on this deployment.");
    await next();
  })
  .post("/:name", async (c) => {
    const name = sinkName(c.req.param("name"));
    const body = await c.req.text();
    if (body.length > MAX_SINK_BODY) throw new ApiError("payload_too_large", `A sink records bodies up to ${MAX_SINK_BODY} bytes.`);
    const received: Record<string, string> = {};
    c.req.raw.headers.forEach((value, key) => {
      received[key] = value;
    });
    const answer = await getWebhookSink(c.env, name).receive(received, body);
    const headers: Record<string, string> = answer.location ? { Location: answer.location } : {};
    if (answer.body !== null) headers["Content-Type"] = "application/json";
    return new Response(answer.body, { status: answer.status, headers });
  })
  .put("/:name/behaviour", async (c) => {
    await getWebhookSink(c.env, sinkName(c.req.param("name"))).configure(await readJson(c, behaviourSchema));
    return c.body(null, 204);
  })
  .get("/:name", async (c) => {
    const after = Number(c.req.query("after") ?? 0);
    return c.json({ received: await getWebhookSink(c.env, sinkName(c.req.param("name"))).received(Number.isFinite(after) ? after : 0) });
  })
  .delete("/:name", async (c) => {
    await getWebhookSink(c.env, sinkName(c.req.param("name"))).reset();
    return c.body(null, 204);
  });
