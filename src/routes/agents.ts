import { and, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { database, nowIso } from "../db/client";
import { findInAccount, liveCampaignsUsing, pageByAccount } from "../db/queries";
import { agents } from "../db/schema";
import type { AppEnv } from "../env";
import { conflict, notFound } from "../http/errors";
import { listEnvelope, parseEnum, parsePage, readJson } from "../http/validation";
import { newId } from "../ids";

const AGENT_STATUSES = ["draft", "active", "paused", "archived"] as const;

const agentFields = {
  name: z.string("is required").trim().min(1, "must not be empty").max(200),
  status: z.enum(AGENT_STATUSES, `must be one of ${AGENT_STATUSES.join(", ")}`),
  stream_url: z
    .string()
    .regex(/^wss:\/\/[^\s/?#]+[^\s]*$/, "must be a wss:// URL")
    .max(2048)
    .nullable(),
};

type AgentRow = typeof agents.$inferSelect;

const agentView = (row: AgentRow) => ({
  id: row.id,
  name: row.name,
  status: row.status,
  stream_url: row.streamUrl,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

export const agentRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const body = await readJson(c, z.object({ ...agentFields, status: agentFields.status.default("draft"), stream_url: agentFields.stream_url.optional() }));
    const now = nowIso();
    const row: AgentRow = {
      id: newId("agt"),
      accountId: c.var.caller.accountId,
      name: body.name,
      status: body.status,
      streamUrl: body.stream_url ?? null,
      createdAt: now,
      updatedAt: now,
    };
    await database(c.env).insert(agents).values(row);
    return c.json(agentView(row), 201);
  })
  .get("/", async (c) => {
    const page = parsePage(c, { limit: 50, maxLimit: 100 });
    const status = parseEnum("status", c.req.query("status"), AGENT_STATUSES);
    const { rows, total } = await pageByAccount(database(c.env), agents, c.var.caller.accountId, page, status && eq(agents.status, status));
    return c.json(listEnvelope("agents", rows.map(agentView), total, page));
  })
  .get("/:id", async (c) => {
    const row = await findInAccount(database(c.env), agents, c.var.caller.accountId, c.req.param("id"));
    if (!row) throw notFound("Agent", c.req.param("id"));
    return c.json(agentView(row));
  })
  .patch("/:id", async (c) => {
    const body = await readJson(c, z.object(agentFields).partial());
    const id = c.req.param("id");
    const [row] = await database(c.env)
      .update(agents)
      .set({
        ...(body.name !== undefined && { name: body.name }),
        ...(body.status !== undefined && { status: body.status }),
        ...(body.stream_url !== undefined && { streamUrl: body.stream_url }),
        updatedAt: nowIso(),
      })
      .where(and(eq(agents.id, id), eq(agents.accountId, c.var.caller.accountId)))
      .returning();
    if (!row) throw notFound("Agent", id);
    return c.json(agentView(row));
  })
  .delete("/:id", async (c) => {
    const db = database(c.env);
    const id = c.req.param("id");
    const row = await findInAccount(db, agents, c.var.caller.accountId, id);
    if (!row) throw notFound("Agent", id);
    const users = await liveCampaignsUsing(db, "agentId", id);
    if (users.length > 0) {
      throw conflict(`Agent ${id} is used by campaign ${users.map((u) => u.id).join(", ")}; stop or delete those campaigns first.`);
    }
    await db.delete(agents).where(eq(agents.id, id));
    return c.body(null, 204);
  });
