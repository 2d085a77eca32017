import { generateKeyPairSync } from "node:crypto";
import type { TestProject } from "vitest/node";
import { startServer } from "../../bench/server.mjs";
import { WORKER_PORT } from "./ports";

declare module "vitest" {
  export interface ProvidedContext {
    worker: { origin: string; adminToken: string; jwt: { privateJwk: string; issuer: string; audience: string } };
  }
}

/**
 * One `wrangler dev` with throwaway state for every browser test file: fast simulated calls,
 * events tokens that expire within a test, and a session-token issuer the tests sign for.
 */
export default async function setup(project: TestProject) {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwt = {
    issuer: "https://auth.browser.test",
    audience: "edgedial-browser",
    privateJwk: JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: "browser" }),
  };
  const server = await startServer({
    port: WORKER_PORT,
    inspectorPort: WORKER_PORT + 9,
    vars: {
      SIMULATOR_TIME_SCALE: "0.01",
      EVENTS_TOKEN_TTL_SECONDS: "10",
      JWT_JWKS: JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid: "browser", alg: "ES256", use: "sig" }] }),
      JWT_ISSUER: jwt.issuer,
      JWT_AUDIENCE: jwt.audience,
    },
  });
  project.provide("worker", { origin: server.origin, adminToken: server.adminToken, jwt });
  return () => server.stop();
}
