#!/usr/bin/env node
// npm start: local secrets, D1 migrations, `wrangler dev` on 127.0.0.1:8787, and a demo account on first start.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoKeyWorks, provisionDemo, SIM_AGENT_STREAM, useSimAgent } from "./demo.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const origin = "http://127.0.0.1:8787";
const devVars = join(root, ".dev.vars");
const demoFile = join(root, ".wrangler", "demo.json");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
// Local only: wrangler would otherwise fetch a Request.cf sample from the internet on every start.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
// Wrangler's local trace collector cancels its tail sessions under sustained load and prints each as an ERROR; edgedial reads none of its traces.
process.env.X_LOCAL_OBSERVABILITY ??= "false";

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

async function demoAccount(adminToken) {
  if (existsSync(demoFile)) {
    const saved = JSON.parse(readFileSync(demoFile, "utf8"));
    if (await demoKeyWorks(origin, saved.key)) {
      await useSimAgent(origin, saved);
      return saved;
    }
  }
  const demo = await provisionDemo(origin, adminToken, { streamUrl: SIM_AGENT_STREAM });
  mkdirSync(dirname(demoFile), { recursive: true });
  writeFileSync(demoFile, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

async function rearm(adminToken) {
  const res = await fetch(`${origin}/admin/v1/maintenance/rearm`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}` } });
  if (!res.ok) throw new Error(`re-arming live campaigns answered ${res.status}: ${await res.text()}`);
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
  await rearm(vars.ADMIN_TOKEN);
  const demo = await demoAccount(vars.ADMIN_TOKEN);
  // The key travels in the URL fragment, which no server sees; the dashboard moves it into sessionStorage and strips it at once.
  console.log(`
edgedial is running on ${origin} (demo account "demo"; admin token in .dev.vars).

Open the dashboard, signed in as the demo account:

  ${origin}/#key=${demo.key}

Drop examples/contacts.csv on "New campaign", create it and start it. The simulated agent reports
results as the calls go: dispositions, one callback (dialled again a simulated hour later) and one
opt-out (on the do-not-call list). Or, with curl:

curl -s ${origin}/api/v1/campaigns \\
  -H "Authorization: Bearer ${demo.key}" \\
  -F name="Demo campaign" -F agent_id=${demo.agent_id} -F phone_number_id=${demo.phone_number_id} \\
  -F contacts=@examples/contacts.csv
`);
} catch (error) {
  console.error(`Demo provisioning failed: ${error.message}`);
}
