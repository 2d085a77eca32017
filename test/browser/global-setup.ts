import type { TestProject } from "vitest/node";
import { startServer } from "../../bench/server.mjs";
import { WORKER_PORT } from "./ports";

declare module "vitest" {
  export interface ProvidedContext {
    worker: { origin: string; adminToken: string };
  }
}

/** One `wrangler dev` with throwaway state for every browser test file: fast simulated calls, short-lived events tokens. */
export default async function setup(project: TestProject) {
  const server = await startServer({
    port: WORKER_PORT,
    inspectorPort: WORKER_PORT + 9,
    vars: { SIMULATOR_TIME_SCALE: "0.01", EVENTS_TOKEN_TTL_SECONDS: "10" },
  });
  project.provide("worker", { origin: server.origin, adminToken: server.adminToken });
  return () => server.stop();
}
