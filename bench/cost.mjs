// What a campaign costs: --campaigns campaigns of --contacts answered contacts each, spread over
// --accounts accounts, all running at once on the simulator at time scale 0, with one SSE client
// per campaign. Counts per 1,000 calls the Worker requests, Durable Object requests, D1 rows read
// and written (the server's metered counts, USAGE_METER) and the workerd processes' CPU time, and
// prices them at Cloudflare's published rates (PRICES in bench/usage.mjs). The create (contacts
// written to D1) and the run are counted apart.
//
// Options: --campaigns=20  --contacts=5000  --accounts=4  --concurrent=25 (max_concurrent_calls per campaign)
//          --port=8880  --statements=8 (the D1 statements listed, most rows written first)
import { Agent, get } from "node:http";
import { answeredCsv, provisionTenant, startServer } from "./server.mjs";
import { PRICES, readUsage, settledUsage, usageBetween, workerdCpuMs } from "./usage.mjs";

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

async function createCampaign(server, tenant, { name, csv, maxConcurrent }) {
  const form = new FormData();
  form.set("name", name);
  form.set("agent_id", tenant.agentId);
  form.set("phone_number_id", tenant.numberId);
  form.set("max_concurrent_calls", String(maxConcurrent));
  form.set("contacts", new Blob([csv], { type: "text/csv" }), "contacts.csv");
  const res = await fetch(`${server.origin}/api/v1/campaigns`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` }, body: form });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}

/** One SSE reader: each contact event's delay from its `at` to the arrival of its bytes; resolves at `event: end`. */
function watchCampaign(server, agent, tenant, id, delays) {
  let ready;
  const connected = new Promise((resolve) => {
    ready = resolve;
  });
  const ended = new Promise((resolve, reject) => {
    const request = get(
      `${server.origin}/api/v1/campaigns/${id}/events`,
      { agent, headers: { Authorization: `Bearer ${tenant.key}`, Accept: "text/event-stream" } },
      (response) => {
        if (response.statusCode !== 200) reject(new Error(`events of ${id}: ${response.statusCode}`));
        response.setEncoding("utf8");
        let buffer = "";
        response.on("data", (chunk) => {
          const now = Date.now();
          buffer += chunk;
          const frames = buffer.split("\n\n");
          buffer = frames.pop();
          for (const frame of frames) {
            ready();
            if (frame.startsWith("event: contact\n")) {
              const at = /"at":"([^"]+)"/.exec(frame);
              if (at) delays.push(now - Date.parse(at[1]));
            } else if (frame.startsWith("event: end")) {
              resolve(now);
              request.destroy();
            }
          }
        });
        response.on("error", reject);
      },
    );
    request.on("error", (error) => {
      if (!request.destroyed) reject(error);
    });
  });
  return { connected, ended };
}

const perThousand = (value, calls) => (value * 1000) / calls;
const money = (usd) => (usd < 0.01 ? `$${usd.toFixed(5)}` : `$${usd.toFixed(4)}`);

function printTable(label, usage, calls, cpuMs, objectSeconds) {
  const workerRequests = usage.workerRequests + usage.carrierCallbacks;
  const objectRequests = usage.objectRequests + usage.alarms;
  const lines = [
    ["Worker requests", workerRequests, PRICES.workerRequestPerMillion, `${usage.workerRequests} API + ${usage.carrierCallbacks} carrier callbacks`],
    ["Durable Object requests", objectRequests, PRICES.objectRequestPerMillion, `${JSON.stringify(usage.objectRequestsBy)} + ${usage.alarms} alarms`],
    ["D1 rows read", usage.rowsRead, PRICES.d1RowsReadPerMillion, `${usage.d1Queries} queries`],
    ["D1 rows written", usage.rowsWritten, PRICES.d1RowsWrittenPerMillion, ""],
    ["CPU ms (workerd, all of it)", cpuMs, PRICES.workerCpuMsPerMillion, "an upper bound: the simulator and local D1 run there too"],
  ];
  if (objectSeconds !== null)
    lines.push(["DO duration GB-s (estimate)", objectSeconds * 0.128, PRICES.objectGbSecondPerMillion, "campaign objects × wall time × 128 MB"]);
  console.log(`  ${label}, per 1,000 calls:`);
  console.log(`    ${"item".padEnd(30)} ${"count".padStart(12)} ${"USD".padStart(10)}  note`);
  let total = 0;
  for (const [name, count, price, note] of lines) {
    const usd = (perThousand(count, calls) * price) / 1e6;
    total += usd;
    console.log(`    ${name.padEnd(30)} ${perThousand(count, calls).toFixed(1).padStart(12)} ${money(usd).padStart(10)}  ${note}`);
  }
  console.log(`    ${"total".padEnd(30)} ${"".padStart(12)} ${money(total).padStart(10)}`);
}

export async function benchCost(options = {}) {
  const campaigns = Number(options.campaigns ?? 20);
  const contacts = Number(options.contacts ?? 5_000);
  const accounts = Math.min(campaigns, Number(options.accounts ?? 4));
  const concurrent = Number(options.concurrent ?? 25);
  const port = Number(options.port ?? 8880);
  const shown = Number(options.statements ?? 8);
  const server = await startServer({ port, vars: { SIMULATOR_TIME_SCALE: "0", USAGE_METER: "true" } });
  try {
    const perAccount = Math.ceil(campaigns / accounts);
    const tenants = [];
    for (let a = 0; a < accounts; a++) {
      tenants.push(await provisionTenant(server, { concurrent_max: perAccount * concurrent, calls_per_minute: 1_000_000, daily_calls_max: 10_000_000 }));
    }
    // Unmeasured warm-up: the first campaign also compiles the code and creates the simulator's objects.
    const warm = await createCampaign(server, tenants[0], { name: "Warm-up", csv: answeredCsv(200, "600"), maxConcurrent: concurrent });
    const agent = new Agent({ keepAlive: true, maxSockets: campaigns + 10 });
    const warmWatch = watchCampaign(server, agent, tenants[0], warm, []);
    await warmWatch.connected;
    await fetch(`${server.origin}/api/v1/campaigns/${warm}/start`, { method: "POST", headers: { Authorization: `Bearer ${tenants[0].key}` } });
    await warmWatch.ended;

    const beforeCreate = await settledUsage(server);
    const cpuBeforeCreate = workerdCpuMs(server);
    const ids = [];
    for (let i = 0; i < campaigns; i++) {
      const tenant = tenants[i % accounts];
      ids.push({
        tenant,
        id: await createCampaign(server, tenant, { name: `Cost ${i}`, csv: answeredCsv(contacts, String(610 + i)), maxConcurrent: concurrent }),
      });
    }
    const afterCreate = await settledUsage(server);
    const cpuAfterCreate = workerdCpuMs(server);

    const delays = [];
    const watches = ids.map(({ tenant, id }) => watchCampaign(server, agent, tenant, id, delays));
    await Promise.all(watches.map((w) => w.connected));
    const beforeRun = await readUsage(server);
    const cpuBeforeRun = workerdCpuMs(server);
    const startedAt = Date.now();
    await Promise.all(
      ids.map(async ({ tenant, id }) => {
        const res = await fetch(`${server.origin}/api/v1/campaigns/${id}/start`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` } });
        if (res.status !== 200) throw new Error(`start ${id}: ${res.status} ${await res.text()}`);
      }),
    );
    const endedAt = Math.max(...(await Promise.all(watches.map((w) => w.ended))));
    const afterRun = await settledUsage(server);
    const cpuAfterRun = workerdCpuMs(server);
    agent.destroy();

    let completed = 0;
    for (const { tenant, id } of ids) {
      const campaign = await (await fetch(`${server.origin}/api/v1/campaigns/${id}`, { headers: { Authorization: `Bearer ${tenant.key}` } })).json();
      if (campaign.status !== "completed") throw new Error(`campaign ${id} ended ${campaign.status}: ${campaign.status_reason ?? ""}`);
      completed += campaign.stats.completed;
    }
    const calls = completed;
    const wallSeconds = (endedAt - startedAt) / 1000;
    console.log(
      `cost: ${campaigns} campaigns × ${contacts} contacts over ${accounts} accounts at once, simulator time scale 0, max_concurrent_calls ${concurrent}`,
    );
    console.log(`  ${calls} calls in ${wallSeconds.toFixed(1)} s: ${(calls / wallSeconds).toFixed(1)} calls/s aggregate`);
    console.log(
      `  SSE, ${campaigns} clients (one per campaign), contact change → arrival: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms over ${delays.length} events`,
    );
    const create = usageBetween(beforeCreate, afterCreate);
    const run = usageBetween(beforeRun, afterRun);
    printTable("running (start → end, SSE included)", run, calls, cpuAfterRun - cpuBeforeRun, campaigns * wallSeconds);
    printTable("creating (CSV upload → contacts in D1)", create, calls, cpuAfterCreate - cpuBeforeCreate, null);
    console.log(`  D1 statements while running, most rows written first (per 1,000 calls: queries / rows read / rows written):`);
    for (const s of run.statements.slice(0, shown)) {
      console.log(
        `    ${perThousand(s.queries, calls).toFixed(1).padStart(8)} ${perThousand(s.rowsRead, calls).toFixed(1).padStart(9)} ${perThousand(s.rowsWritten, calls).toFixed(1).padStart(9)}  ${s.sql.slice(0, 110)}`,
      );
    }
    return true;
  } finally {
    await server.stop();
  }
}
