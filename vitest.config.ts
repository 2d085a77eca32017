import { generateKeyPairSync } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";

// A throwaway signing key per run: the Worker trusts its public half, tests sign with the private half.
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicJwk = { ...publicKey.export({ format: "jwk" }), kid: "test", alg: "ES256", use: "sig" };
const privateJwk = { ...privateKey.export({ format: "jwk" }), kid: "test", alg: "ES256" };

// Five projects, one `vitest run`: the Worker's own tests inside the Workers runtime, the browser
// tests in Node driving a real Chromium against `wrangler dev`, the Python SDK's pytest suite against
// another `wrangler dev`, the CLI run as a command against its own `wrangler dev`, and the checks' own tests in Node.
export default defineConfig(async () => ({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            remoteBindings: false,
            miniflare: {
              bindings: {
                ADMIN_TOKEN: "test-admin-token",
                API_KEY_PEPPER: "test-pepper",
                SECRETS_KEY: "test-secrets-key",
                JWT_JWKS: JSON.stringify({ keys: [publicJwk] }),
                JWT_ISSUER: "https://auth.test",
                JWT_AUDIENCE: "edgedial-test",
                SIMULATOR_ENABLED: "true",
                SIMULATOR_TIME_SCALE: "1",
                TEST_JWT_PRIVATE: JSON.stringify(privateJwk),
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
              },
            },
          }),
        ],
        test: {
          name: "workers",
          setupFiles: ["./test/setup.ts"],
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, "test/browser/**", "test/tooling/**", "test/python/**", "test/cli/**"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "browser",
          environment: "node",
          include: ["test/browser/**/*.test.ts"],
          globalSetup: ["./test/browser/global-setup.ts"],
          // One wrangler dev and one Chromium per file on a small machine: the files take turns.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "python",
          environment: "node",
          include: ["test/python/**/*.test.ts"],
          globalSetup: ["./test/python/global-setup.ts"],
          // The pytest runs share one wrangler dev and its tenant: one at a time.
          fileParallelism: false,
          // Live campaigns run to their end, callbacks included (the simulated agent asks for one a simulated hour away, at least 60 s).
          testTimeout: 300_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "cli",
          environment: "node",
          include: ["test/cli/**/*.test.ts"],
          globalSetup: ["./test/cli/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "tooling",
          environment: "node",
          include: ["test/tooling/**/*.test.ts"],
          // Each case runs the real dependency-cruiser or knip on a copy of the project: seconds, not milliseconds.
          testTimeout: 60_000,
        },
      },
    ],
  },
}));
