// Starts `wrangler dev` on loopback with throwaway state and provisions a tenant over HTTP.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const checkout = new URL("..", import.meta.url).pathname;

/** BENCH_PORT moves the server (and BENCH_PORT+1 the external carrier) off the defaults. */
const basePort = Number(process.env.BENCH_PORT ?? 8788);

/**
 * @param {{ port?: number, vars?: Record<string, string>, inspectorPort?: number, root?: string, config?: string }} [options]
 * `root`: another checkout to serve (bench/baseline.mjs); `config`: a wrangler config file other than the checkout's own.
 */
export async function startServer({ port = basePort, vars = {}, inspectorPort, root = checkout, config } = {}) {
  const wrangler = join(root, "node_modules", ".bin", "wrangler");
  const state = mkdtempSync(join(tmpdir(), "edgedial-bench-"));
  // X_LOCAL_OBSERVABILITY: no local trace collector, whose cancelled tail sessions print ERROR blocks through long runs (docs/local-development.md).
  const env = {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    CI: "true",
    X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
  };
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env, encoding: "utf8" });
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  const adminToken = randomBytes(16).toString("hex");
  const allVars = {
    ADMIN_TOKEN: adminToken,
    API_KEY_PEPPER: randomBytes(16).toString("hex"),
    SECRETS_KEY: randomBytes(16).toString("hex"),
    SIMULATOR_ENABLED: "true",
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    ...vars,
  };
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--log-level", process.env.BENCH_LOG ?? "warn"];
  for (const [k, v] of Object.entries(allVars)) args.push("--var", `${k}:${v}`);
  if (inspectorPort) args.push("--inspector-port", String(inspectorPort));
  if (config) args.push("--config", config);
  const child = spawn(wrangler, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
  const origin = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  // Resolves once wrangler has exited, so the next server can take the same port.
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(state, { recursive: true, force: true });
  };
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error("wrangler dev exited early");
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return { origin, adminToken, stop, pid: child.pid };
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error("wrangler dev did not become ready");
}

/** The simulator's auth token for an account sid, as src/carriers/registry.ts derives it. */
/**
 * The checkout's wrangler.toml without its `[assets]` table (and the comment above it), written
 * beside it as `wrangler.bench-<name>.toml` (wrangler resolves `main` and `migrations_dir` from the
 * config's own directory); the caller removes it. Served from it, `wrangler dev` runs the Worker
 * with nothing in front: no local stand-in for Cloudflare's asset routing, which in production
 * runs on Cloudflare's side, not on the Worker's thread.
 */
export function workerAloneConfig(root, name) {
  const lines = readFileSync(join(root, "wrangler.toml"), "utf8").split("\n");
  const start = lines.findIndex((line) => line.trim() === "[assets]");
  if (start < 0) throw new Error("wrangler.toml has no [assets] table to leave out");
  let from = start;
  while (from > 0 && lines[from - 1].startsWith("#")) from--;
  let to = start + 1;
  while (to < lines.length && !/^\s*\[/.test(lines[to])) to++;
  const path = join(root, `wrangler.bench-${name}.toml`);
  writeFileSync(path, [...lines.slice(0, from), ...lines.slice(to)].join("\n"));
  return path;
}

export async function simulatorToken(secretsKey, accountSid) {
  const { createHmac } = await import("node:crypto");
  return createHmac("sha256", `simulator:${secretsKey}`).update(accountSid).digest("hex");
}

/**
 * A second `wrangler dev` that only plays the carrier: edgedial reaches it as Twilio through
 * TWILIO_API_BASE, so the carrier's work runs in its own process, as a real carrier's would.
 */
export async function startExternalCarrier({ port = basePort + 1, timeScale = "0" } = {}) {
  const secretsKey = randomBytes(16).toString("hex");
  const carrier = await startServer({ port, vars: { SECRETS_KEY: secretsKey, SIMULATOR_TIME_SCALE: timeScale } });
  const accountSid = `AC${randomBytes(16).toString("hex")}`;
  return {
    ...carrier,
    apiBase: `${carrier.origin}/simulator`,
    credentials: { account_sid: accountSid, auth_token: await simulatorToken(secretsKey, accountSid) },
  };
}

/** An account with an active agent and a number: on the external carrier (as Twilio) when given, else on the simulator in `dialect`. */
export async function provisionTenant({ origin, adminToken }, caps = {}, carrier = null, { dialect = "twilio" } = {}) {
  const post = async (path, token, body) => {
    const res = await fetch(`${origin}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const id = `bench-${randomBytes(4).toString("hex")}`;
  await post("/admin/v1/accounts", adminToken, { id, ...caps });
  const { key } = await post(`/admin/v1/accounts/${id}/api-keys`, adminToken, { name: "bench" });
  const agent = await post("/api/v1/agents", key, { name: "Bench agent", status: "active", stream_url: "wss://agent.bench/stream" });
  const kind = carrier ? "twilio" : "simulator";
  const credentials = carrier ? carrier.credentials : { dialect };
  const provider = await post("/api/v1/telephony/providers", key, { provider: kind, credentials });
  const number = await post("/api/v1/telephony/numbers", key, { e164: "+15005550006", credentials_id: provider.id, provider: kind });
  return { accountId: id, key, agentId: agent.id, numberId: number.id };
}

/** The middle value; with an even count, the mean of the two middle ones. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A contacts CSV whose numbers the simulator always answers (last two digits below 70): each contact is dialled exactly once. */
export function answeredCsv(count, prefix) {
  const lines = ["phone_number,first_name"];
  for (let i = 0; i < count; i++) lines.push(`+1${prefix}${String(Math.floor(i / 70) * 100 + (i % 70)).padStart(6, "0")},P${i}`);
  return `${lines.join("\n")}\n`;
}

/** The dispatcher's view of a campaign (the operator route). */
export const dispatchView = async (server, id) =>
  (await fetch(`${server.origin}/admin/v1/campaigns/${id}/dispatch`, { headers: { Authorization: `Bearer ${server.adminToken}` } })).json();

/** Creates a campaign from CSV text (and any other form `fields`) and starts it; answers its id and when the start was asked for. */
export async function createAndStart(server, tenant, { name, csv, maxConcurrent, fields = {} }) {
  const auth = { Authorization: `Bearer ${tenant.key}` };
  const form = new FormData();
  form.set("name", name);
  form.set("agent_id", tenant.agentId);
  form.set("phone_number_id", tenant.numberId);
  form.set("max_concurrent_calls", String(maxConcurrent));
  for (const [key, value] of Object.entries(fields)) form.set(key, value);
  form.set("contacts", new Blob([csv], { type: "text/csv" }), "contacts.csv");
  const created = await (await fetch(`${server.origin}/api/v1/campaigns`, { method: "POST", headers: auth, body: form })).json();
  const startedAt = Date.now();
  const start = await fetch(`${server.origin}/api/v1/campaigns/${created.id}/start`, { method: "POST", headers: auth });
  if (start.status !== 200) throw new Error(`start failed: ${start.status} ${await start.text()}`);
  return { id: created.id, startedAt };
}

/** Polls a campaign every 50 ms until it is completed or failed, and answers it; `onPoll` sees each earlier poll and may throw. */
export async function untilFinished(server, tenant, id, onPoll = async () => {}) {
  const auth = { Authorization: `Bearer ${tenant.key}` };
  for (;;) {
    const campaign = await (await fetch(`${server.origin}/api/v1/campaigns/${id}`, { headers: auth })).json();
    if (campaign.status === "completed" || campaign.status === "failed") return campaign;
    await onPoll(campaign);
    await new Promise((r) => setTimeout(r, 50));
  }
}
