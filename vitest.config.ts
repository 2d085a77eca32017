import { generateKeyPairSync } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// A throwaway signing key per run: the Worker trusts its public half, tests sign with the private half.
const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicJwk = { ...publicKey.export({ format: "jwk" }), kid: "test", alg: "ES256", use: "sig" };
const privateJwk = { ...privateKey.export({ format: "jwk" }), kid: "test", alg: "ES256" };

export default defineConfig(async () => ({
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
    setupFiles: ["./test/setup.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
  },
}));
