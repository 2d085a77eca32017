import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { provisionTenant, startServer } from "../../bench/server.mjs";

/** The CLI tests' `wrangler dev`: off the browser tests' 8840s and the Python tests' 8850s. */
const CLI_PORT = 8860;

interface Tenant {
  key: string;
  agentId: string;
  numberId: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    cli: { origin: string; tenant: Tenant; brokenCarrier: Tenant };
  }
}

/** A caller number on a Twilio account whose token the carrier (the simulator, as Twilio) refuses. */
async function refusedNumber(origin: string, key: string): Promise<string> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${origin}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const credentials = { account_sid: `AC${randomBytes(16).toString("hex")}`, auth_token: "not-the-carriers-token" };
  const provider = await post("/api/v1/telephony/providers", { provider: "twilio", credentials });
  return (await post("/api/v1/telephony/numbers", { e164: "+15005550007", credentials_id: provider.id, provider: "twilio" })).id;
}

/**
 * Builds the CLI as `npm install` does, then starts one throwaway `wrangler dev` with fast
 * simulated calls and a tenant with two numbers: one on the simulator, and one whose Twilio
 * credentials the (simulated) carrier refuses, so its campaigns fail.
 */
export default async function setup(project: TestProject) {
  const root = resolve(import.meta.dirname, "../..");
  execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", "cli/tsconfig.json"], { cwd: root, stdio: "inherit" });
  const server = await startServer({
    port: CLI_PORT,
    inspectorPort: CLI_PORT + 9,
    vars: { SIMULATOR_TIME_SCALE: "0.01", TWILIO_API_BASE: `http://127.0.0.1:${CLI_PORT}/simulator` },
  });
  try {
    const tenant = await provisionTenant(server);
    const brokenCarrier = { ...tenant, numberId: await refusedNumber(server.origin, tenant.key) };
    project.provide("cli", { origin: server.origin, tenant, brokenCarrier });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return () => server.stop();
}
