// Widget: many <edgedial-campaign> widgets (pages in one Chromium) on one campaign. Measures the
// Worker's requests per widget per minute while the campaign sits idle, then, while it runs, the
// delay from each contact transition (its server `at`) to the frame that painted it.
import { readFileSync } from "node:fs";
import { createServer, request as forward } from "node:http";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { launchHeadless } from "./chromium.mjs";
import { provisionTenant, startServer } from "./server.mjs";

const WIDGETS = Number(process.env.BENCH_WIDGETS ?? 200);
// Four minutes covers one token renewal per widget (at 75% of the 5-minute lifetime).
const IDLE_SECONDS = Number(process.env.BENCH_WIDGET_IDLE_SECONDS ?? 240);
const CONTACTS = 100;
const PORTS = { worker: 8844, page: 8845, proxy: 8846, inspector: 8847 };

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

function listen(server, port) {
  return new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
}

/** A counting proxy in front of the Worker: every request a widget makes passes here. */
async function countingProxy(target) {
  const upstream = new URL(target);
  const counts = { requests: 0, paths: new Map() };
  const server = createServer((req, res) => {
    counts.requests++;
    const kind = `${req.method} ${(req.url ?? "").replace(/\?.*/, "").replace(/cmp_\w+/, "{id}")}${req.headers["last-event-id"] ? " (Last-Event-ID)" : ""}`;
    counts.paths.set(kind, (counts.paths.get(kind) ?? 0) + 1);
    const outgoing = forward(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on("error", () => res.destroy());
    res.on("close", () => outgoing.destroy());
    req.pipe(outgoing);
  });
  await listen(server, PORTS.proxy);
  return { origin: `http://127.0.0.1:${PORTS.proxy}`, counts, close: () => server.close() };
}

/** The customer's site: the embedding page and its token endpoint, which mints through the Worker. */
async function customerSite(worker, tenant, widgetOrigin) {
  const counts = { mints: 0 };
  const server = createServer(async (req, res) => {
    if (req.method === "POST" && req.url === "/token") {
      let body = "";
      for await (const chunk of req) body += chunk;
      counts.mints++;
      const { campaign_id } = JSON.parse(body);
      const minted = await fetch(`${worker}/api/v1/campaigns/${campaign_id}/events/token`, {
        method: "POST",
        headers: { Authorization: `Bearer ${tenant.key}`, "Content-Type": "application/json" },
        body: JSON.stringify({ origin: `http://127.0.0.1:${PORTS.page}` }),
      });
      res.writeHead(minted.status, { "Content-Type": "application/json" }).end(await minted.text());
      return;
    }
    const campaign = new URL(req.url ?? "/", "http://x").searchParams.get("campaign");
    res.writeHead(200, { "Content-Type": "text/html" }).end(`<!doctype html><html><head><link rel="icon" href="data:,">
<script>
  window.delays = [];
  addEventListener("edgedial-contact", (e) => {
    const at = Date.parse(e.detail.at);
    // The widget paints in its animation frame, queued before this listener's: this frame follows it.
    requestAnimationFrame(() => delays.push(Date.now() - at));
  });
</script>
<script type="module" src="${widgetOrigin}/widget.js"></script></head>
<body><edgedial-campaign campaign="${campaign}" token-url="/token"></edgedial-campaign></body></html>`);
  });
  await listen(server, PORTS.page);
  return { origin: `http://127.0.0.1:${PORTS.page}`, counts, close: () => server.close() };
}

export async function benchWidget() {
  const source = readFileSync(new URL("../public/widget.js", import.meta.url));
  console.log(`widget: widget.js is ${source.byteLength} bytes, ${gzipSync(source, { level: 9 }).byteLength} bytes gzipped`);
  const server = await startServer({ port: PORTS.worker, inspectorPort: PORTS.inspector, vars: { SIMULATOR_TIME_SCALE: "0.05" } });
  const proxy = await countingProxy(server.origin);
  let site;
  let browser;
  try {
    const tenant = await provisionTenant(server, { concurrent_max: 20, calls_per_minute: 1_000_000 });
    site = await customerSite(server.origin, tenant, proxy.origin);
    const contacts = Array.from({ length: CONTACTS }, (_, i) => ({ phone_number: `+1558${String(Math.floor(i / 70) * 100 + (i % 70)).padStart(7, "0")}` }));
    const created = await fetch(`${server.origin}/api/v1/campaigns`, {
      method: "POST",
      headers: { Authorization: `Bearer ${tenant.key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Widget bench", agent_id: tenant.agentId, phone_number_id: tenant.numberId, max_concurrent_calls: 10, contacts }),
    }).then((r) => r.json());

    browser = await launchHeadless(chromium);
    // One browser context per widget: Chromium allows 6 HTTP/1.1 connections per host and context,
    // and each widget holds one open stream (production speaks HTTP/2 and has no such limit).
    const pages = [];
    for (let i = 0; i < WIDGETS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, WIDGETS - i) }, async () => {
          const context = await browser.newContext({ viewport: { width: 480, height: 480 } });
          const page = await context.newPage();
          await page.goto(`${site.origin}/?campaign=${created.id}`);
          return page;
        }),
      );
      pages.push(...batch);
    }
    await Promise.all(pages.map((page) => page.waitForSelector('edgedial-campaign[state="live"]', { timeout: 120_000 })));
    console.log(`  ${WIDGETS} widgets live (${proxy.counts.requests} Worker requests through the proxy and ${site.counts.mints} token mints to get there)`);

    const idleStart = { requests: proxy.counts.requests, mints: site.counts.mints };
    proxy.counts.paths.clear();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const streamRequests = proxy.counts.requests - idleStart.requests;
    const mints = site.counts.mints - idleStart.mints;
    const perMinute = (n) => ((n / WIDGETS) * (60 / IDLE_SECONDS)).toFixed(3);
    console.log(
      `  idle ${IDLE_SECONDS} s: ${streamRequests + mints} Worker requests = ${perMinute(streamRequests + mints)} per widget per minute (${perMinute(mints)} token mints by the page's backend, ${perMinute(streamRequests)} from the widgets: ${JSON.stringify(Object.fromEntries(proxy.counts.paths))})`,
    );

    const started = Date.now();
    await fetch(`${server.origin}/api/v1/campaigns/${created.id}/start`, { method: "POST", headers: { Authorization: `Bearer ${tenant.key}` } });
    await Promise.all(pages.map((page) => page.waitForSelector('edgedial-campaign[state="ended"]', { timeout: 300_000 })));
    const delays = (await Promise.all(pages.map((page) => page.evaluate(() => window.delays)))).flat();
    console.log(
      `  running: ${CONTACTS} contacts in ${((Date.now() - started) / 1000).toFixed(1)} s, ${delays.length} transitions painted; transition→paint p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms`,
    );
  } finally {
    await browser?.close();
    site?.close();
    proxy.close();
    server.stop();
  }
}
