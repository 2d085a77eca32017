#!/usr/bin/env node
// npm start: local secrets, D1 migrations, `wrangler dev` on 127.0.0.1:8787, and a demo account on first start.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const origin = "http://127.0.0.1:8787";
const devVars = join(root, ".dev.vars");
const demoFile = join(root, ".wrangler", "demo.json");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
// Local only: wrangler would otherwise fetch a Request.cf sample from the internet on every start.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

function readVars(path) {
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (match) vars[match[1]] = match[2];
  }
  return vars;
}

function ensureDevVars() {
  if (existsSync(devVars)) return readVars(devVars);
  const secret = () => randomBytes(24).toString("base64url");
  const vars = {
    ADMIN_TOKEN: secret(),
    API_KEY_PEPPER: secret(),
    SECRETS_KEY: secret(),
    SIMULATOR_ENABLED: "true",
    SIMULATOR_TIME_SCALE: "0.05",
  };
  writeFileSync(
    devVars,
    `${Object.entries(vars)
      .map(([k, v]) => `${k}="${v}"`)
      .join("\n")}\n`,
    { mode: 0o600 },
  );
  console.log("Wrote .dev.vars with fresh local secrets (git ignores it).");
  return vars;
}

async function request(method, path, token, body) {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json", ...(body && { "Content-Type": "application/json" }) },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function must(method, path, token, body, okStatus = [200, 201]) {
  const res = await request(method, path, token, body);
  if (!okStatus.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function waitForHealth(child) {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error("wrangler dev exited before it was ready");
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("wrangler dev did not answer /healthz within 60 s");
}

async function provisionDemo(adminToken) {
  if (existsSync(demoFile)) {
    const saved = JSON.parse(readFileSync(demoFile, "utf8"));
    if ((await request("GET", "/api/v1/call-limits", saved.key)).status === 200) return saved;
  }
  await must("POST", "/admin/v1/accounts", adminToken, { id: "demo", name: "Demo" }, [201, 409]);
  const { key } = await must("POST", "/admin/v1/accounts/demo/api-keys", adminToken, { name: "demo" });
  const agent = await must("POST", "/api/v1/agents", key, { name: "Demo agent", status: "active", stream_url: "wss://agent.example/stream" });
  const provider = await must("POST", "/api/v1/telephony/providers", key, { provider: "simulator", name: "Local simulator" });
  const number = await must("POST", "/api/v1/telephony/numbers", key, { e164: "+15005550006", credentials_id: provider.id, provider: "simulator" });
  const demo = { key, agent_id: agent.id, phone_number_id: number.id };
  mkdirSync(dirname(demoFile), { recursive: true });
  writeFileSync(demoFile, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

const vars = ensureDevVars();
const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], { cwd: root, stdio: "inherit", env: { ...process.env, CI: "true" } });
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn(wrangler, ["dev", "--ip", "127.0.0.1", "--port", "8787", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));

try {
  await waitForHealth(dev);
  // A restart can lose Durable Object alarms: running and scheduled campaigns carry on.
  await must("POST", "/admin/v1/maintenance/rearm", vars.ADMIN_TOKEN, {});
  const demo = await provisionDemo(vars.ADMIN_TOKEN);
  console.log(`
edgedial is running on ${origin} (demo account "demo"; admin token in .dev.vars).
Create a campaign from the example contacts:

curl -s ${origin}/api/v1/campaigns \\
  -H "Authorization: Bearer ${demo.key}" \\
  -F name="Demo campaign" -F agent_id=${demo.agent_id} -F phone_number_id=${demo.phone_number_id} \\
  -F contacts=@examples/contacts.csv
`);
} catch (error) {
  console.error(`Demo provisioning failed: ${error.message}`);
}
