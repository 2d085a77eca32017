import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { SIM_AGENT_STREAM } from "../carriers/simulator/sim-agent";
import { database, nowIso } from "../db/client";
import { findInAccount, liveCampaignsUsing, pageByAccount } from "../db/queries";
import { agents } from "../db/schema";
import type { AppEnv, Env } from "../env";
import { badRequest, conflict, notFound } from "../http/errors";
import { tenantBatch } from "../http/key-check";
import {
  enumQuery,
  errors,
  idParam,
  json,
  jsonBody,
  listEnvelopeSchema,
  noContent,
  pageQuery,
  requireJsonBody,
  TENANT_ERRORS,
  validationHook,
} from "../http/openapi";
import { listEnvelope } from "../http/validation";
import { newId } from "../ids";

const MAX_AGENT_NAME_CHARS = 200;
const AGENT_STATUSES = ["draft", "active", "paused", "archived"] as const;

const agentFields = {
  name: z
    .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
    .trim()
    .min(1, "must not be empty")
    .max(MAX_AGENT_NAME_CHARS, { error: (issue) => `must be at most ${MAX_AGENT_NAME_CHARS} characters; it has ${String(issue.input).length}` }),
  status: z.enum(AGENT_STATUSES, `must be one of ${AGENT_STATUSES.join(", ")}`).describe("Only `active` agents originate calls."),
  stream_url: z
    .string()
    .regex(/^(wss:\/\/[^\s/?#]+[^\s]*|sim:\/\/agent)$/, "must be a wss:// URL")
    .max(2048, "must be at most 2,048 characters")
    .nullable()
    .describe("The agent's media stream, a wss:// URL the carrier streams the call to; `sim://agent` where the simulator is enabled."),
};

/** `sim://agent` has the simulator play the agent, so it is taken only where the simulator runs. */
export function checkStreamUrl(env: Pick<Env, "SIMULATOR_ENABLED">, streamUrl: string | null | undefined) {
  if (streamUrl === SIM_AGENT_STREAM && env.SIMULATOR_ENABLED !== "true") {
    throw badRequest("stream_url sim://agent is the simulator's agent, and the simulator is not enabled on this deployment; give a wss:// URL.");
  }
}

const createAgentSchema = z.object({ ...agentFields, status: agentFields.status.default("draft"), stream_url: agentFields.stream_url.optional() });
const updateAgentSchema = z.object(agentFields).partial();

const agentSchema = z
  .object({
    id: z.string().openapi({ example: "agt_01jz3k4m5n6p7q8r9s0t1v2w3x" }),
    name: z.string(),
    status: z.enum(AGENT_STATUSES),
    stream_url: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Agent");

type AgentRow = typeof agents.$inferSelect;

const agentView = (row: AgentRow) => ({
  id: row.id,
  name: row.name,
  status: row.status,
  stream_url: row.streamUrl,
  created_at: row.createdAt,
  updated_at: row.updatedAt,
});

const agentId = idParam("The agent's id, `agt_…`.");

export const agentRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Agents"],
      summary: "Create an agent",
      middleware: requireJsonBody,
      request: { body: jsonBody(createAgentSchema) },
      responses: { 201: json(agentSchema, "The new agent."), ...errors([...TENANT_ERRORS, 415]) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      checkStreamUrl(c.env, body.stream_url);
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
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Agents"],
      summary: "List agents",
      request: { query: z.object({ ...pageQuery({ limit: 50, maxLimit: 100 }), status: enumQuery("status", AGENT_STATUSES) }) },
      responses: { 200: json(listEnvelopeSchema("agents", agentSchema, "AgentList"), "Agents, newest first."), ...errors(TENANT_ERRORS) },
    }),
    async (c) => {
      const { limit = 50, offset = 0, status } = c.req.valid("query");
      const page = { limit, offset };
      const { rows, total } = await pageByAccount(database(c.env), tenantBatch(c), agents, c.var.caller.accountId, page, status && eq(agents.status, status));
      return c.json(listEnvelope("agents", rows.map(agentView), total, page), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Agents"],
      summary: "Get an agent",
      request: { params: agentId },
      responses: { 200: json(agentSchema, "The agent."), ...errors([...TENANT_ERRORS, 404]) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await findInAccount(database(c.env), agents, c.var.caller.accountId, id);
      if (!row) throw notFound("Agent", id);
      return c.json(agentView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags: ["Agents"],
      summary: "Change an agent",
      middleware: requireJsonBody,
      request: { params: agentId, body: jsonBody(updateAgentSchema, "Only the fields given change.") },
      responses: { 200: json(agentSchema, "The agent as it now is."), ...errors([...TENANT_ERRORS, 404, 415]) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      checkStreamUrl(c.env, body.stream_url);
      const { id } = c.req.valid("param");
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
      return c.json(agentView(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["Agents"],
      summary: "Delete an agent",
      request: { params: agentId },
      responses: {
        204: noContent("Deleted."),
        ...errors([...TENANT_ERRORS, 404, 409], { 409: "A campaign that is not finished uses the agent; stop or delete it first." }),
      },
    }),
    async (c) => {
      const db = database(c.env);
      const { id } = c.req.valid("param");
      const row = await findInAccount(db, agents, c.var.caller.accountId, id);
      if (!row) throw notFound("Agent", id);
      const users = await liveCampaignsUsing(db, "agentId", id);
      if (users.length > 0) {
        throw conflict(`Agent ${id} is used by campaign ${users.map((u) => u.id).join(", ")}; stop or delete those campaigns first.`);
      }
      await db.delete(agents).where(eq(agents.id, id));
      return c.body(null, 204);
    },
  );
