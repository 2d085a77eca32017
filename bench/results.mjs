// Call results: 10,000-contact campaigns of answered simulator calls at time scale 0 in one run of
// `wrangler dev`, one account with a contact.result endpoint: a receiver in this process on
// 127.0.0.1, as a customer's endpoint runs on the customer's machines, not edgedial's. After a
// warm-up, runs without results and with them alternate, ending without (--rounds pairs). In a
// run with results, 50 agents post one result per call to the call's result_url, read off the
// answer documents the simulator stored (GET /simulator/providers/{id}/answers). Prints the result
// route's answer times, whether any result or contact.result webhook was lost or doubled, and
// dispatch calls/s of each run with results against the runs without on either side of it.
//
// With --floor, each round also runs a campaign whose agents post with a spoiled token: every post
// is refused (401) by the Worker before any object is asked, so that run shows what one HTTP
// request per call costs dispatch in this one process, whatever the request does.
//
// The server runs the Worker alone (wrangler.toml without [assets], as bench/api.mjs's like-for-like
// target): in production the API paths reach the Worker directly, and the asset routing that
// `wrangler dev` puts in front of every request runs on Cloudflare's side. --assets serves it as
// `npm start` does instead.
//
// Options: --contacts=10000  --agents=50  --rounds=1  --floor  --assets  --port=8870

import { rmSync } from "node:fs";
import { createServer } from "node:http";
import { answeredCsv, checkout, createAndStart, dispatchView, median, provisionTenant, startServer, untilFinished, workerAloneConfig } from "./server.mjs";

const FAST = { concurrent_max: 100, calls_per_minute: 1_000_000, daily_calls_max: 1_000_000 };
const DISPOSITIONS = ["interested", "not_interested", "undecided", "wrong_person"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** How often the answer documents are read while a campaign runs. */
const POLL_MS = 100;

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

/** Each contact's disposition follows from its row, so the expected totals are known before any result is posted. */
const dispositionOf = (firstName) => DISPOSITIONS[Number(firstName.slice(1)) % DISPOSITIONS.length];

function tenantApi(server, tenant) {
  const auth = { Authorization: `Bearer ${tenant.key}` };
  return {
    get: async (path) => {
      const res = await fetch(`${server.origin}${path}`, { headers: auth });
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    },
    post: async (path, body) => {
      const res = await fetch(`${server.origin}${path}`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    },
  };
}

/** Reads the answer documents the simulator stored, from a cursor; `catchUp` moves it past everything stored so far. */
function answerFeed(api, providerId) {
  let cursor = null;
  const read = async () => {
    const page = await api.get(`/simulator/providers/${providerId}/answers${cursor === null ? "" : `?after=${cursor}`}`);
    cursor = page.cursor;
    return page.answers;
  };
  return {
    read,
    catchUp: async () => {
      while ((await read()).length > 0) {}
    },
  };
}

/**
 * Reads the answer documents of one campaign as they are stored, every POLL_MS, and hands each new
 * call to `onAnswer`: the stand-in for the media stream on which a carrier hands the agent its
 * call's parameters, which costs edgedial nothing in production. Both kinds of run read it, at the
 * same cadence, so the comparison is of the results alone, not of the bench's way of finding them.
 */
function followAnswers(feed, onAnswer) {
  const seenCalls = new Set();
  let campaignId = null;
  let listedTwice = 0;
  let following = true;
  const done = (async () => {
    while (following) {
      for (const a of await feed.read()) {
        if (a.campaign_id !== campaignId) continue;
        if (seenCalls.has(a.call_id)) listedTwice++;
        else {
          seenCalls.add(a.call_id);
          onAnswer(a);
        }
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    follow: (id) => {
      campaignId = id;
    },
    seen: () => seenCalls.size,
    listedTwice: () => listedTwice,
    stop: async () => {
      following = false;
      await done;
    },
  };
}

/**
 * One campaign while `agents` agents post a result for each of its answered calls; answers the
 * dispatch figures and each result's answer time. Agents stop once every contact has a result.
 */
async function runWithResults(server, tenant, feed, { contacts, agents, prefix, refused = false }) {
  const queue = [];
  const latencies = [];
  const failures = [];
  const answers = followAnswers(feed, (a) => queue.push(a));
  let posting = true;
  const agent = async () => {
    while (posting || queue.length > 0) {
      const answer = queue.shift();
      if (!answer) {
        await sleep(20);
        continue;
      }
      const started = performance.now();
      // A refused post: the token's last character changed, so the Worker answers 401 before any object is asked.
      const url = refused ? answer.result_url.replace(/.$/, (c) => (c === "A" ? "B" : "A")) : answer.result_url;
      const res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ disposition: dispositionOf(answer.first_name), summary: `Bench result for ${answer.contact_id}.` }),
      });
      const text = await res.text();
      latencies.push(performance.now() - started);
      if (res.status !== (refused ? 401 : 200)) failures.push(`${res.status} ${text.slice(0, 200)}`);
    }
  };
  const agentsDone = Promise.all(Array.from({ length: agents }, agent));
  const { id, startedAt } = await createAndStart(server, tenant, {
    name: `Results bench ${prefix}`,
    csv: answeredCsv(contacts, prefix),
    maxConcurrent: 100,
    fields: { dispositions: DISPOSITIONS.join(",") },
  });
  answers.follow(id);
  const campaign = await untilFinished(server, tenant, id);
  const wallMs = Date.now() - startedAt;
  const postedAtCompletion = latencies.length;
  const deadline = Date.now() + 600_000;
  while (answers.seen() < contacts && Date.now() < deadline) await sleep(100);
  await answers.stop();
  posting = false;
  await agentsDone;
  const view = await dispatchView(server, id);
  if (campaign.stats.completed !== contacts) throw new Error(`campaign ${id} ended ${campaign.status} with ${campaign.stats.completed} of ${contacts}`);
  return {
    id,
    dials: view.originations.length,
    wallMs,
    callsPerSecond: view.originations.length / (wallMs / 1000),
    latencies,
    failures,
    listedTwice: answers.listedTwice(),
    postedAtCompletion,
  };
}

/** One campaign with no results posted; the answers are still read, as in a run with results, unless `feed` is null. */
async function runWithout(server, tenant, feed, { contacts, prefix }) {
  const answers = feed ? followAnswers(feed, () => {}) : null;
  const { id, startedAt } = await createAndStart(server, tenant, {
    name: `Results bench ${prefix}`,
    csv: answeredCsv(contacts, prefix),
    maxConcurrent: 100,
    fields: { dispositions: DISPOSITIONS.join(",") },
  });
  answers?.follow(id);
  const campaign = await untilFinished(server, tenant, id);
  const wallMs = Date.now() - startedAt;
  await answers?.stop();
  const view = await dispatchView(server, id);
  if (campaign.stats.completed !== contacts) throw new Error(`campaign ${id} ended ${campaign.status} with ${campaign.stats.completed} of ${contacts}`);
  return { id, dials: view.originations.length, wallMs, callsPerSecond: view.originations.length / (wallMs / 1000) };
}

/** Every contact's result exactly once: the ?disposition= totals and stats.dispositions both match the expected counts (waits for the D1 copy). */
async function checkResults(api, id, contacts) {
  const expected = Object.fromEntries(DISPOSITIONS.map((d) => [d, 0]));
  for (let i = 0; i < contacts; i++) expected[dispositionOf(`P${i}`)]++;
  let listed = {};
  let stats = {};
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(500)) {
    listed = {};
    for (const d of DISPOSITIONS) listed[d] = (await api.get(`/api/v1/campaigns/${id}/contacts?disposition=${d}&limit=1`)).total;
    stats = (await api.get(`/api/v1/campaigns/${id}`)).stats.dispositions ?? {};
    if (DISPOSITIONS.every((d) => listed[d] === expected[d] && stats[d] === expected[d]) && Object.keys(stats).length === DISPOSITIONS.length) break;
  }
  const ok = DISPOSITIONS.every((d) => listed[d] === expected[d] && stats[d] === expected[d]);
  return { ok, expected, listed, stats };
}

/** The customer's webhook endpoint: records every delivery it is sent and answers 200. */
async function startReceiver() {
  const received = [];
  const http = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${http.address().port}/contact-results`,
    received,
    close: () => new Promise((resolve) => http.close(resolve)),
  };
}

/** The contact.result messages for one campaign at the receiver: distinct contacts, distinct message ids, and repeats. */
async function checkWebhooks(receiver, id, contacts) {
  const count = () => {
    const contactsSeen = new Set();
    const ids = new Set();
    let messages = 0;
    let repeats = 0;
    for (const r of receiver.received) {
      const message = JSON.parse(r.body);
      if (message.type !== "contact.result" || message.data.campaign_id !== id) continue;
      messages++;
      if (ids.has(r.headers["webhook-id"]) || contactsSeen.has(message.data.id)) repeats++;
      ids.add(r.headers["webhook-id"]);
      contactsSeen.add(message.data.id);
    }
    return { contacts: contactsSeen.size, messages, repeats };
  };
  for (const deadline = Date.now() + 300_000; count().contacts < contacts && Date.now() < deadline; ) await sleep(500);
  // A repeat arriving just after the last new one would be missed: counted again after a pause.
  await sleep(2_000);
  const seen = count();
  return { ok: seen.contacts === contacts && seen.repeats === 0, ...seen };
}

export async function benchResults(options = {}) {
  const contacts = Number(options.contacts ?? 10_000);
  const agents = Number(options.agents ?? 50);
  const rounds = Math.max(1, Number(options.rounds ?? 1));
  const floor = options.floor !== undefined && options.floor !== "false";
  const port = Number(options.port ?? 8870);
  // The Worker alone, as production serves the API paths, unless --assets: then through wrangler dev's asset router, as `npm start` serves it.
  const config = options.assets === undefined ? workerAloneConfig(checkout, "results") : undefined;
  const server = await startServer({ port, vars: { SIMULATOR_TIME_SCALE: "0" }, config });
  const receiver = await startReceiver();
  try {
    const tenant = await provisionTenant(server, FAST);
    const api = tenantApi(server, tenant);
    await api.post("/api/v1/webhooks", { url: receiver.url, events: ["contact.result"] });
    const providerId = (await api.get(`/api/v1/telephony/numbers/${tenant.numberId}`)).credentials_id;
    const feed = answerFeed(api, providerId);

    // Unmeasured warm-up: the first campaign on a fresh server also pays for compiling and creating the simulator's objects.
    await runWithout(server, tenant, feed, { contacts: Math.min(1_000, contacts), prefix: "580" });
    // Once, for reference: what reading the answer documents costs dispatch (it is in both kinds of run below).
    await feed.catchUp();
    const unread = await runWithout(server, tenant, null, { contacts, prefix: "579" });
    await feed.catchUp();
    const without = [await runWithout(server, tenant, feed, { contacts, prefix: "581" })];
    const withRuns = [];
    const floorRuns = [];
    /** Every measured run in order, so each is compared with the runs without results on either side of it. */
    const sequence = [{ kind: "without", run: without[0] }];
    let ok = true;
    for (let round = 0; round < rounds; round++) {
      await feed.catchUp();
      const run = await runWithResults(server, tenant, feed, { contacts, agents, prefix: String(590 + round) });
      // Counted before the next run, so its load does not land on the deliveries still draining.
      run.results = await checkResults(api, run.id, contacts);
      run.webhooks = await checkWebhooks(receiver, run.id, contacts);
      ok = ok && run.results.ok && run.webhooks.ok && run.failures.length === 0 && run.listedTwice === 0;
      withRuns.push(run);
      sequence.push({ kind: "with", run });
      await feed.catchUp();
      const next = await runWithout(server, tenant, feed, { contacts, prefix: String(582 + round) });
      without.push(next);
      sequence.push({ kind: "without", run: next });
      if (!floor) continue;
      await feed.catchUp();
      const refusedRun = await runWithResults(server, tenant, feed, { contacts, agents, prefix: String(570 + round), refused: true });
      ok = ok && refusedRun.failures.length === 0;
      floorRuns.push(refusedRun);
      sequence.push({ kind: "refused", run: refusedRun });
      await feed.catchUp();
      const after = await runWithout(server, tenant, feed, { contacts, prefix: String(560 + round) });
      without.push(after);
      sequence.push({ kind: "without", run: after });
    }

    const against = (kind) =>
      sequence.flatMap((entry, i) =>
        entry.kind === kind ? [entry.run.callsPerSecond / ((sequence[i - 1].run.callsPerSecond + sequence[i + 1].run.callsPerSecond) / 2) - 1] : [],
      );
    const ratios = against("with");
    const fmtPct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
    const all = withRuns.flatMap((r) => r.latencies);
    console.log(
      `results: ${contacts}-contact campaigns of answered calls at time scale 0, ${agents} agents posting to result_url, ${config ? "the Worker alone" : "through the dev asset router"}`,
    );
    console.log("  run                     calls/s   wall s   results  p50 ms  p99 ms  lost/doubled results  contact.result webhooks");
    for (const { kind, run } of sequence) {
      if (kind === "without") {
        console.log(`  without results         ${run.callsPerSecond.toFixed(1).padStart(7)}  ${(run.wallMs / 1000).toFixed(1).padStart(7)}`);
      } else if (kind === "refused") {
        console.log(
          `  with refused posts      ${run.callsPerSecond.toFixed(1).padStart(7)}  ${(run.wallMs / 1000).toFixed(1).padStart(7)}  ${String(run.latencies.length).padStart(7)}` +
            `  ${percentile(run.latencies, 50).toFixed(1).padStart(6)}  ${percentile(run.latencies, 99).toFixed(1).padStart(6)}  (401 each, nothing stored)`,
        );
      } else {
        const lost = DISPOSITIONS.reduce((n, d) => n + Math.max(0, run.results.expected[d] - run.results.listed[d]), 0);
        const doubled = DISPOSITIONS.reduce((n, d) => n + Math.max(0, run.results.listed[d] - run.results.expected[d]), 0) + run.listedTwice;
        console.log(
          `  with results            ${run.callsPerSecond.toFixed(1).padStart(7)}  ${(run.wallMs / 1000).toFixed(1).padStart(7)}  ${String(run.latencies.length).padStart(7)}` +
            `  ${percentile(run.latencies, 50).toFixed(1).padStart(6)}  ${percentile(run.latencies, 99).toFixed(1).padStart(6)}` +
            `  ${`${lost} / ${doubled}`.padStart(20)}  ${run.webhooks.contacts} of ${contacts} contacts, ${run.webhooks.repeats} repeats`,
        );
      }
    }
    for (const run of withRuns) {
      if (!run.results.ok)
        console.log(
          `  totals differ: expected ${JSON.stringify(run.results.expected)}, ?disposition= ${JSON.stringify(run.results.listed)}, stats ${JSON.stringify(run.results.stats)}`,
        );
      if (run.failures.length > 0) console.log(`  ${run.failures.length} results refused, first: ${run.failures[0]}`);
      console.log(`  ${run.postedAtCompletion} of ${run.latencies.length} results were answered before the campaign completed`);
    }
    console.log(
      `  for reference, a run without results whose answer documents nobody read: ${unread.callsPerSecond.toFixed(1)} calls/s (${fmtPct(unread.callsPerSecond / without[0].callsPerSecond - 1)} against the first run that read them)`,
    );
    console.log(`  result route answer time over all runs: p50 ${percentile(all, 50).toFixed(1)} ms, p99 ${percentile(all, 99).toFixed(1)} ms`);
    console.log(
      `  dispatch calls/s with results against the runs without on either side: ${ratios.map(fmtPct).join(", ")} (median ${fmtPct(median(ratios))}; goal within 5%)`,
    );
    if (floor) {
      const floorRatios = against("refused");
      console.log(
        `  dispatch calls/s with refused posts (a request per call that does nothing) against the runs without on either side: ${floorRatios.map(fmtPct).join(", ")} (median ${fmtPct(median(floorRatios))})`,
      );
      for (const run of floorRuns)
        if (run.failures.length > 0) console.log(`  ${run.failures.length} refused posts were not answered 401, first: ${run.failures[0]}`);
    }
    return ok;
  } finally {
    await receiver.close();
    await server.stop();
    if (config) rmSync(config, { force: true });
  }
}
