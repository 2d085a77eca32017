import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  allTransitionIds,
  api,
  createCampaign,
  launchChromium,
  newTenant,
  SCREENSHOTS,
  startProxy,
  startSite,
  type Tenant,
  until,
  watchConsole,
  worker,
} from "./harness";
import { PAGE_PORT, PROXY_PORT } from "./ports";

let browser: Browser;
let site: Awaited<ReturnType<typeof startSite>>;
let proxy: Awaited<ReturnType<typeof startProxy>>;
let tenant: Tenant;

beforeAll(async () => {
  [browser, site, proxy, tenant] = await Promise.all([launchChromium(), startSite(PAGE_PORT), startProxy(PROXY_PORT, worker().origin), newTenant()]);
});
afterAll(async () => {
  await Promise.all([browser?.close(), site?.close(), proxy?.close()]);
});

/** Answered (00–69), busy (70–79), no answer (80–89), voicemail (95–97): a mix of outcomes in the log. */
const numbers = (count: number, start = 0) => Array.from({ length: count }, (_, i) => `+1415555${String(1000 + start + i * 7).padStart(4, "0")}`);

interface Issued {
  token: string;
  expires_at: string;
}

/**
 * The customer's backend: POST /token mints an events token with the customer's own API key,
 * bound to `origin` (the page's own by default), and keeps what it handed out.
 */
function serveTokens(origin = site.origin) {
  const issued: Issued[] = [];
  site.route("POST", "/token", async (_req, res, body) => {
    const { campaign_id } = JSON.parse(body) as { campaign_id: string };
    const minted = await api<Issued>(tenant, "POST", `/api/v1/campaigns/${campaign_id}/events/token`, { origin });
    issued.push(minted);
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token: minted.token, expires_at: minted.expires_at }));
  });
  return issued;
}

/** A customer page on another origin that embeds the widget in the documented five lines and records what it announces. */
function embedPage(widgetOrigin: string, attributes: string) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme CRM</title><link rel="icon" href="data:,">
<style>body { font-family: system-ui, sans-serif; background: #f6f8fa; margin: 24px; max-width: 560px; } edgedial-campaign { --edgedial-radius: 12px; }</style>
<script>
  window.seen = { contacts: [], snapshots: 0, ends: 0, errors: [] };
  addEventListener("edgedial-snapshot", () => seen.snapshots++);
  addEventListener("edgedial-contact", (e) => seen.contacts.push(e.detail.id));
  addEventListener("edgedial-end", () => seen.ends++);
  addEventListener("edgedial-error", (e) => seen.errors.push(e.detail.message));
</script>
<script type="module" src="${widgetOrigin}/widget.js"></script>
</head><body><h1>Acme CRM: this week's calls</h1>
<edgedial-campaign ${attributes}></edgedial-campaign>
</body></html>`;
}

interface Seen {
  contacts: number[];
  snapshots: number;
  ends: number;
  errors: string[];
}
const seen = (page: Page) => page.evaluate(() => (window as unknown as { seen: Seen }).seen);
const widgetState = (page: Page) => page.locator("edgedial-campaign").getAttribute("state");
const shadowText = (page: Page, selector: string) => page.locator(`edgedial-campaign ${selector}`).first().textContent();

describe("the widget on another origin", () => {
  it("shows a running campaign live, reaches end, and logs no console errors", async () => {
    const { id } = await createCampaign(tenant, numbers(12), { max_concurrent_calls: 3 });
    const issued = serveTokens();
    site.page("/crm.html", embedPage(worker().origin, `campaign="${id}" token-url="/token"`));
    const page = await browser.newPage({ viewport: { width: 640, height: 720 } });
    const errors = watchConsole(page);
    const origins = new Set<string>();
    page.on("request", (request) => {
      origins.add(new URL(request.url()).origin);
    });
    await page.goto(`${site.origin}/crm.html`);
    // Started once the widget follows it: the simulator can finish 12 calls before a page loads.
    await page.waitForSelector('edgedial-campaign[state="live"]', { timeout: 10_000 });
    await api(tenant, "POST", `/api/v1/campaigns/${id}/start`);

    await page.waitForSelector('edgedial-campaign[state="ended"]', { timeout: 30_000 });
    expect([...origins].sort(), "only the page's own backend and edgedial").toEqual([site.origin, worker().origin].sort());
    const final = await api<{ status: string; stats: Record<string, number> }>(tenant, "GET", `/api/v1/campaigns/${id}`);
    expect(final.status).toBe("completed");
    const got = await seen(page);
    expect(got.snapshots).toBeGreaterThanOrEqual(2);
    expect(got.ends).toBe(1);
    expect(got.contacts.length).toBeGreaterThan(0);
    // Joined mid-run without a Last-Event-ID: from its first transition on, nothing is skipped.
    const all = await allTransitionIds(tenant, id);
    const first = got.contacts[0] ?? 0;
    expect(got.contacts).toEqual(all.filter((n) => n >= first));
    expect(issued.length).toBeGreaterThanOrEqual(1);

    expect(await shadowText(page, "h2")).toBe("Spring renewals");
    expect(await shadowText(page, ".status")).toBe("completed");
    const counts = await page.locator("edgedial-campaign dd").allTextContents();
    expect(counts.slice(0, 6)).toEqual(
      [final.stats.total, final.stats.pending, 0, final.stats.completed, final.stats.failed, final.stats.cancelled].map(String),
    );
    expect(await page.locator("edgedial-campaign ol li").count()).toBeGreaterThan(0);
    expect(await page.locator("edgedial-campaign li span").first().textContent(), "numbers are masked on a customer page").toMatch(/^•••\d{4}$/);
    expect(await page.locator("edgedial-campaign [aria-live]").textContent()).toMatch(
      /^Spring renewals completed: \d+ completed, \d+ failed, 0 cancelled of 12\.$/,
    );
    expect(await page.locator("edgedial-campaign path.area").getAttribute("d")).toMatch(/^M0,64L.+Z$/);

    await page.screenshot({ path: join(SCREENSHOTS, "widget.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("keeps a long campaign name inside its box: the host page never scrolls sideways", async () => {
    const long = `Quarterly renewals for ${"Analytical-Engines-and-Difference-Machines-Limited-".repeat(3)}`;
    const { id } = await createCampaign(tenant, numbers(2), { name: long.slice(0, 200) });
    serveTokens();
    site.page("/crm-long.html", embedPage(worker().origin, `campaign="${id}" token-url="/token"`));
    const page = await browser.newPage({ viewport: { width: 480, height: 600 } });
    const errors = watchConsole(page);
    await page.goto(`${site.origin}/crm-long.html`);
    await page.waitForSelector('edgedial-campaign[state="live"]', { timeout: 10_000 });
    expect(await shadowText(page, "h2")).toBe(long.slice(0, 200));
    await page.screenshot({ path: join(SCREENSHOTS, "widget-long-name.png"), fullPage: true });
    const fit = await page.evaluate(() => {
      const widget = document.querySelector("edgedial-campaign") as HTMLElement;
      const title = widget.shadowRoot?.querySelector("h2") as HTMLElement;
      const body = document.body.getBoundingClientRect();
      return {
        pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        widgetInsideBody: widget.getBoundingClientRect().right <= body.right + 0.5,
        titleCut: title.scrollWidth > title.clientWidth,
      };
    });
    expect(fit).toEqual({ pageOverflow: 0, widgetInsideBody: true, titleCut: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("is refused with a token bound to another origin, and says so in its error state", async () => {
    const { id } = await createCampaign(tenant, numbers(3));
    const { token } = await api<Issued>(tenant, "POST", `/api/v1/campaigns/${id}/events/token`, { origin: "https://crm.example.com" });
    site.page("/crm.html", embedPage(worker().origin, `campaign="${id}" token="${token}"`));
    const page = await browser.newPage({ viewport: { width: 640, height: 420 } });
    const errors = watchConsole(page);
    await page.goto(`${site.origin}/crm.html`);

    await page.waitForSelector('edgedial-campaign[state="error"]', { timeout: 15_000 });
    const alert = page.locator('edgedial-campaign [role="alert"]');
    expect(await alert.isVisible()).toBe(true);
    expect(await alert.textContent()).toMatch(/minted for another origin and cannot be used from http:\/\/127\.0\.0\.1:8841/);
    expect((await seen(page)).errors).toHaveLength(1);
    expect(
      errors.filter((e) => e.startsWith("uncaught")),
      "refusal is handled, not thrown",
    ).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, "widget-refused.png"), fullPage: true });
    await page.close();
  });
});

describe("the widget misconfigured", () => {
  it("says what is missing instead of failing silently", async () => {
    site.page(
      "/broken.html",
      embedPage(worker().origin, 'campaign="cmp_missingtoken"').replace(
        "</body>",
        '<edgedial-campaign id="no-campaign" token-url="/token"></edgedial-campaign></body>',
      ),
    );
    const page = await browser.newPage();
    const errors = watchConsole(page);
    await page.goto(`${site.origin}/broken.html`);
    await page.waitForSelector('edgedial-campaign[state="error"] >> nth=1', { timeout: 10_000 });
    const alerts = await page.locator('edgedial-campaign [role="alert"]').allTextContents();
    expect(alerts).toEqual(["No events token: set the token or token-url attribute.", "Set the campaign attribute to the id of a campaign (cmp_…)."]);
    expect((await seen(page)).errors).toHaveLength(2);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("widget.js", () => {
  it("is served at the edge for any origin: CORS, a short cache with revalidation by content hash", async () => {
    const res = await fetch(`${worker().origin}/widget.js`, { headers: { Origin: site.origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300, stale-while-revalidate=86400");
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    const source = await res.text();
    expect(source).toContain('customElements.define("edgedial-campaign"');
    const again = await fetch(`${worker().origin}/widget.js`, { headers: { "If-None-Match": etag ?? "" } });
    expect(again.status, "unchanged: revalidated without a body").toBe(304);
    await again.arrayBuffer();
    const headersFile = await fetch(`${worker().origin}/_headers`);
    expect(headersFile.status, "the asset rules are configuration, not a file").toBe(404);
    await headersFile.arrayBuffer();
    const size = gzipSync(source, { level: 9 }).byteLength;
    expect(size, `widget.js is ${size} bytes gzipped`).toBeLessThanOrEqual(20 * 1024);
  });
});

describe("the widget across disconnects and token expiry", () => {
  /** Loads the widget through the proxy on a draft campaign, then starts it: the widget sees every transition from id 1. */
  async function watchFromStart(contacts: number) {
    const { id } = await createCampaign(tenant, numbers(contacts, 3), { max_concurrent_calls: 2 });
    const issued = serveTokens();
    site.page("/crm.html", embedPage(proxy.origin, `campaign="${id}" token-url="/token"`));
    const page = await browser.newPage();
    await page.goto(`${site.origin}/crm.html`);
    await page.waitForSelector('edgedial-campaign[state="live"]', { timeout: 15_000 });
    await api(tenant, "POST", `/api/v1/campaigns/${id}/start`);
    await page.waitForFunction(() => (window as unknown as { seen: Seen }).seen.contacts.length >= 3, undefined, { timeout: 15_000 });
    return { id, page, issued };
  }

  /** The widget must end up with exactly the server's log: every transition once, in order. */
  async function expectEveryTransitionOnce(page: Page, id: string) {
    await page.waitForSelector('edgedial-campaign[state="ended"]', { timeout: 30_000 });
    const all = await allTransitionIds(tenant, id);
    expect(all[0]).toBe(1);
    expect((await seen(page)).contacts).toEqual(all);
  }

  it("survives a dropped connection without losing or repeating a transition", async () => {
    const { id, page } = await watchFromStart(16);
    const before = proxy.log.length;
    const lastSeen = Math.max(...(await seen(page)).contacts);
    proxy.dropConnections();
    // Transitions keep happening while the widget is cut off: the calls in flight drain after the pause.
    await api(tenant, "POST", `/api/v1/campaigns/${id}/pause`);
    await until(async () => (await widgetState(page)) === "live" && proxy.log.length > before, "the widget to reconnect");
    const reconnects = proxy.log.slice(before).filter((r) => r.method === "GET" && r.path.includes("/events?"));
    expect(reconnects.length).toBeGreaterThan(0);
    // With its token still fresh, the browser's own EventSource reconnects and sends Last-Event-ID;
    // on a machine so slow that the token is near expiry, the widget reopens with ?last_event_id=.
    const first = reconnects[0];
    const resumedFrom = Number(first?.lastEventId ?? new URL(first?.path ?? "/", "http://x").searchParams.get("last_event_id"));
    expect(resumedFrom, `the reconnect names the last transition it saw (${first?.lastEventId ? "Last-Event-ID" : "last_event_id"})`).toBeGreaterThanOrEqual(
      lastSeen,
    );
    await api(tenant, "POST", `/api/v1/campaigns/${id}/resume`);
    await expectEveryTransitionOnce(page, id);
    await page.close();
  });

  it("renews its token from token-url before expiry and reconnects with the fresh one", async () => {
    const { id, page, issued } = await watchFromStart(16);
    await api(tenant, "POST", `/api/v1/campaigns/${id}/pause`);
    const first = issued[0] as Issued;
    // Tokens live 10 s in this server: the widget asks for the next one at 7.5 s, before the first expires.
    await until(() => issued.length >= 2, "a renewal from token-url", 15_000);
    expect(Date.parse(first.expires_at) - Date.now(), "renewed before expiry").toBeGreaterThan(0);
    await until(() => Date.now() > Date.parse(first.expires_at) + 250, "the first token to expire", 15_000);

    const before = proxy.log.length;
    const lastSeen = Math.max(...(await seen(page)).contacts);
    proxy.dropConnections();
    await until(async () => (await widgetState(page)) === "live" && proxy.log.length > before, "the widget to reconnect");
    const reconnects = proxy.log.slice(before).filter((r) => r.path.includes("/events?"));
    expect(reconnects.length).toBeGreaterThan(0);
    expect(
      reconnects.every((r) => !r.path.includes(encodeURIComponent(first.token)) && !r.path.includes(first.token)),
      "never the expired token",
    ).toBe(true);
    expect(reconnects.map((r) => r.status).filter((s) => s !== undefined && s >= 400)).toEqual([]);
    // A new EventSource cannot set Last-Event-ID: the position travels in the query instead.
    const resumedFrom = Number(new URL(reconnects[0]?.path ?? "/", "http://x").searchParams.get("last_event_id"));
    expect(resumedFrom, "last_event_id names the last transition it saw").toBeGreaterThanOrEqual(lastSeen);
    await api(tenant, "POST", `/api/v1/campaigns/${id}/resume`);
    await expectEveryTransitionOnce(page, id);
    await page.close();
  });
});

describe("the widget's counts by disposition", () => {
  it("shows the snapshot's dispositions as a labelled list, most frequent first, follows them live, and keeps its place after a result", async () => {
    const campaignId = "cmp_01jz3k4m5n6p7q8r9s0t1v2w3x";
    const snapshot = (dispositions: Record<string, number>, status = "running") => ({
      campaign_id: campaignId,
      name: "Spring renewals",
      status,
      status_reason: null,
      stats: { total: 10, pending: 2, originated: 0, connected: 1, completed: 6, failed: 1, cancelled: 0, dispositions },
      in_flight: 1,
      attempts: 8,
      at: new Date().toISOString(),
    });
    const result = {
      contact_id: "ctc_1",
      call_id: "call_1",
      disposition: "callback_requested",
      callback_at: "2030-01-07T16:00:00.000Z",
      opt_out: false,
      at: new Date().toISOString(),
    };
    // The stream as the Worker frames it: a snapshot, a result in the event id sequence, and the final snapshot.
    const stream = [
      "retry: 3000\n\n",
      `data: ${JSON.stringify(snapshot({ interested: 1 }))}\n\n`,
      `event: result\nid: 7\ndata: ${JSON.stringify(result)}\n\n`,
      `event: end\ndata: ${JSON.stringify(snapshot({ not_interested: 1, interested: 3, callback_requested: 1 }, "completed"))}\n\n`,
    ].join("");
    site.page(
      "/dispositions.html",
      embedPage(worker().origin, `campaign="${campaignId}" token="evt_fixed"`).replace(
        "edgedial-campaign { --edgedial-radius: 12px; }",
        "edgedial-campaign { --edgedial-radius: 12px; --edgedial-disposition: rgb(130, 80, 223); }",
      ),
    );
    const page = await browser.newPage({ viewport: { width: 640, height: 900 } });
    const errors = watchConsole(page);
    await page.route(`${worker().origin}/api/v1/campaigns/${campaignId}/events?*`, (route) =>
      route.fulfill({ status: 200, headers: { "Content-Type": "text/event-stream", "Access-Control-Allow-Origin": "*" }, body: stream }),
    );
    await page.addInitScript(() => {
      (window as unknown as { results: unknown[] }).results = [];
      addEventListener("edgedial-result", (e) => (window as unknown as { results: unknown[] }).results.push((e as CustomEvent).detail));
    });
    await page.goto(`${site.origin}/dispositions.html`);
    await page.waitForSelector('edgedial-campaign[state="ended"]', { timeout: 10_000 });

    const list = page.getByRole("region", { name: "Results by disposition" });
    await expect.poll(() => list.locator("dd").allTextContents()).toEqual(["3", "1", "1"]);
    expect(await list.locator("dt").allTextContents(), "most frequent first, then by name, in words").toEqual([
      "interested",
      "callback requested",
      "not interested",
    ]);
    expect(await page.evaluate(() => (window as unknown as { results: unknown[] }).results)).toEqual([{ id: 7, ...result }]);
    expect(await page.locator("edgedial-campaign").evaluate((el) => (el as HTMLElement & { lastEventId: string | null }).lastEventId)).toBe("7");
    const bar = list.locator(".share").first();
    expect(await bar.evaluate((el) => getComputedStyle(el).backgroundColor), "styled by --edgedial-disposition").toBe("rgb(130, 80, 223)");
    expect(await bar.getAttribute("aria-hidden")).toBe("true");
    await page.locator("edgedial-campaign").screenshot({ path: join(SCREENSHOTS, "widget-dispositions.png") });
    expect(errors).toEqual([]);
    await page.close();
  });
});
