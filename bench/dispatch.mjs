// Dispatch, per carrier dialect of the simulator: 10,000 contacts at max_concurrent_calls 100 at
// time scale 0 with the rate caps out of the way, printing calls/s and carrier requests per call.
// Twilio runs twice, asking for all four status callbacks and then for the default two, so the
// cost of the trimmed callbacks shows in one run. Then pacing (2,000 contacts at
// calls_per_minute 600) and the simulator as an external carrier.
//
// Options: --dialects=twilio,plivo,vobiz (default all three)  --contacts=10000  --port=8788
//          --parts=dialects,paced,external (default all)
import { answeredCsv, createAndStart, dispatchView, provisionTenant, startExternalCarrier, startServer, untilFinished } from "./server.mjs";

const ALL_TWILIO_EVENTS = "initiated ringing answered completed";
const FAST = { concurrent_max: 100, calls_per_minute: 1_000_000, daily_calls_max: 1_000_000 };

/** Runs one campaign to its end; with `dialect`, stops it at once if it dials through another carrier. */
async function runCampaign(server, tenant, { contacts, maxConcurrent, prefix, dialect = null }) {
  const { id, startedAt } = await createAndStart(server, tenant, { name: `Bench ${prefix}`, csv: answeredCsv(contacts, prefix), maxConcurrent });
  let kindChecked = dialect === null;
  const campaign = await untilFinished(server, tenant, id, async () => {
    if (kindChecked) return;
    const kind = (await dispatchView(server, id)).carrier_kind;
    if (kind && kind !== dialect) {
      await (
        await fetch(`${server.origin}/api/v1/campaigns/${id}/stop`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` } })
      ).body?.cancel();
      throw new Error(`the campaign dials through ${kind}, not ${dialect}: this build's simulator has no ${dialect} dialect`);
    }
    kindChecked = kind !== null;
  });
  const wallMs = Date.now() - startedAt;
  return { campaign, view: await dispatchView(server, id), wallMs };
}

/** One campaign on a fresh server; returns its figures, or throws saying why the run does not count. */
async function measureDialect({ dialect, label, vars, contacts, port }) {
  const server = await startServer({ port, vars: { SIMULATOR_TIME_SCALE: "0", ...vars } });
  try {
    const tenant = await provisionTenant(server, FAST, null, { dialect });
    const run = await runCampaign(server, tenant, { contacts, maxConcurrent: 100, prefix: "555", dialect });
    const { view, campaign } = run;
    if (view.carrier_kind !== dialect) throw new Error(`the campaign dialled through ${view.carrier_kind ?? "no carrier"}, not ${dialect}`);
    if (campaign.status !== "completed" || campaign.stats.completed !== contacts) {
      throw new Error(
        `campaign ended ${campaign.status} with ${campaign.stats.completed} of ${contacts} completed: ${campaign.status_reason ?? "no reason given"}`,
      );
    }
    const dials = view.originations.length;
    const requests = view.carrier_requests.callback + view.carrier_requests.answer;
    return {
      label,
      dials,
      callsPerSecond: dials / (run.wallMs / 1000),
      wallMs: run.wallMs,
      perCall: requests / dials,
      callbacks: view.carrier_requests.callback / dials,
      answers: view.carrier_requests.answer / dials,
      highWater: view.high_water,
    };
  } finally {
    await server.stop();
  }
}

async function dialects({ list, contacts, port }) {
  const runs = [];
  for (const dialect of list) {
    if (dialect === "twilio") {
      runs.push({ dialect, label: "twilio, all four status callbacks (before)", vars: { TWILIO_STATUS_EVENTS: ALL_TWILIO_EVENTS } });
      runs.push({ dialect, label: "twilio, answered + completed (after)", vars: {} });
    } else {
      runs.push({ dialect, label: dialect, vars: {} });
    }
  }
  console.log(`dispatch per dialect: ${contacts} contacts, max_concurrent_calls 100, simulator time scale 0, rate caps out of the way`);
  let ok = true;
  for (const run of runs) {
    try {
      const r = await measureDialect({ ...run, contacts, port });
      console.log(
        `  ${r.label}: ${r.callsPerSecond.toFixed(0)} calls/s (${r.dials} dials in ${(r.wallMs / 1000).toFixed(1)} s), ` +
          `${r.perCall.toFixed(2)} carrier requests per call (${r.callbacks.toFixed(2)} callbacks + ${r.answers.toFixed(2)} answer), highest in-flight ${r.highWater}`,
      );
    } catch (error) {
      ok = false;
      console.log(`  ${run.label}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return ok;
}

async function paced({ port }) {
  const server = await startServer({ port, vars: { SIMULATOR_TIME_SCALE: "0" } });
  try {
    const tenant = await provisionTenant(server, { concurrent_max: 100, calls_per_minute: 600, daily_calls_max: 1_000_000 });
    const b = await runCampaign(server, tenant, { contacts: 2_000, maxConcurrent: 100, prefix: "556" });
    const bt = b.view.originations;
    let worst = 0;
    for (let i = 0, j = 0; i < bt.length; i++) {
      while (bt[i] - bt[j] >= 60_000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    const rate = (bt.length - 1) / ((bt.at(-1) - bt[0]) / 60_000);
    console.log(`dispatch, paced: 2000 contacts at calls_per_minute 600`);
    console.log(`  measured ${rate.toFixed(1)} calls/min (${((rate / 600 - 1) * 100).toFixed(2)}% vs cap), most in any 60 s window: ${worst}`);
    console.log(`  first dial ${bt[0] - Date.parse(b.view.started_at)} ms after start, highest in-flight ${b.view.high_water}`);
  } finally {
    await server.stop();
  }
}

/** The simulator in its own process, reached as Twilio: the carrier's work off edgedial's thread. */
async function externalCarrier({ contacts, port }) {
  const carrier = await startExternalCarrier({ port: port + 1, timeScale: "0" });
  const server = await startServer({ port, vars: { TWILIO_API_BASE: carrier.apiBase } });
  try {
    const tenant = await provisionTenant(server, FAST, carrier);
    const run = await runCampaign(server, tenant, { contacts, maxConcurrent: 100, prefix: "559" });
    const times = run.view.originations;
    console.log(`dispatch, external carrier: ${contacts} contacts through a Twilio-compatible simulator in its own wrangler dev`);
    console.log(`  status ${run.campaign.status}, completed ${run.campaign.stats.completed}, dials ${times.length}`);
    console.log(`  wall time start→completed ${(run.wallMs / 1000).toFixed(1)} s, ${(times.length / (run.wallMs / 1000)).toFixed(0)} calls/s`);
    console.log(`  highest in-flight ${run.view.high_water} (cap 100); first dial ${times[0] - Date.parse(run.view.started_at)} ms after start`);
  } finally {
    await server.stop();
    await carrier.stop();
  }
}

export async function benchDispatch(options = {}) {
  const list = (options.dialects ?? "twilio,plivo,vobiz").split(",").filter(Boolean);
  const unknown = list.filter((d) => !["twilio", "plivo", "vobiz"].includes(d));
  if (unknown.length > 0) throw new Error(`--dialects takes twilio, plivo and vobiz; not ${unknown.join(", ")}.`);
  const parts = (options.parts ?? "dialects,paced,external").split(",");
  const contacts = Number(options.contacts ?? process.env.BENCH_DISPATCH_CONTACTS ?? 10_000);
  const port = Number(options.port ?? 8788);
  let ok = true;
  if (parts.includes("dialects")) ok = (await dialects({ list, contacts, port })) && ok;
  if (parts.includes("paced")) await paced({ port });
  if (parts.includes("external")) await externalCarrier({ contacts, port });
  return ok;
}
