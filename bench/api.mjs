// API reads: the same load against this checkout and against an earlier commit (--baseline,
// default daadac4, the commit before the routes moved to @hono/zod-openapi and D1 sessions), one
// after the other on the same machine, each on a fresh `wrangler dev`.
// (a) reads: --clients clients each read in turn the campaigns list, a draft campaign of 1,000
//     contacts and its first contacts page, for --seconds;
// (b) mixed: the same clients each create a 20-contact campaign, start it, read it and its contacts
//     until it completes (the simulator at time scale 0 dials meanwhile), then list campaigns.
// Prints requests/s of each, per target, --rounds times alternating.
//
// Options: --clients=20  --seconds=20  --rounds=1  --baseline=daadac4  --port=8890  --parts=reads,mixed
import { baselineCheckout } from "./baseline.mjs";
import { answeredCsv, median, provisionTenant, startServer } from "./server.mjs";

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
  return { perSecond: requests / ((performance.now() - started) / 1000), requests, failures };
}

async function get(server, tenant, path) {
  const res = await fetch(`${server.origin}${path}`, { headers: { Authorization: `Bearer ${tenant.key}` } });
  await res.arrayBuffer();
  return res.status === 200 ? 0 : 1;
}

async function measure({ root, port, clients, seconds, parts }) {
  const server = await startServer({ port, root, vars: { SIMULATOR_TIME_SCALE: "0" } });
  try {
    const tenant = await provisionTenant(server, CAPS);
    const draft = await create(server, tenant, answeredCsv(1_000, "700"), "Draft");
    const readPaths = ["/api/v1/campaigns", `/api/v1/campaigns/${draft}`, `/api/v1/campaigns/${draft}/contacts?limit=100`];
    // Warm-up, unmeasured: compiles the routes and fills whatever the isolate keeps.
    for (const path of readPaths) await get(server, tenant, path);
    const result = {};
    if (parts.includes("reads")) {
      result.reads = await load(clients, seconds, async (n, i) => ({
        requests: 1,
        failures: await get(server, tenant, readPaths[(n + i) % readPaths.length]),
      }));
      // One client alone, each path in turn: where a read's time goes, without the queueing of 20 clients.
      result.alone = {};
      for (const [name, path] of [
        ["healthz", "/healthz"],
        ["list", readPaths[0]],
        ["campaign", readPaths[1]],
        ["contacts", readPaths[2]],
        ["agents", "/api/v1/agents"],
      ]) {
        const times = [];
        for (let k = 0; k < 100; k++) {
          const t0 = performance.now();
          await get(server, tenant, path);
          times.push(performance.now() - t0);
        }
        result.alone[name] = median(times);
      }
    }
    if (parts.includes("mixed")) {
      result.mixed = await load(clients, seconds, async (n, i) => {
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
    }
    return result;
  } finally {
    await server.stop();
  }
}

export async function benchApi(options = {}) {
  const clients = Number(options.clients ?? 20);
  const seconds = Number(options.seconds ?? 20);
  const rounds = Math.max(1, Number(options.rounds ?? 1));
  const port = Number(options.port ?? 8890);
  const baseline = options.baseline ?? "daadac4";
  const parts = (options.parts ?? "reads,mixed").split(",");
  const targets = [
    { label: "this checkout", root: undefined },
    { label: `${baseline} (before)`, root: baselineCheckout(baseline) },
  ];
  const runs = new Map(targets.map((t) => [t.label, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      runs.get(target.label).push(await measure({ root: target.root, port, clients, seconds, parts }));
    }
  }
  console.log(`api: ${clients} clients for ${seconds} s per part, ${rounds} round(s), targets alternating`);
  console.log(`  ${"target".padEnd(24)} ${parts.map((p) => `${p} req/s`.padStart(22)).join("")}`);
  for (const [label, list] of runs) {
    const cells = parts.map((p) => {
      const values = list.map((r) => r[p].perSecond);
      const failed = list.reduce((n, r) => n + r[p].failures, 0);
      return `${values.map((v) => v.toFixed(1)).join(", ")}${rounds > 1 ? ` (median ${median(values).toFixed(1)})` : ""}${failed ? ` ${failed} failed` : ""}`.padStart(
        22,
      );
    });
    console.log(`  ${label.padEnd(24)} ${cells.join("")}`);
  }
  if (parts.includes("reads")) {
    console.log("  one client alone, median ms per read (list, campaign, contacts page, agents):");
    for (const [label, list] of runs) {
      const names = Object.keys(list[0].alone);
      console.log(`    ${label.padEnd(22)} ${names.map((n) => `${n} ${median(list.map((r) => r.alone[n])).toFixed(2)}`).join(", ")}`);
    }
  }
  return [...runs.values()].every((list) => list.every((r) => parts.every((p) => r[p].failures === 0)));
}
