// Do-not-call list: 1,000,000 numbers added to one account's list in JSON batches of 100k over HTTP
// against `wrangler dev`, then what the DNC check costs a dispatch tick of 100 contacts, timed
// inside the campaign's object around its one `listedAmong` query and read back through the admin
// dispatch view. Each campaign holds 100 contacts at max_concurrent_calls 100, so its first tick
// checks exactly 100 numbers; campaigns on the 1M-number account alternate with the same contacts
// on an account whose list is empty, so the difference is what the list's size adds.
//
// Options: --campaigns=20 (timed ticks per account, after one warm-up each)  --port=8825
import { median, provisionTenant, startServer } from "./server.mjs";

const BATCHES = 10;
const BATCH_SIZE = 100_000;
const TICK_CONTACTS = 100;
const TARGET_MS = 5;
const FAST = { concurrent_max: 100, calls_per_minute: 1_000_000, daily_calls_max: 1_000_000 };

/** The n-th number the 1M list holds: +1555 then 7 digits. */
const listedNumber = (n) => `+1555${String(n).padStart(7, "0")}`;

/**
 * Contacts of the c-th campaign: every tenth is a number the list will hold (spread over the whole
 * list), the others are not listed and end in 00–69 so the simulator answers them at once.
 */
function contactsCsv(c) {
  const lines = ["phone_number,first_name"];
  for (let i = 0; i < TICK_CONTACTS; i++) {
    const phone =
      i % 10 === 0
        ? listedNumber((c * 7_919 + i * 99_991) % (BATCHES * BATCH_SIZE))
        : `+1666${String(c * 1_000 + i).padStart(5, "0")}${String(i % 70).padStart(2, "0")}`;
    lines.push(`${phone},P${i}`);
  }
  return `${lines.join("\n")}\n`;
}

async function api(server, key, path, init = {}) {
  const res = await fetch(`${server.origin}${path}`, { ...init, headers: { Authorization: `Bearer ${key}`, ...init.headers } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function addBatches(server, tenant) {
  const times = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    const numbers = Array.from({ length: BATCH_SIZE }, (_, i) => listedNumber(batch * BATCH_SIZE + i));
    const body = JSON.stringify({ numbers, reason: "bench" });
    const started = performance.now();
    const result = await api(server, tenant.key, "/api/v1/dnc", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    const ms = performance.now() - started;
    if (result.added !== BATCH_SIZE) throw new Error(`batch ${batch + 1} added ${result.added} of ${BATCH_SIZE}: ${JSON.stringify(result).slice(0, 300)}`);
    times.push(ms);
    console.log(`  batch ${String(batch + 1).padStart(2)}: ${BATCH_SIZE} numbers in ${ms.toFixed(0)} ms`);
  }
  const { total } = await api(server, tenant.key, "/api/v1/dnc?limit=1");
  if (total !== BATCHES * BATCH_SIZE) throw new Error(`the list holds ${total} numbers, not ${BATCHES * BATCH_SIZE}`);
  return times;
}

async function createCampaign(server, tenant, c) {
  const form = new FormData();
  form.set("name", `DNC bench ${c}`);
  form.set("agent_id", tenant.agentId);
  form.set("phone_number_id", tenant.numberId);
  form.set("max_concurrent_calls", String(TICK_CONTACTS));
  form.set("contacts", new Blob([contactsCsv(c)], { type: "text/csv" }), "contacts.csv");
  const created = await api(server, tenant.key, "/api/v1/campaigns", { method: "POST", body: form });
  if (created.stats.total !== TICK_CONTACTS || created.dnc_suppressed !== 0) throw new Error(`campaign ${c}: ${JSON.stringify(created.stats)}`);
  return created.id;
}

/** Runs the campaign to completion and returns its object's record of the DNC check. */
async function runCampaign(server, tenant, id, expectListed) {
  await api(server, tenant.key, `/api/v1/campaigns/${id}/start`, { method: "POST" });
  let campaign;
  for (let i = 0; ; i++) {
    campaign = await api(server, tenant.key, `/api/v1/campaigns/${id}`);
    if (campaign.status === "completed" || campaign.status === "failed") break;
    if (i > 1_200) throw new Error(`campaign ${id} did not finish: ${JSON.stringify(campaign.stats)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const view = await api(server, server.adminToken, `/admin/v1/campaigns/${id}/dispatch`);
  const check = view.dnc_check;
  if (!check) throw new Error("the admin dispatch view has no dnc_check: this build does not time the DNC check");
  if (campaign.stats.cancelled !== expectListed || view.originations.length !== TICK_CONTACTS - expectListed) {
    throw new Error(`campaign ${id} ended ${campaign.status} with ${JSON.stringify(campaign.stats)} and ${view.originations.length} dials`);
  }
  // One check of the whole first batch; anything else (e.g. the object restarted, losing its in-memory record) is not a sample.
  if (check.checks !== 1 || check.last.numbers !== TICK_CONTACTS || check.listed_found !== expectListed) {
    console.log(
      `  (campaign ${id} not counted: its object recorded ${JSON.stringify(check)}; dispatch view ${JSON.stringify({ ...view, originations: view.originations.length })})`,
    );
    return null;
  }
  return check.last.ms;
}

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))];
const fmt = (ms) => ms.toFixed(ms < 10 ? 2 : 0);
const summary = (ms) =>
  `median ${fmt(median(ms))} ms, p90 ${fmt(quantile(ms, 0.9))} ms, worst ${fmt(Math.max(...ms))} ms, mean ${fmt(ms.reduce((a, b) => a + b, 0) / ms.length)} ms`;

export async function benchDnc(options = {}) {
  const campaigns = Number(options.campaigns ?? 20);
  const port = Number(options.port ?? 8825);
  const server = await startServer({ port, vars: { SIMULATOR_TIME_SCALE: "0" } });
  try {
    const full = await provisionTenant(server, FAST);
    const empty = await provisionTenant(server, FAST);
    // Created before the list fills, so their listed numbers are found at dial time, not at create.
    const ids = [];
    for (let c = 0; c <= campaigns; c++) ids.push({ full: await createCampaign(server, full, c), empty: await createCampaign(server, empty, c) });

    console.log(`dnc: ${BATCHES * BATCH_SIZE} numbers added to one account's list in JSON batches of ${BATCH_SIZE} (HTTP, wrangler dev)`);
    const batches = await addBatches(server, full);
    const total = batches.reduce((a, b) => a + b, 0);
    console.log(`  per batch ${summary(batches)}; all ${BATCHES * BATCH_SIZE} in ${(total / 1000).toFixed(1)} s`);

    const onFull = [];
    const onEmpty = [];
    // Warm-up pair first (index 0), then alternate accounts so machine noise falls on both alike.
    for (let c = 0; c <= campaigns; c++) {
      const f = await runCampaign(server, full, ids[c].full, TICK_CONTACTS / 10);
      const e = await runCampaign(server, empty, ids[c].empty, 0);
      if (c > 0 && f !== null) onFull.push(f);
      if (c > 0 && e !== null) onEmpty.push(e);
    }
    const extra = median(onFull);
    const mean = (ms) => ms.reduce((a, b) => a + b, 0) / ms.length;
    const over = onFull.filter((ms) => ms >= TARGET_MS).length;
    console.log(`dnc: the check in a dispatch tick of ${TICK_CONTACTS} contacts: one D1 query, timed inside the campaign object (whole ms)`);
    console.log(`  1,000,000-number list, 10 of 100 listed (${onFull.length} ticks): ${summary(onFull)}`);
    console.log(`  empty list, same contacts (${onEmpty.length} ticks):          ${summary(onEmpty)}`);
    console.log(
      `  extra time per tick: ${fmt(extra)} ms median, ${fmt(mean(onFull))} ms mean (a tick without the check makes no such query); ` +
        `of it the list's size: ${fmt(extra - median(onEmpty))} ms median, ${fmt(mean(onFull) - mean(onEmpty))} ms mean`,
    );
    console.log(`  target < ${TARGET_MS} ms: ${extra < TARGET_MS ? "met" : "NOT met"} (median); ${over} of ${onFull.length} ticks at or over ${TARGET_MS} ms`);
    return extra < TARGET_MS;
  } finally {
    await server.stop();
  }
}
