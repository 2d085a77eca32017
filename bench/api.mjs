// API reads: the same load against this checkout and against an earlier commit (--baseline,
// default daadac4, the commit before the routes moved to @hono/zod-openapi and D1 sessions).
//
// Three targets, each on its own fresh `wrangler dev`:
//   - this checkout, Worker alone: served as the baseline is served, by `wrangler dev` with no
//     static assets. daadac4 had no dashboard, so nothing stood in front of its Worker; this is the
//     like-for-like comparison.
//   - this checkout as `npm start` serves it: with `[assets]`, wrangler dev puts its local stand-in
//     for Cloudflare's asset routing (a router worker and an inner entrypoint) in front of every
//     request, in the same workerd process. In production that routing runs on Cloudflare's side
//     and is not the Worker's CPU; locally it shares the two cores with everything else.
//   - the baseline.
// (a) reads: --clients clients each read in turn the campaigns list, a draft campaign of 1,000
//     contacts and its first contacts page. All three servers are up at once and the load moves
//     between them in windows of --window seconds, --windows times each, in alternating order, so
//     whatever else the machine does in a minute falls on all three alike. Prints requests/s, the
//     median window, and workerd CPU ms per read (from /proc).
// (b) one client alone, each path in turn (medians of 100 reads per target, targets interleaved).
// (c) mixed: the same clients each create a 20-contact campaign, start it, read it and its
//     contacts until it completes (the simulator at time scale 0 dials meanwhile), then list
//     campaigns; for --seconds per target, one target at a time, --rounds times alternating.
//
// Options: --clients=20  --window=2  --windows=20  --seconds=20  --rounds=1  --baseline=daadac4
//          --port=8890  --parts=reads,alone,mixed
import { rmSync } from "node:fs";
import { baselineCheckout } from "./baseline.mjs";
import { answeredCsv, checkout, median, provisionTenant, startServer, workerAloneConfig } from "./server.mjs";
import { workerdCpuMs } from "./usage.mjs";

const CAPS = { concurrent_max: 1_000, calls_per_minute: 1_000_000, daily_calls_max: 10_000_000 };
async function create(server, tenant, csv, name) {
  const form = new FormData();
  form.set("name", name);
  form.set("agent_id", tenant.agentId);
  form.set("phone_number_id", tenant.numberId);
  form.set("max_concurrent_calls", "10");
  form.set("contacts", new Blob([csv], { type: "text/csv" }), "contacts.csv");
  const res = await fetch(`${server.origin}/api/v1/campaigns`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` }, body: form });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}

/** Runs `client` in `clients` loops for `seconds`; answers requests per second (each loop reports the requests it made). */
async function load(clients, seconds, client) {
  let requests = 0;
  let failures = 0;
  const until = Date.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, n) => {
      for (let i = 0; Date.now() < until; i++) {
        const r = await client(n, i);
        requests += r.requests;
        failures += r.failures;
      }
    }),
  );
  const ms = performance.now() - started;
  return { perSecond: requests / (ms / 1000), requests, failures, ms };
}

async function get(server, tenant, path) {
  const res = await fetch(`${server.origin}${path}`, { headers: { Authorization: `Bearer ${tenant.key}` } });
  await res.arrayBuffer();
  return res.status === 200 ? 0 : 1;
}

/** A server for `target` with a tenant and a draft campaign of 1,000 contacts, its read paths warmed. */
async function serve(target, port) {
  const server = await startServer({ port, root: target.root, config: target.config, vars: { SIMULATOR_TIME_SCALE: "0" } });
  try {
    const tenant = await provisionTenant(server, CAPS);
    const draft = await create(server, tenant, answeredCsv(1_000, "700"), "Draft");
    const paths = {
      healthz: "/healthz",
      list: "/api/v1/campaigns",
      campaign: `/api/v1/campaigns/${draft}`,
      contacts: `/api/v1/campaigns/${draft}/contacts?limit=100`,
      agents: "/api/v1/agents",
    };
    // Warm-up, unmeasured: compiles the routes and fills whatever the isolate keeps.
    for (let i = 0; i < 20; i++) for (const path of Object.values(paths)) await get(server, tenant, path);
    return { server, tenant, paths };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** (a) and (b), all targets' servers up at once. */
async function measureReads(targets, { port, clients, window, windows, parts }) {
  const live = [];
  try {
    for (const [i, target] of targets.entries())
      live.push({ target, ...(await serve(target, port + i * 3)), requests: 0, ms: 0, cpuMs: 0, failures: 0, windows: [] });
    if (parts.includes("reads")) {
      for (let w = 0; w < windows; w++) {
        for (const t of w % 2 === 0 ? live : [...live].reverse()) {
          const reads = [t.paths.list, t.paths.campaign, t.paths.contacts];
          const cpuBefore = workerdCpuMs(t.server);
          const r = await load(clients, window, async (n, i) => ({ requests: 1, failures: await get(t.server, t.tenant, reads[(n + i) % reads.length]) }));
          t.cpuMs += workerdCpuMs(t.server) - cpuBefore;
          t.requests += r.requests;
          t.ms += r.ms;
          t.failures += r.failures;
          t.windows.push(r.perSecond);
        }
      }
    }
    if (parts.includes("alone")) {
      for (const t of live) t.alone = {};
      for (const name of Object.keys(live[0].paths)) {
        for (const t of live) t.alone[name] = [];
        for (let k = 0; k < 100; k++) {
          for (const t of live) {
            const t0 = performance.now();
            t.failures += await get(t.server, t.tenant, t.paths[name]);
            t.alone[name].push(performance.now() - t0);
          }
        }
      }
    }
    return live.map((t) => ({
      label: t.target.label,
      reads: t.requests > 0 ? { perSecond: t.requests / (t.ms / 1000), medianWindow: median(t.windows), cpuMsPerRead: t.cpuMs / t.requests } : null,
      alone: t.alone ? Object.fromEntries(Object.entries(t.alone).map(([name, times]) => [name, median(times)])) : null,
      failures: t.failures,
    }));
  } finally {
    for (const t of live) await t.server.stop();
  }
}

/** (c) for one target on its own server. */
async function measureMixed(target, { port, clients, seconds }) {
  const { server, tenant } = await serve(target, port);
  try {
    return await load(clients, seconds, async (n, i) => {
      let requests = 1;
      let failures = 0;
      const id = await create(server, tenant, answeredCsv(20, String(710 + ((n * 37 + i) % 80))), `Mixed ${n}.${i}`);
      const start = await fetch(`${server.origin}/api/v1/campaigns/${id}/start`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` } });
      await start.arrayBuffer();
      requests++;
      if (start.status !== 200) failures++;
      for (let polls = 0; polls < 200; polls++) {
        const res = await fetch(`${server.origin}/api/v1/campaigns/${id}`, { headers: { Authorization: `Bearer ${tenant.key}` } });
        const campaign = await res.json();
        failures += await get(server, tenant, `/api/v1/campaigns/${id}/contacts?limit=20`);
        requests += 2;
        if (campaign.status === "completed" || campaign.status === "failed") break;
      }
      failures += await get(server, tenant, "/api/v1/campaigns");
      return { requests: requests + 1, failures };
    });
  } finally {
    await server.stop();
  }
}

export async function benchApi(options = {}) {
  const clients = Number(options.clients ?? 20);
  const window = Number(options.window ?? 2);
  const windows = Math.max(1, Number(options.windows ?? 20));
  const seconds = Number(options.seconds ?? 20);
  const rounds = Math.max(1, Number(options.rounds ?? 1));
  const port = Number(options.port ?? 8890);
  const baseline = options.baseline ?? "daadac4";
  const parts = (options.parts ?? "reads,alone,mixed").split(",");
  const config = workerAloneConfig(checkout, "api");
  try {
    const targets = [
      { label: "this checkout, Worker alone", root: checkout, config },
      { label: "this checkout via the dev asset router", root: checkout },
      { label: `${baseline} (before)`, root: baselineCheckout(baseline) },
    ];
    let ok = true;
    const cell = (value, width) => String(value).padStart(width);
    if (parts.includes("reads") || parts.includes("alone")) {
      const results = await measureReads(targets, { port, clients, window, windows, parts });
      ok = results.every((r) => r.failures === 0);
      const base = results.at(-1);
      if (parts.includes("reads")) {
        console.log(`api reads: ${clients} clients, ${windows} windows of ${window} s per target, servers up together, windows alternating`);
        console.log(`  ${"target".padEnd(40)}${cell("req/s", 9)}${cell("median window", 15)}${cell("CPU ms/read", 13)}${cell("vs before", 11)}`);
        for (const r of results) {
          const against = r === base ? "" : `${((r.reads.perSecond / base.reads.perSecond - 1) * 100).toFixed(1)}%`;
          console.log(
            `  ${r.label.padEnd(40)}${cell(r.reads.perSecond.toFixed(1), 9)}${cell(r.reads.medianWindow.toFixed(1), 15)}${cell(r.reads.cpuMsPerRead.toFixed(2), 13)}${cell(against, 11)}${r.failures ? ` ${r.failures} failed` : ""}`,
          );
        }
      }
      if (parts.includes("alone")) {
        console.log("  one client alone, median ms per read (100 each, targets interleaved):");
        for (const r of results)
          console.log(
            `    ${r.label.padEnd(40)} ${Object.entries(r.alone)
              .map(([n, ms]) => `${n} ${ms.toFixed(2)}`)
              .join(", ")}`,
          );
      }
    }
    if (parts.includes("mixed")) {
      const runs = new Map(targets.map((t) => [t.label, []]));
      for (let round = 0; round < rounds; round++) {
        for (const target of round % 2 === 0 ? targets : [...targets].reverse())
          runs.get(target.label).push(await measureMixed(target, { port, clients, seconds }));
      }
      console.log(`api mixed: ${clients} clients for ${seconds} s per target, ${rounds} round(s), one target at a time`);
      for (const [label, list] of runs) {
        const values = list.map((r) => r.perSecond);
        const failed = list.reduce((n, r) => n + r.failures, 0);
        if (failed) ok = false;
        console.log(
          `  ${label.padEnd(40)} ${values.map((v) => v.toFixed(1)).join(", ")} req/s${rounds > 1 ? ` (median ${median(values).toFixed(1)})` : ""}${failed ? ` ${failed} failed` : ""}`,
        );
      }
    }
    return ok;
  } finally {
    rmSync(config, { force: true });
  }
}
