// Export: GET /campaigns/{id}/contacts.csv of 10k, 50k and 100k contacts against `wrangler dev`: time
// to the last byte, the Worker isolate's heap (through the inspector, after a full GC) and the
// workerd process's resident memory while it streams. Flat memory: the heap peak does not grow with size.
import { readdirSync, readFileSync } from "node:fs";
import { generateCsv } from "./ingest.mjs";
import { provisionTenant, startServer } from "./server.mjs";

/** Resident memory of the workerd processes under `root` (wrangler's child), in MiB. */
function workerdRss(root) {
  const parents = new Map();
  const names = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
    } catch {}
  }
  const underRoot = (pid) => {
    for (let p = pid; p > 1; p = parents.get(p) ?? 0) if (p === root) return true;
    return false;
  };
  let kib = 0;
  for (const [pid, name] of names) {
    if (!name.startsWith("workerd") || !underRoot(pid)) continue;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    kib += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return kib / 1024;
}

/** The Worker isolate's heap through wrangler's inspector (DevTools protocol): used bytes, after a full GC when asked. */
async function connectInspector(port, origin) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  // The inspector proxy accepts local origins only.
  const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { Origin: "http://localhost" } });
  // The proxy attaches to the isolate on the first command and drops it: send one, wait for the context.
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", () => ws.send(JSON.stringify({ id: 0, method: "Runtime.enable" })));
    ws.addEventListener("message", (event) => {
      if (String(event.data).includes("executionContextCreated")) resolve();
    });
    ws.addEventListener("error", reject);
  });
  let next = 1;
  const pending = new Map();
  ws.addEventListener("close", () => {
    for (const reject of pending.values()) reject(new Error("the inspector connection closed"));
  });
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  // Without the heap profiler enabled, collectGarbage is never answered.
  await send("HeapProfiler.enable");
  return {
    heapMiB: async () => (await send("Runtime.getHeapUsage")).usedSize / 1024 / 1024,
    // The isolate takes the command when it next runs: a request wakes it.
    collectGarbage: async () => {
      const collected = send("HeapProfiler.collectGarbage");
      await (await fetch(`${origin}/healthz`)).text();
      await collected;
    },
    close: () => ws.close(),
  };
}

async function createCampaign(server, tenant, rows) {
  const form = new FormData();
  form.set("name", `Export ${rows}`);
  form.set("agent_id", tenant.agentId);
  form.set("phone_number_id", tenant.numberId);
  form.set("contacts", new Blob([generateCsv(rows)], { type: "text/csv" }), "contacts.csv");
  const res = await fetch(`${server.origin}/api/v1/campaigns`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` }, body: form });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** Streams the export, counting bytes and lines, while sampling the isolate's heap and workerd's memory every 10 ms. */
async function exportOnce(server, inspector, tenant, id) {
  await inspector.collectGarbage();
  const heapBefore = await inspector.heapMiB();
  const rssBefore = workerdRss(server.pid);
  let heapPeak = heapBefore;
  let rssPeak = rssBefore;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      heapPeak = Math.max(heapPeak, await inspector.heapMiB());
      rssPeak = Math.max(rssPeak, workerdRss(server.pid));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const started = performance.now();
  const res = await fetch(`${server.origin}/api/v1/campaigns/${id}/contacts.csv`, { headers: { Authorization: `Bearer ${tenant.key}` } });
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body) {
    bytes += chunk.byteLength;
    for (const byte of chunk) if (byte === 10) lines++;
  }
  const elapsed = performance.now() - started;
  sampling = false;
  await sampler;
  return { elapsed, bytes, lines, heapBefore, heapPeak, rssBefore, rssPeak };
}

export async function benchExport() {
  console.log("export: GET /campaigns/{id}/contacts.csv of 10k, 50k and 100k contacts x 7 columns, streamed to the end");
  const basePort = Number(process.env.BENCH_PORT ?? 8788);
  const server = await startServer({ inspectorPort: basePort + 2 });
  let inspector = null;
  try {
    const tenant = await provisionTenant(server);
    const sizes = [10_000, 50_000, 100_000];
    const ids = [];
    for (const rows of sizes) ids.push(await createCampaign(server, tenant, rows));
    // Connected just before measuring: the inspector proxy drops an idle connection.
    inspector = await connectInspector(basePort + 2, server.origin);
    await exportOnce(server, inspector, tenant, ids[0]); // warm-up
    const results = [];
    for (let run = 0; run < 2; run++) {
      for (const [i, rows] of sizes.entries()) results.push({ rows, ...(await exportOnce(server, inspector, tenant, ids[i])) });
    }
    for (const r of results) {
      if (r.lines !== r.rows + 1) throw new Error(`export of ${r.rows} returned ${r.lines} lines`);
      console.log(
        `  ${String(r.rows).padStart(6)} contacts: ${r.elapsed.toFixed(0)} ms, ${(r.bytes / 1024 / 1024).toFixed(1)} MiB; ` +
          `isolate heap ${r.heapBefore.toFixed(1)} MiB before, peak +${(r.heapPeak - r.heapBefore).toFixed(1)} MiB; ` +
          `workerd RSS peak +${(r.rssPeak - r.rssBefore).toFixed(1)} MiB`,
      );
    }
    return results;
  } finally {
    inspector?.close();
    await server.stop();
  }
}
