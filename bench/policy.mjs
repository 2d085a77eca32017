// Account contact policy: 10,000 contacts across 5 campaigns started at once (2,000 each, every
// number its own, answered at simulator time scale 0), with the policy off (every rule null: only
// one call per number at a time) and on (7 in 7 days, 3 per day), alternating off, on, off in one
// run of `wrangler dev`. Prints dispatch calls/s, CPU per call (wrangler and workerd, from /proc),
// ledger requests per dial (the dispatch view's contact_ledger.requests), and the eligibility
// check's p99 from a last run with the policy on and an eligibility endpoint (a receiver in this
// process on 127.0.0.1 that lets every contact be dialled). The policy is set through
// PUT /api/v1/contact-policy. Each campaign dials on 100 lines, as in the other dispatch benchmarks.
//
// Options: --contacts=10000  --campaigns=5  --lines=100  --rounds=1  --port=8900
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { answeredCsv, dispatchView, median, provisionTenant, startServer, untilFinished } from "./server.mjs";

const FAST = { calls_per_minute: 1_000_000, daily_calls_max: 1_000_000 };
const POLICY_ON = { max_attempts: { count: 7, days: 7 }, max_attempts_per_day: 3, count_voicemail: true, min_seconds_between_attempts: null };
const POLICY_OFF = { max_attempts: null, max_attempts_per_day: null, min_seconds_between_attempts: null };
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds used so far by a process and everything it started (wrangler, workerd), from /proc. */
function cpuSecondsOf(rootPid) {
  const parents = new Map();
  const ticks = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, "utf8");
      // After the command name: state, ppid, … utime is the 12th field and stime the 13th.
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(name), Number(fields[1]));
      ticks.set(Number(name), Number(fields[11]) + Number(fields[12]));
    } catch {}
  }
  const family = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!family.has(pid) && family.has(parent)) {
        family.add(pid);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const pid of family) total += ticks.get(pid) ?? 0;
  return total / CLOCK_TICKS_PER_S;
}

/** The customer's eligibility endpoint: every contact asked about may be dialled. */
async function startEligibilityEndpoint() {
  const http = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const message = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const results = message.data.contacts.map((c) => ({ contact_id: c.contact_id, dial: true }));
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ results }));
    });
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${http.address().port}/eligibility`, close: () => new Promise((resolve) => http.close(resolve)) };
}

async function putPolicy(server, tenant, body) {
  const res = await fetch(`${server.origin}/api/v1/contact-policy`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${tenant.key}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`PUT /api/v1/contact-policy answered ${res.status}: ${await res.text()}`);
  await res.body?.cancel();
}

/**
 * The eligibility check's p99 answer time over these campaigns, from the dispatch view's
 * `eligibility_check.p99_ms` once the build reports one; null while it does not.
 */
function eligibilityCheckP99(views) {
  const figures = views.map((v) => v.eligibility_check?.p99_ms).filter((ms) => typeof ms === "number");
  return figures.length > 0 ? Math.max(...figures) : null;
}

/** Creates every campaign first, then starts them all at once; answers the figures of the whole run. */
async function runCampaigns(server, tenant, { label, contacts, campaigns, lines, prefix }) {
  const auth = { Authorization: `Bearer ${tenant.key}` };
  const ids = [];
  for (let i = 0; i < campaigns; i++) {
    const form = new FormData();
    form.set("name", `Policy bench ${prefix}${i}`);
    form.set("agent_id", tenant.agentId);
    form.set("phone_number_id", tenant.numberId);
    form.set("max_concurrent_calls", String(lines));
    form.set("contacts", new Blob([answeredCsv(contacts / campaigns, `${prefix}${i}`)], { type: "text/csv" }), "contacts.csv");
    const res = await fetch(`${server.origin}/api/v1/campaigns`, { method: "POST", headers: auth, body: form });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    ids.push((await res.json()).id);
  }
  const cpuBefore = cpuSecondsOf(server.pid);
  const startedAt = Date.now();
  await Promise.all(
    ids.map(async (id) => {
      const res = await fetch(`${server.origin}/api/v1/campaigns/${id}/start`, { method: "POST", headers: auth });
      if (res.status !== 200) throw new Error(`start failed: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
    }),
  );
  const finished = await Promise.all(ids.map((id) => untilFinished(server, tenant, id)));
  const wallMs = Date.now() - startedAt;
  const cpu = cpuSecondsOf(server.pid) - cpuBefore;
  const views = await Promise.all(ids.map((id) => dispatchView(server, id)));
  for (const campaign of finished) {
    if (campaign.status !== "completed" || campaign.stats.completed !== contacts / campaigns) {
      throw new Error(`${label}: campaign ${campaign.id} ended ${campaign.status} with ${campaign.stats.completed} completed (${campaign.status_reason})`);
    }
  }
  const dials = views.reduce((n, v) => n + v.originations.length, 0);
  const requests = views.reduce((n, v) => n + (v.contact_ledger?.requests ?? 0), 0);
  return { label, dials, wallMs, callsPerSecond: dials / (wallMs / 1000), cpuMsPerCall: (cpu * 1000) / dials, ledgerPerDial: requests / dials, views };
}

export async function benchPolicy(options = {}) {
  const contacts = Number(options.contacts ?? 10_000);
  const campaigns = Number(options.campaigns ?? 5);
  const rounds = Math.max(1, Number(options.rounds ?? 1));
  const lines = Number(options.lines ?? 100);
  const port = Number(options.port ?? 8900);
  const server = await startServer({ port, vars: { SIMULATOR_TIME_SCALE: "0" } });
  const endpoint = await startEligibilityEndpoint();
  try {
    const tenant = await provisionTenant(server, { ...FAST, concurrent_max: lines * campaigns });
    await putPolicy(server, tenant, POLICY_OFF);
    // Unmeasured warm-up: the first campaigns on a fresh server also pay for compiling and creating objects.
    await runCampaigns(server, tenant, { label: "warm-up", contacts: Math.min(1_000, contacts), campaigns, lines, prefix: "60" });
    const runs = [];
    let prefix = 61;
    for (let round = 0; round < rounds; round++) {
      await putPolicy(server, tenant, POLICY_OFF);
      runs.push(await runCampaigns(server, tenant, { label: "policy off", contacts, campaigns, lines, prefix: String(prefix++) }));
      await putPolicy(server, tenant, POLICY_ON);
      runs.push(await runCampaigns(server, tenant, { label: "policy on", contacts, campaigns, lines, prefix: String(prefix++) }));
    }
    await putPolicy(server, tenant, POLICY_OFF);
    runs.push(await runCampaigns(server, tenant, { label: "policy off", contacts, campaigns, lines, prefix: String(prefix++) }));
    // Not compared: the same policy with the eligibility check, for the check's answer times.
    await putPolicy(server, tenant, { ...POLICY_ON, eligibility_url: endpoint.url });
    const checked = await runCampaigns(server, tenant, { label: "on + check", contacts, campaigns, lines, prefix: String(prefix++) });

    console.log(
      `policy: ${contacts} contacts across ${campaigns} campaigns of ${lines} lines started at once, answered calls at time scale 0, account concurrent_max ${lines * campaigns}`,
    );
    console.log("  policy on = 7 in 7 days, 3 per day, one call per number; off = every rule null (one call per number still holds)");
    console.log("  run          calls/s   wall s   CPU ms/call   ledger requests/dial");
    for (const run of [...runs, checked]) {
      console.log(
        `  ${run.label.padEnd(11)} ${run.callsPerSecond.toFixed(1).padStart(8)}  ${(run.wallMs / 1000).toFixed(1).padStart(7)}` +
          `  ${run.cpuMsPerCall.toFixed(2).padStart(12)}  ${run.ledgerPerDial.toFixed(3).padStart(21)}`,
      );
    }
    const on = runs.filter((r) => r.label === "policy on");
    const ratios = on.map((run) => {
      const i = runs.indexOf(run);
      return run.callsPerSecond / ((runs[i - 1].callsPerSecond + runs[i + 1].callsPerSecond) / 2) - 1;
    });
    const cpuRatios = on.map((run) => {
      const i = runs.indexOf(run);
      return run.cpuMsPerCall / ((runs[i - 1].cpuMsPerCall + runs[i + 1].cpuMsPerCall) / 2) - 1;
    });
    const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
    const worstLedger = Math.max(...runs.map((r) => r.ledgerPerDial));
    console.log(
      `  calls/s with the policy on against the runs off either side: ${ratios.map(pct).join(", ")} (median ${pct(median(ratios))}; goal within -10%)`,
    );
    console.log(`  CPU per call with the policy on against off: ${cpuRatios.map(pct).join(", ")}`);
    console.log(`  ledger requests per dial, worst run: ${worstLedger.toFixed(3)} (goal at most 0.1)`);
    const p99 = eligibilityCheckP99(checked.views);
    console.log(`  eligibility check p99 (the "on + check" run): ${p99 === null ? "not measured" : `${p99.toFixed(1)} ms`}`);
    console.log("  (a shared machine: figures move with other work; compare runs of the same invocation only)");
    return true;
  } finally {
    await endpoint.close();
    await server.stop();
  }
}
