import type { TestProject } from "vitest/node";
import { startServer } from "../../bench/server.mjs";
import { provisionDemo, SIM_AGENT_STREAM } from "../../scripts/demo.mjs";

/** 8840-8843 belong to the browser tests; the inspector takes WORKER_PORT + 9. */
const WORKER_PORT = 8850;

declare module "vitest" {
  export interface ProvidedContext {
    pythonTenant: { origin: string; key: string; agentId: string; numberId: string };
  }
}

/**
 * One throwaway `wrangler dev` for the Python SDK's tests, with a tenant provisioned as `npm start`
 * provisions its demo (simulated agent included), so docs/python.md runs against it as written.
 */
export default async function setup(project: TestProject) {
  const server = await startServer({ port: WORKER_PORT, inspectorPort: WORKER_PORT + 9, vars: { SIMULATOR_TIME_SCALE: "0.01" } });
  try {
    const tenant = await provisionDemo(server.origin, server.adminToken, {
      accountId: "python-sdk",
      caps: { concurrent_max: 100, calls_per_minute: 6000 },
      streamUrl: SIM_AGENT_STREAM,
    });
    project.provide("pythonTenant", { origin: server.origin, key: tenant.key, agentId: tenant.agent_id, numberId: tenant.phone_number_id });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return () => server.stop();
}
