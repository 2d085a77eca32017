// Events: 500 SSE subscribers on one running campaign (simulator at a small time scale). Measures
// the delay from each contact transition to its arrival at all subscribers, and snapshot tick jitter.
import { mkdtempSync, writeFileSync } from "node:fs";
import { Agent, get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Edgedial } from "../dist/client/index.js";
import { provisionTenant, startExternalCarrier, startServer } from "./server.mjs";

const SUBSCRIBERS = Number(process.env.BENCH_EVENTS_SUBSCRIBERS ?? 500);
const CONTACTS = 200;

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

export async function benchEvents() {
  console.log("events, simulator inside edgedial's process:");
  await measureEvents(null);
  const carrier = await startExternalCarrier({ timeScale: "0.1" });
  try {
    console.log("events, simulator as an external carrier (its own wrangler dev, reached as Twilio):");
    await measureEvents(carrier);
  } finally {
    carrier.stop();
  }
}

async function measureEvents(carrier) {
  const server = await startServer({ vars: { SIMULATOR_TIME_SCALE: "0.1", ...(carrier && { TWILIO_API_BASE: carrier.apiBase }) } });
  try {
    const tenant = await provisionTenant(server, { concurrent_max: 20, calls_per_minute: 1_000_000 }, carrier);
    const edgedial = new Edgedial({ apiKey: tenant.key, baseUrl: server.origin });
    const dir = mkdtempSync(join(tmpdir(), "edgedial-events-"));
    const csvPath = join(dir, "contacts.csv");
    const lines = ["phone_number,name"];
    for (let i = 0; i < CONTACTS; i++) lines.push(`+1557${String(Math.floor(i / 70) * 100 + (i % 70)).padStart(7, "0")},P${i}`);
    writeFileSync(csvPath, `${lines.join("\n")}\n`);
    // Warm-up: the first tick creates the simulator's shard objects and loads carrier credentials.
    // That cold start (reported below) is not the streaming path being measured.
    const warm = await edgedial.campaigns.create({
      name: "Warm-up",
      agent_id: tenant.agentId,
      phone_number_id: tenant.numberId,
      max_concurrent_calls: 20,
      contacts: Array.from({ length: 40 }, (_, i) => ({ phone_number: `+1558${String(i).padStart(7, "0")}` })),
    });
    const coldStart = Date.now();
    await edgedial.campaigns.start(warm.id);
    while ((await edgedial.campaigns.get(warm.id)).status !== "completed") await new Promise((r) => setTimeout(r, 50));
    console.log(`  warm-up campaign (40 contacts, cold start included): ${Date.now() - coldStart} ms`);

    const campaign = await edgedial.campaigns.create({
      name: "Events bench",
      agent_id: tenant.agentId,
      phone_number_id: tenant.numberId,
      max_concurrent_calls: 20,
      contactsPath: csvPath,
    });

    const arrivals = new Map(); // event id -> { at, last, count }
    const snapshotGaps = [];
    let ended = 0;
    let ready = 0;
    const url = `${server.origin}/api/v1/campaigns/${campaign.id}/events`;
    // Raw streams, stamped when bytes arrive: the measure is the server's delivery, not this process's parsing.
    // node:http rather than fetch: 500 web-stream readers in one process would themselves add the delay being measured.
    const agent = new Agent({ keepAlive: true, maxSockets: SUBSCRIBERS + 10 });
    const subscribers = Array.from(
      { length: SUBSCRIBERS },
      () =>
        new Promise((resolve, reject) => {
          let buffer = "";
          let first = true;
          let lastTick = null;
          const request = get(url, { agent, headers: { Authorization: `Bearer ${tenant.key}`, Accept: "text/event-stream" } }, (response) => {
            response.setEncoding("utf8");
            response.on("end", resolve);
            response.on("error", reject);
            response.on("data", (chunk) => {
              const now = Date.now();
              buffer += chunk;
              const frames = buffer.split("\n\n");
              buffer = frames.pop();
              for (const frame of frames) {
                if (frame.startsWith("event: contact\n")) {
                  const id = Number(frame.slice(19, frame.indexOf("\n", 19)));
                  let seen = arrivals.get(id);
                  if (!seen) {
                    const at = /"at":"([^"]+)"/.exec(frame)[1];
                    seen = { at: Date.parse(at), last: 0, count: 0 };
                    arrivals.set(id, seen);
                  }
                  seen.last = Math.max(seen.last, now);
                  seen.count++;
                } else if (frame.startsWith("data: ")) {
                  if (first) ready++;
                  first = false;
                  // Only running snapshots are ticks; the one sent on connect is not.
                  if (!frame.includes('"status":"running"')) continue;
                  if (lastTick !== null) snapshotGaps.push(now - lastTick);
                  lastTick = now;
                } else if (frame.startsWith("event: end")) {
                  ended++;
                }
              }
            });
          });
          request.on("error", reject);
        }),
    );
    while (ready < SUBSCRIBERS) await new Promise((r) => setTimeout(r, 20));
    await edgedial.campaigns.start(campaign.id);
    await Promise.all(subscribers);

    const delays = [...arrivals.values()].filter((a) => a.count === SUBSCRIBERS).map((a) => a.last - a.at);
    const worst = [...arrivals.entries()]
      .map(([id, a]) => [id, a.last - a.at])
      .sort((x, y) => y[1] - x[1])
      .slice(0, 5);
    console.log(`  slowest transitions [id, ms]: ${JSON.stringify(worst)}`);
    const incomplete = [...arrivals.values()].filter((a) => a.count !== SUBSCRIBERS).length;
    const jitter = snapshotGaps.map((gap) => Math.abs(gap - 2_000));
    console.log(`  ${SUBSCRIBERS} SSE subscribers, ${CONTACTS} contacts, ${arrivals.size} contact transitions, ${ended} streams ended`);
    console.log(
      `  delay transition → all subscribers: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms (target p99 <= 250)`,
    );
    console.log(`  transitions not seen by every subscriber: ${incomplete}`);
    console.log(
      `  snapshot tick jitter over ${jitter.length} gaps: p50 ${percentile(jitter, 50)} ms, p99 ${percentile(jitter, 99)} ms, max ${Math.max(...jitter)} ms (target <= 100)`,
    );
  } finally {
    server.stop();
  }
}
