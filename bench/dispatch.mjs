// Dispatch: (a) 10,000 contacts at max_concurrent_calls 100 through the simulator at time scale 0
// with rate caps out of the way; (b) pacing 2,000 contacts at calls_per_minute 600.
import { provisionTenant, startExternalCarrier, startServer } from "./server.mjs";

function csvOf(count, prefix) {
  const lines = ["phone_number,first_name"];
  // Last two digits below 70: every call is answered, so each contact is dialled exactly once.
  for (let i = 0; i < count; i++) lines.push(`+1${prefix}${String(Math.floor(i / 70) * 100 + (i % 70)).padStart(6, "0")},P${i}`);
  return `${lines.join("\n")}\n`;
}

async function runCampaign(server, tenant, { contacts, maxConcurrent, prefix }) {
  const auth = { Authorization: `Bearer ${tenant.key}` };
  const form = new FormData();
  form.set("name", `Bench ${prefix}`);
  form.set("agent_id", tenant.agentId);
  form.set("phone_number_id", tenant.numberId);
  form.set("max_concurrent_calls", String(maxConcurrent));
  form.set("contacts", new Blob([csvOf(contacts, prefix)], { type: "text/csv" }), "contacts.csv");
  const created = await (await fetch(`${server.origin}/api/v1/campaigns`, { method: "POST", headers: auth, body: form })).json();
  const startedAt = Date.now();
  const start = await fetch(`${server.origin}/api/v1/campaigns/${created.id}/start`, { method: "POST", headers: auth });
  if (start.status !== 200) throw new Error(`start failed: ${start.status} ${await start.text()}`);
  let campaign;
  for (;;) {
    campaign = await (await fetch(`${server.origin}/api/v1/campaigns/${created.id}`, { headers: auth })).json();
    if (campaign.status === "completed" || campaign.status === "failed") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const wallMs = Date.now() - startedAt;
  const view = await (
    await fetch(`${server.origin}/admin/v1/campaigns/${created.id}/dispatch`, { headers: { Authorization: `Bearer ${server.adminToken}` } })
  ).json();
  return { campaign, view, wallMs };
}

const CONTACTS = Number(process.env.BENCH_DISPATCH_CONTACTS ?? 10_000);
const ONLY_A = process.env.BENCH_DISPATCH_ONLY === "a";

export async function benchDispatch() {
  const server = await startServer({ vars: { SIMULATOR_TIME_SCALE: "0" } });
  try {
    const fast = await provisionTenant(server, { concurrent_max: 100, calls_per_minute: 1_000_000, daily_calls_max: 1_000_000 });
    const a = await runCampaign(server, fast, { contacts: CONTACTS, maxConcurrent: 100, prefix: "555" });
    const times = a.view.originations;
    const firstDial = times[0] - Date.parse(a.view.started_at);
    console.log(`dispatch (a): ${CONTACTS} contacts, max_concurrent_calls 100, simulator time scale 0`);
    console.log(`  status ${a.campaign.status}, completed ${a.campaign.stats.completed}, dials ${times.length}`);
    console.log(`  wall time start→completed ${(a.wallMs / 1000).toFixed(1)} s, ${(times.length / (a.wallMs / 1000)).toFixed(0)} calls/s`);
    console.log(`  dialing span ${((times.at(-1) - times[0]) / 1000).toFixed(1)} s, ${(times.length / ((times.at(-1) - times[0]) / 1000)).toFixed(0)} calls/s`);
    console.log(`  highest in-flight ${a.view.high_water} (cap 100); first dial ${firstDial} ms after start`);

    if (!ONLY_A) await paced(server);
  } finally {
    server.stop();
  }
  await externalCarrier();
}

/** (a) again with the simulator in its own process, reached as Twilio: the carrier's work off edgedial's thread. */
async function externalCarrier() {
  const carrier = await startExternalCarrier({ timeScale: "0" });
  const server = await startServer({ vars: { TWILIO_API_BASE: carrier.apiBase } });
  try {
    const tenant = await provisionTenant(server, { concurrent_max: 100, calls_per_minute: 1_000_000, daily_calls_max: 1_000_000 }, carrier);
    const run = await runCampaign(server, tenant, { contacts: CONTACTS, maxConcurrent: 100, prefix: "559" });
    const times = run.view.originations;
    console.log(`dispatch (a, external carrier): ${CONTACTS} contacts through a Twilio-compatible simulator in its own wrangler dev`);
    console.log(`  status ${run.campaign.status}, completed ${run.campaign.stats.completed}, dials ${times.length}`);
    console.log(`  wall time start→completed ${(run.wallMs / 1000).toFixed(1)} s, ${(times.length / (run.wallMs / 1000)).toFixed(0)} calls/s`);
    console.log(`  highest in-flight ${run.view.high_water} (cap 100); first dial ${times[0] - Date.parse(run.view.started_at)} ms after start`);
  } finally {
    server.stop();
    carrier.stop();
  }
}

async function paced(server) {
  const paced = await provisionTenant(server, { concurrent_max: 100, calls_per_minute: 600, daily_calls_max: 1_000_000 });
  const b = await runCampaign(server, paced, { contacts: 2_000, maxConcurrent: 100, prefix: "556" });
  const bt = b.view.originations;
  let worst = 0;
  for (let i = 0, j = 0; i < bt.length; i++) {
    while (bt[i] - bt[j] >= 60_000) j++;
    worst = Math.max(worst, i - j + 1);
  }
  const rate = (bt.length - 1) / ((bt.at(-1) - bt[0]) / 60_000);
  console.log(`dispatch (b): 2000 contacts at calls_per_minute 600`);
  console.log(`  measured ${rate.toFixed(1)} calls/min (${((rate / 600 - 1) * 100).toFixed(2)}% vs cap), most in any 60 s window: ${worst}`);
  console.log(`  first dial ${bt[0] - Date.parse(b.view.started_at)} ms after start, highest in-flight ${b.view.high_water}`);
}
