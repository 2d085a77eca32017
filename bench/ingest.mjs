// Ingest: a 100k-row, 7-column CSV created over HTTP against `wrangler dev`, versus papaparse +
// one node:sqlite transaction on the same file (the floor for "parse and store 100k rows").
import { DatabaseSync } from "node:sqlite";
import Papa from "papaparse";
import { median, provisionTenant, startServer } from "./server.mjs";

const ROWS = 100_000;
/** Measured pairs (after one warm-up of each side); BENCH_RUNS overrides. */
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

export function generateCsv(rows = ROWS) {
  const lines = ["phone_number,first_name,last_name,email,city,plan,account_ref"];
  const cities = ["Lisbon", "Austin", "Pune", "Leeds", "Osaka", "Recife"];
  for (let i = 0; i < rows; i++) {
    const n = String(i).padStart(7, "0");
    lines.push(
      `+1 (415) ${n.slice(0, 3)}-${n.slice(3)},First${i},Lastname${i},person${i}@mail.example.com,${cities[i % 6]},${i % 3 ? "gold" : "silver"},ACC-${n}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function baseline(csv) {
  const started = performance.now();
  const parsed = Papa.parse(csv, { header: true, skipEmptyLines: true });
  const db = new DatabaseSync(":memory:");
  db.exec(`CREATE TABLE contacts (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, seq INTEGER NOT NULL, row INTEGER NOT NULL,
    phone_number TEXT NOT NULL, custom_fields TEXT NOT NULL, status TEXT NOT NULL);
    CREATE UNIQUE INDEX contacts_campaign_seq ON contacts (campaign_id, seq);
    CREATE INDEX contacts_campaign_status_seq ON contacts (campaign_id, status, seq);`);
  const insert = db.prepare("INSERT INTO contacts VALUES (?, 'cmp_1', ?, ?, ?, ?, 'pending')");
  db.exec("BEGIN");
  parsed.data.forEach((row, i) => {
    const { phone_number, ...fields } = row;
    insert.run(`ctc_${i}`, i, i + 2, phone_number, JSON.stringify(fields));
  });
  db.exec("COMMIT");
  const count = db.prepare("SELECT count(*) AS n FROM contacts").get().n;
  if (count !== ROWS) throw new Error(`baseline stored ${count} rows`);
  return performance.now() - started;
}

/** Contacts page 0 vs page 999 of the last 100k campaign: offset must be a seek, not a scan. */
async function timePages(origin, key) {
  const headers = { Authorization: `Bearer ${key}` };
  const list = await (await fetch(`${origin}/api/v1/campaigns?limit=1`, { headers })).json();
  const id = list.campaigns[0].id;
  const time = async (page) => {
    const samples = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      const res = await fetch(`${origin}/api/v1/campaigns/${id}/contacts?page=${page}`, { headers });
      const body = await res.json();
      samples.push(performance.now() - started);
      if (body.count !== 100) throw new Error(`page ${page} returned ${body.count} contacts`);
    }
    return median(samples);
  };
  await time(0);
  const first = await time(0);
  const last = await time(999);
  console.log(`  contacts page 0: ${first.toFixed(1)} ms, page 999: ${last.toFixed(1)} ms (median of 15, 100 per page)`);
}

export async function benchIngest() {
  const csv = generateCsv();
  console.log(`ingest: ${ROWS} rows x 7 columns, ${(csv.length / 1024 / 1024).toFixed(2)} MiB`);
  const server = await startServer();
  try {
    const tenant = await provisionTenant(server);
    const create = async (name) => {
      const form = new FormData();
      form.set("name", name);
      form.set("agent_id", tenant.agentId);
      form.set("phone_number_id", tenant.numberId);
      form.set("contacts", new Blob([csv], { type: "text/csv" }), "contacts.csv");
      const started = performance.now();
      const res = await fetch(`${server.origin}/api/v1/campaigns`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` }, body: form });
      const body = await res.json();
      const elapsed = performance.now() - started;
      if (res.status !== 201 || body.stats.total !== ROWS) throw new Error(`create failed: ${res.status} ${JSON.stringify(body)}`);
      return elapsed;
    };
    // One warm-up each (JIT, first D1 pages), then pairs side by side so a busy machine slows both alike.
    await create("Warm-up");
    baseline(csv);
    const ours = [];
    const base = [];
    for (let run = 0; run < RUNS; run++) {
      ours.push(await create(`Bench ${run}`));
      base.push(baseline(csv));
    }
    await timePages(server.origin, tenant.key);
    const o = median(ours);
    const b = median(base);
    const ratios = ours.map((t, i) => t / base[i]).sort((x, y) => x - y);
    const fmt = (values) => values.map((t) => t.toFixed(0)).join(", ");
    console.log(`  edgedial POST /campaigns (HTTP, wrangler dev): median ${o.toFixed(0)} ms  [${fmt(ours)}]`);
    console.log(`  baseline papaparse + node:sqlite (1 txn):       median ${b.toFixed(0)} ms  [${fmt(base)}]`);
    console.log(
      `  ratio ours/baseline: ${(o / b).toFixed(2)} (target <= 1.5); per pair ${ratios[0].toFixed(2)}–${ratios.at(-1).toFixed(2)}, median ${median(ratios).toFixed(2)}`,
    );
    return { ours: o, baseline: b, ratio: o / b };
  } finally {
    server.stop();
  }
}
