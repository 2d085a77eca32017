// Webhooks: 10,000-contact campaigns at simulator time scale 0, one account without an endpoint
// and one with an endpoint on 127.0.0.1 (a node:http receiver in this process), in one run of
// `wrangler dev`: a warm-up, then without and with in turn, ending without (--rounds pairs).
// Each run with the endpoint is compared with the runs on either side of it, so a machine that
// speeds up or slows down over the run moves both sides alike. Prints dispatch calls/s for each,
// CPU per call, deliveries/s, and the delay from each transition (the message's own timestamp)
// to its arrival.
//
// Options: --contacts=10000  --rounds=2  --port=8830 (the receiver listens on port + 1)
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { answeredCsv, createAndStart, dispatchView, median, provisionTenant, startServer, untilFinished } from "./server.mjs";

const FAST = { concurrent_max: 100, calls_per_minute: 1_000_000, daily_calls_max: 1_000_000 };

/** CPU seconds used so far by a process and all its descendants (wrangler, workerd, esbuild), from /proc. */
function cpuSeconds(rootPid, byProcess = {}) {
  const stats = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Fields after the command name: state ppid … utime(12) stime(13), counted from the closing parenthesis.
      const text = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {}
  }
  const family = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, s] of stats) {
      if (family.has(pid) || !family.has(s.ppid)) continue;
      family.add(pid);
      grew = true;
    }
  }
  let ticks = 0;
  for (const pid of family) {
    ticks += stats.get(pid)?.ticks ?? 0;
    byProcess[pid] = (stats.get(pid)?.ticks ?? 0) / 100;
  }
  return ticks / 100;
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** A receiver that answers 200 at once and stamps each request when its body has arrived. */
function startReceiver(port) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      requests.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ requests, close: () => server.close() })));
}

async function runCampaign(server, tenant, { contacts, prefix }, options = {}) {
  const { id, startedAt } = await createAndStart(server, tenant, { name: `Webhook bench ${prefix}`, csv: answeredCsv(contacts, prefix), maxConcurrent: 100 });
  const campaign = await untilFinished(server, tenant, id);
  const wallMs = Date.now() - startedAt;
  const view = await dispatchView(server, id);
  if (options.verbose) console.log("  outbox at completion:", JSON.stringify(view.webhooks));
  if (campaign.stats.completed !== contacts) throw new Error(`campaign ${id} ended ${campaign.status} with ${campaign.stats.completed} of ${contacts}`);
  return { id, dials: view.originations.length, wallMs, callsPerSecond: view.originations.length / (wallMs / 1000), endedAt: Date.now() };
}

export async function benchWebhooks(options = {}) {
  const contacts = Number(options.contacts ?? 10_000);
  const rounds = Math.max(1, Number(options.rounds ?? 2));
  const port = Number(options.port ?? 8830);
  const receiver = await startReceiver(port + 1);
  const server = await startServer({ port, vars: { SIMULATOR_TIME_SCALE: "0" } });
  try {
    const plain = await provisionTenant(server, FAST);
    const hooked = await provisionTenant(server, FAST);
    const created = await fetch(`${server.origin}/api/v1/webhooks`, {
      method: "POST",
      headers: { Authorization: `Bearer ${hooked.key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ url: `http://127.0.0.1:${port + 1}/hook` }),
    });
    if (created.status !== 201) throw new Error(`endpoint create failed: ${created.status} ${await created.text()}`);
    const { secret } = await created.json();

    // CPU of wrangler and its workerd per dial, besides wall-clock calls/s: other work on the machine moves the latter.
    const measured = async (tenant, prefix, untilDone = async () => {}) => {
      const startedBy = {};
      const cpu = cpuSeconds(server.pid, startedBy);
      const run = await runCampaign(server, tenant, { contacts, prefix }, options);
      const cpuAtCompletion = cpuSeconds(server.pid);
      const arrivedAtCompletion = receiver.requests.length;
      await untilDone();
      const endedBy = {};
      const cpuAfter = cpuSeconds(server.pid, endedBy);
      // After the dial-out only deliveries run: their CPU per request, alone.
      const drainedRequests = receiver.requests.length - arrivedAtCompletion;
      run.cpuMsPerDrainedDelivery = drainedRequests > 0 ? ((cpuAfter - cpuAtCompletion) * 1000) / drainedRequests : null;
      // wrangler restarts workerd when a watched file changes: the CPU of the process it replaced is gone.
      const restarted = Object.keys(startedBy).some((pid) => !(pid in endedBy));
      if (restarted) console.log(`  (the dev server restarted during campaign ${prefix}: its CPU figure is not valid)`);
      return { ...run, cpuMsPerCall: restarted ? Number.NaN : ((cpuAfter - cpu) * 1000) / run.dials };
    };
    const perCampaign = contacts + 2; // every contact.completed, campaign.started and campaign.completed
    const expected = perCampaign * rounds;
    const arrived = () => new Set(receiver.requests.map((r) => r.headers["webhook-id"])).size;
    const drained = (upTo) => async () => {
      const deadline = Date.now() + 600_000;
      while (arrived() < upTo && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };
    // Unmeasured warm-up: the first campaign on a fresh server also pays for compiling and creating the simulator's objects.
    await runCampaign(server, plain, { contacts: Math.min(1_000, contacts), prefix: "550" });
    const without = [await measured(plain, "560")];
    const hookedRuns = [];
    for (let round = 0; round < rounds; round++) {
      const run = await measured(hooked, String(570 + round), drained(perCampaign * (round + 1)));
      run.drainedAt = Date.now();
      hookedRuns.push(run);
      without.push(await measured(plain, String(561 + round)));
    }
    // Each run with the endpoint against the mean of the runs without it just before and after.
    const wallCosts = hookedRuns.map((run, i) => run.callsPerSecond / ((without[i].callsPerSecond + without[i + 1].callsPerSecond) / 2) - 1);
    const cpuCosts = hookedRuns.map((run, i) => run.cpuMsPerCall / ((without[i].cpuMsPerCall + without[i + 1].cpuMsPerCall) / 2) - 1);

    const verifier = new Webhook(secret);
    let invalid = 0;
    const delays = [];
    for (const r of receiver.requests) {
      // verify() would also check the replay window against now; the signature is checked here at the request's own time.
      const expectedSignature = verifier.sign(r.headers["webhook-id"], new Date(Number(r.headers["webhook-timestamp"]) * 1000), r.body);
      if (expectedSignature !== r.headers["webhook-signature"]) invalid++;
      else delays.push(r.at - Date.parse(JSON.parse(r.body).timestamp));
    }
    // The dial-out and the delivery share one workerd thread under wrangler dev: show both phases.
    const fmtPct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
    const list = (values, digits) => values.map((v) => v.toFixed(digits)).join(", ");
    console.log(`webhooks: ${contacts}-contact campaigns at time scale 0, one endpoint on 127.0.0.1 (node:http, answers 200 at once)`);
    console.log(
      `  without endpoint: ${list(
        without.map((r) => r.callsPerSecond),
        1,
      )} calls/s; ${list(
        without.map((r) => r.cpuMsPerCall),
        2,
      )} CPU ms per call`,
    );
    console.log(
      `  with endpoint:    ${list(
        hookedRuns.map((r) => r.callsPerSecond),
        1,
      )} calls/s; ${list(
        hookedRuns.map((r) => r.cpuMsPerCall),
        2,
      )} CPU ms per call, its webhooks included`,
    );
    console.log(
      `  calls/s lost to the endpoint, each run against its neighbours: ${wallCosts.map((c) => fmtPct(-c)).join(", ")} ` +
        `(median ${fmtPct(-median(wallCosts))}; target ≤ 10%)`,
    );
    console.log(`  CPU per call added by its webhook: ${cpuCosts.map(fmtPct).join(", ")} (median ${fmtPct(median(cpuCosts))})`);
    const drainCpu = hookedRuns.map((r) => r.cpuMsPerDrainedDelivery).filter((v) => v !== null);
    if (drainCpu.length > 0) console.log(`  CPU per delivery after the dial-out (deliveries alone): ${list(drainCpu, 2)} ms`);
    for (const [i, run] of hookedRuns.entries()) {
      const from = run.endedAt - run.wallMs;
      const windowed = receiver.requests.filter((r) => r.at >= from && r.at <= (run.drainedAt ?? run.endedAt));
      const during = windowed.filter((r) => r.at <= run.endedAt).length;
      console.log(
        `  run ${i + 1}: ${(windowed.length / (((run.drainedAt ?? run.endedAt) - from) / 1000)).toFixed(1)} deliveries/s from start to last arrival; ` +
          `${(during / (run.wallMs / 1000)).toFixed(1)} /s while the campaign dialled (${during} arrived), ` +
          `${((windowed.length - during) / (((run.drainedAt ?? run.endedAt) - run.endedAt) / 1000)).toFixed(1)} /s after; ` +
          `the last ${(((run.drainedAt ?? run.endedAt) - run.endedAt) / 1000).toFixed(1)} s after the campaign completed`,
      );
    }
    console.log(`  messages: ${arrived()} of ${expected} arrived, ${receiver.requests.length - arrived()} repeats, ${invalid} with a bad signature`);
    console.log(`  delay from transition to arrival: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms`);
    return arrived() === expected && invalid === 0;
  } finally {
    await server.stop();
    receiver.close();
  }
}
