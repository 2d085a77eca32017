import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEBHOOK_EVENT_TYPES } from "../../src/outbox/event-types";
import {
  addMember,
  api,
  createCampaign,
  launchChromium,
  newTenant,
  SCREENSHOTS,
  signSession,
  startSite,
  type Tenant,
  until,
  watchConsole,
  worker,
} from "./harness";
import { DASHBOARD_PAGE_PORT } from "./ports";

const CONTACTS_CSV = readFileSync(join(import.meta.dirname, "..", "..", "examples", "contacts.csv"), "utf8");

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

/** A page that records every URL it requests and everything it logs, to prove the key goes nowhere but a header. */
async function openDashboard(context: BrowserContext) {
  const page = await context.newPage();
  const urls: string[] = [];
  const logged: string[] = [];
  page.on("request", (request) => urls.push(request.url()));
  page.on("console", (message) => logged.push(message.text()));
  const errors = watchConsole(page);
  return { page, urls, logged, errors };
}

const storage = (page: Page) =>
  page.evaluate(() => ({
    session: sessionStorage.getItem("edgedial.session"),
    local: Object.keys(localStorage),
    cookies: document.cookie,
  }));

/** How far the page and its widest table overflow sideways: both 0 when every column shows at once. */
const sideways = (page: Page) =>
  page.evaluate(() => ({
    page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    tables: Math.max(0, ...[...document.querySelectorAll<HTMLElement>(".table")].map((t) => t.scrollWidth - t.clientWidth)),
  }));

/** Drops a file on the drop zone the way a desktop drag does: a DataTransfer with a File, dragover, then drop. */
async function dropFile(page: Page, selector: string, name: string, text: string) {
  const transfer = await page.evaluateHandle(
    ([fileName, content]) => {
      const data = new DataTransfer();
      data.items.add(new File([content ?? ""], fileName ?? "upload.csv", { type: "text/csv" }));
      return data;
    },
    [name, text],
  );
  await page.dispatchEvent(selector, "dragover", { dataTransfer: transfer });
  await page.dispatchEvent(selector, "drop", { dataTransfer: transfer });
}

describe("signing in", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await newTenant();
  });

  it("takes the demo key from the #key= link into sessionStorage, strips it from the URL, and signing out forgets it", async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    const { page, urls, logged, errors } = await openDashboard(context);
    const { id } = await createCampaign(tenant, ["+14155550100"], { name: "Already there" });
    await page.goto(`${worker().origin}/#key=${tenant.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    expect(new URL(page.url()).hash).toBe("#/");
    const cdp = await context.newCDPSession(page);
    const { entries } = (await cdp.send("Page.getNavigationHistory")) as { entries: { url: string }[] };
    expect(
      entries.filter((e) => e.url.includes("#key=")),
      "the key URL is replaced in history, not kept",
    ).toEqual([]);
    expect(await storage(page)).toEqual({ session: JSON.stringify({ kind: "key", key: tenant.key }), local: [], cookies: "" });
    await page.getByRole("link", { name: "Already there" }).waitFor();
    expect(await page.locator("#who").textContent()).toBe(`Account ${tenant.account_id}`);

    // A cold load of a deep link works from the API alone, with the key still only in this tab.
    await page.goto(`${worker().origin}/#/campaigns/${id}`);
    await page.getByRole("heading", { name: "Already there", level: 1 }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Already there", level: 1 }).waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(await storage(page)).toEqual({ session: null, local: [], cookies: "" });
    const secret = tenant.key.slice(-12);
    expect(urls.filter((u) => u.includes(secret) && !u.includes("#key="))).toEqual([]);
    expect(logged.filter((line) => line.includes(secret))).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("checks a typed key before keeping it, and accepts a session JWT with its account", async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    const { page, errors } = await openDashboard(context);
    await page.goto(worker().origin);
    await page.getByLabel("Key", { exact: true }).fill(`sk_live_${tenant.account_id}_0000000000000000wrong`);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/invalid, revoked or expired/);
    expect((await storage(page)).session, "a refused key is never stored").toBeNull();

    await addMember(tenant, "operator@acme.test");
    await page.getByLabel("JWT").fill(await signSession("operator@acme.test"));
    await page.getByLabel("Account id").fill(tenant.account_id);
    await page.getByRole("button", { name: "Sign in with a session" }).click();
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    expect(JSON.parse((await storage(page)).session ?? "{}")).toMatchObject({ kind: "session", account: tenant.account_id });
    expect(errors.filter((e) => !e.includes("401"))).toEqual([]);
    await context.close();
  });
});

/**
 * The operator's whole path through the dashboard, one step per test on one page. Steps marked
 * with a branch need that branch's routes: preflight and export (results), clone and the DNC list
 * (dnc-clone), webhooks (webhooks).
 */
describe("dashboard flow", () => {
  let tenant: Tenant;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let campaignId = "";
  let site: Awaited<ReturnType<typeof startSite>>;
  const received: { type: string; signature: string | undefined }[] = [];

  beforeAll(async () => {
    tenant = await newTenant();
    site = await startSite(DASHBOARD_PAGE_PORT);
    site.route("POST", "/hook", (req, res, body) => {
      received.push({ type: JSON.parse(body).type, signature: req.headers["webhook-signature"] as string | undefined });
      res.writeHead(204).end();
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Each step fails within seconds, so one missing route cannot stall the run.
    context.setDefaultTimeout(10_000);
    ({ page, errors } = await openDashboard(context));
  });
  afterAll(async () => {
    await context?.close();
    await site?.close();
  });

  it("signs in with the demo key", async () => {
    // Its own tab: the #key= link is read on load, which a hash change on an open page is not.
    const signInTab = await context.newPage();
    await signInTab.goto(worker().origin);
    await signInTab.getByRole("heading", { name: "Sign in" }).waitFor();
    await signInTab.screenshot({ path: join(SCREENSHOTS, "dashboard-sign-in.png"), fullPage: true });
    expect(await signInTab.locator("#nav").isVisible(), "no section links before signing in").toBe(false);
    await signInTab.close();
    await page.goto(`${worker().origin}/#key=${tenant.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.getByText("No campaigns yet").waitFor();
  });

  it("drops examples/contacts.csv and shows the preflight before create (results: POST …/preflight)", async () => {
    await page.getByRole("link", { name: "New campaign" }).first().click();
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await dropFile(page, ".drop", "contacts.csv", CONTACTS_CSV);
    await page.getByLabel("Name").fill("Demo campaign");
    const panel = page.locator(".preflight");
    await expect.poll(() => panel.textContent(), { timeout: 10_000 }).not.toMatch(/Checking|appears here/);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-new-campaign.png"), fullPage: true });
    expect(await sideways(page), "nothing hides sideways at 1280 px").toEqual({ page: 0, tables: 0 });
    expect(await panel.textContent()).toMatch(/Ready: create would write 13 contacts/);
    expect(await panel.locator("dl.figures").textContent()).toMatch(/Contacts13Duplicates skipped1On the do-not-call list0/);
    expect(await panel.textContent()).toMatch(/Countries: US 13/);
    expect(await page.getByRole("button", { name: "Create campaign" }).isEnabled()).toBe(true);
  });

  it("creates the campaign, starts it and follows the counts to completed", async () => {
    await expect.poll(() => page.getByRole("button", { name: "Create campaign" }).isEnabled(), { timeout: 10_000 }).toBe(true);
    await page.getByRole("button", { name: "Create campaign" }).click();
    await page.getByText('Created "Demo campaign" with 13 contacts (1 duplicate rows skipped)').waitFor();
    campaignId = new URL(page.url()).hash.replace("#/campaigns/", "");
    expect(campaignId).toMatch(/^cmp_/);
    expect(await page.locator(".title").textContent(), "name and status, nothing else").toBe("Demo campaigndraft");

    await page.getByRole("button", { name: "Start" }).click();
    await page.waitForSelector('edgedial-campaign[state="ended"]', { timeout: 30_000 });
    await expect.poll(() => page.locator(".title .badge").first().textContent(), { timeout: 10_000 }).toBe("completed");
    const counts = await page.locator("edgedial-campaign dd").allTextContents();
    expect(counts.slice(0, 6), "total, pending, in flight, completed, failed, cancelled").toEqual(["13", "0", "0", "9", "4", "0"]);
    expect(await page.locator("edgedial-campaign li span").first().textContent(), "the operator sees full numbers").toMatch(/^\+1415555\d{4}$/);
    await expect.poll(() => page.locator("section.stack tbody tr").count()).toBe(13);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-campaign.png"), fullPage: true });
    expect(await sideways(page), "nothing hides sideways at 1280 px").toEqual({ page: 0, tables: 0 });

    await page.getByLabel("Contact status").selectOption("failed");
    await expect.poll(() => page.locator("section.stack tbody tr").count()).toBe(4);
    expect(await page.locator(".pager span").last().textContent()).toBe("1–4 of 4");
  });

  /** Each later step starts from its own page, so one step's failure does not fail the next. */
  const open = async (hash: string, heading: string) => {
    await page.goto(`${worker().origin}/${hash}`);
    await page.getByRole("heading", { name: heading, exact: true, level: 1 }).waitFor();
  };

  it("exports the contacts as a CSV download (results: GET …/contacts.csv)", async () => {
    await open(`#/campaigns/${campaignId}`, "Demo campaign");
    const exportLines = async () => {
      const downloading = page.waitForEvent("download");
      await page.getByRole("button", { name: "Export CSV" }).click();
      const download = await downloading;
      expect(download.suggestedFilename()).toMatch(/\.csv$/);
      const chunks: Buffer[] = [];
      for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8").trim().split(/\r?\n/);
    };
    // The export follows the table's status filter: what the operator sees is what they get.
    await page.getByLabel("Contact status").selectOption("failed");
    const failed = await exportLines();
    expect(failed).toHaveLength(5);
    expect(failed.slice(1).every((line) => line.split(",")[2] === "failed")).toBe(true);
    await page.getByLabel("Contact status").selectOption("");
    const lines = await exportLines();
    expect(lines[0]).toBe(
      "row,phone_number,status,outcome,attempts,last_error,call_id,updated_at,disposition,summary,callback_at,transcript_url,recording_url,result_data,first_name,last_name,company,plan",
    );
    expect(lines).toHaveLength(14);
  });

  it("clones the failed contacts into a new draft (dnc-clone: POST …/clone)", async () => {
    await open(`#/campaigns/${campaignId}`, "Demo campaign");
    await page.getByRole("button", { name: "Clone…" }).click();
    const dialog = page.getByRole("dialog");
    expect(await dialog.getByLabel("failed").first().isChecked()).toBe(true);
    await dialog.getByRole("button", { name: "Create the copy" }).click();
    await page.getByText('Created "Demo campaign (again)" with 4 contacts from "Demo campaign".').waitFor();
    expect(await page.locator(".title .badge").first().textContent()).toBe("draft");
    expect(await page.getByRole("link", { name: campaignId }).isVisible(), "the copy links to its source").toBe(true);
  });

  it("adds a number to the do-not-call list (dnc-clone: /api/v1/dnc)", async () => {
    await open("#/dnc", "Do-not-call list");
    await page.getByLabel("Numbers").fill("+1 415 555 0170");
    await page.getByLabel("Reason").fill("asked not to be called");
    await page.getByRole("button", { name: "Add to the list" }).click();
    await page.getByText("Added 1, 0 already listed.").waitFor();
    await page.getByRole("cell", { name: "+14155550170", exact: true }).waitFor();
    await page.getByLabel("Is this number listed?").fill("+14155550170");
    await page.getByRole("button", { name: "Check" }).click();
    await expect.poll(() => page.locator("form.inline [aria-live]").textContent()).toMatch(/\+14155550170 is listed since .* \(asked not to be called\)\./);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-dnc.png"), fullPage: true });
    expect(await sideways(page), "nothing hides sideways at 1280 px").toEqual({ page: 0, tables: 0 });
  });

  it("registers a webhook, shows its secret once, and lists its deliveries (webhooks: /api/v1/webhooks)", async () => {
    await open("#/webhooks", "Webhooks");
    // The form offers every type the service knows (from /openapi.json), all ticked; ping is the test button's.
    const offered = WEBHOOK_EVENT_TYPES.filter((t) => t !== "ping");
    const boxes = page.locator('input[name="events"]');
    await expect.poll(() => boxes.count()).toBe(offered.length);
    expect(await boxes.evaluateAll((inputs) => inputs.map((i) => [(i as HTMLInputElement).value, (i as HTMLInputElement).checked]))).toEqual(
      offered.map((t) => [t, true]),
    );
    await page.getByLabel("URL").fill(`${site.origin}/hook`);
    await page.getByLabel("Description").fill("CRM sync");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect.poll(() => page.locator(".secret").textContent()).toMatch(/^whsec_/);
    await page.getByRole("cell", { name: offered.join(", "), exact: true }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-webhooks.png"), fullPage: true });
    expect(await sideways(page), "nothing hides sideways at 1280 px").toEqual({ page: 0, tables: 0 });
    await page.getByRole("link", { name: `${site.origin}/hook` }).click();
    await page.getByRole("button", { name: "Send a test message" }).click();
    await page.getByText(/Queued ping/).waitFor();
    await until(() => received.some((m) => m.type === "ping"), "the ping to reach the receiver", 20_000);
    expect(received.find((m) => m.type === "ping")?.signature).toMatch(/^v1,/);
    await expect.poll(() => page.locator("tbody .badge").first().textContent(), { timeout: 15_000 }).toBe("delivered");
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-webhook.png"), fullPage: true });
    expect(await sideways(page), "nothing hides sideways at 1280 px").toEqual({ page: 0, tables: 0 });
  });

  it("shows the campaigns with their live status, and logged no console errors on the way", async () => {
    await open("#/", "Campaigns");
    await page.getByRole("link", { name: "Demo campaign", exact: true }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-campaigns.png"), fullPage: true });
    expect(await sideways(page), "nothing hides sideways at 1280 px").toEqual({ page: 0, tables: 0 });
    expect(errors).toEqual([]);
    const listed = await api<{ campaigns: { status: string }[] }>(tenant, "GET", "/api/v1/campaigns");
    expect(listed.campaigns.map((c) => c.status).sort()).toEqual(["completed", "draft"]);
  });
});

/** The operator's 1280 × 800 laptop: what each page shows there, beyond what the flow clicks through. */
describe("at 1280 × 800", () => {
  let tenant: Tenant;
  let context: BrowserContext;

  beforeAll(async () => {
    tenant = await newTenant();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    await context?.close();
  });

  const signedIn = async (hash: string, who: Tenant = tenant) => {
    const { page, errors } = await openDashboard(context);
    await page.goto(`${worker().origin}/#key=${who.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.goto(`${worker().origin}/${hash}`);
    return { page, errors };
  };

  const contactsCard = (page: Page) => page.locator("section", { has: page.getByRole("heading", { name: "Contacts", level: 2 }) });

  /** The Settings card's value for a label. */
  const setting = (page: Page, label: string) => page.locator("dl.details dt", { hasText: new RegExp(`^${label}$`) }).locator("+ dd");

  it("keeps the widget's chart beside the Settings card, never under it, even with a long campaign name", async () => {
    const name = `Renewals ${"Analytical-Engines-and-Difference-Machines-".repeat(4)}`.slice(0, 200);
    const { id } = await createCampaign(tenant, ["+14155550001", "+14155550002"], { name, ramp_up_seconds: 120, pause_on_failure_rate: 0.5 });
    const { page, errors } = await signedIn(`#/campaigns/${id}`);
    await page.waitForSelector('edgedial-campaign[state="live"]', { timeout: 10_000 });
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-campaign-long-name.png") });
    const boxes = await page.evaluate(() => {
      const widget = document.querySelector("edgedial-campaign") as HTMLElement;
      const chart = widget.shadowRoot?.querySelector("figure") as HTMLElement;
      const settings = [...document.querySelectorAll("section.card")].find((s) => s.querySelector("h2")?.textContent === "Settings") as HTMLElement;
      const box = (element: Element) => {
        const { left, right, top, bottom } = element.getBoundingClientRect();
        return { left, right, top, bottom };
      };
      return {
        chart: box(chart),
        widget: box(widget),
        settings: box(settings),
        pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      };
    });
    const overlaps = (a: typeof boxes.chart, b: typeof boxes.chart) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    expect(overlaps(boxes.chart, boxes.settings), JSON.stringify(boxes)).toBe(false);
    expect(boxes.chart.right, "the chart stays in the widget's own box").toBeLessThanOrEqual(boxes.widget.right + 0.5);
    expect(boxes.pageOverflow).toBe(0);
    expect(await setting(page, "Ramp-up").textContent()).toBe("120 s");
    expect(await setting(page, "Failure breaker").textContent()).toBe("pauses at 50% of the latest 20 dials failed");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("keeps a wide contacts table inside its card, and the page never scrolls sideways", async () => {
    const long = "a note long enough to widen its column well past what a laptop screen holds";
    const { id } = await createCampaign(
      tenant,
      Array.from({ length: 5 }, (_, i) => `+1415555${String(i).padStart(4, "0")}`),
      {
        name: "Wide fields",
        contacts: Array.from({ length: 5 }, (_, i) => ({
          phone_number: `+1415555${String(i).padStart(4, "0")}`,
          first_name: `Person ${i}`,
          company: "Analytical Engines and Difference Machines Limited",
          notes: long,
          account_manager: "Augusta Ada King, Countess of Lovelace",
        })),
      },
    );
    const { page, errors } = await signedIn(`#/campaigns/${id}`);
    await expect.poll(() => contactsCard(page).locator("tbody tr").count(), { timeout: 10_000 }).toBe(5);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-campaign-wide.png") });
    const fit = await page.evaluate(() => {
      const card = [...document.querySelectorAll("section")].find((s) => s.querySelector("h2")?.textContent === "Contacts") as HTMLElement;
      const scroller = card.querySelector(".table") as HTMLElement;
      const cardBox = card.getBoundingClientRect();
      const scrollerBox = scroller.getBoundingClientRect();
      return {
        pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        scrollerInsideCard: scrollerBox.left >= cardBox.left && scrollerBox.right <= cardBox.right,
        cardInsideViewport: cardBox.right <= document.documentElement.clientWidth,
        // At 1280 px the long cells wrap, so no column hides behind the card's own scrollbar.
        hiddenColumnsPx: scroller.scrollWidth - scroller.clientWidth,
        scrollsIfNarrower: getComputedStyle(scroller).overflowX,
      };
    });
    expect(fit).toEqual({ pageOverflow: 0, scrollerInsideCard: true, cardInsideViewport: true, hiddenColumnsPx: 0, scrollsIfNarrower: "auto" });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("names the campaign's agent and number, with their ids smaller beside them", async () => {
    const { id } = await createCampaign(tenant, ["+14155550100"], { name: "Named" });
    const { page, errors } = await signedIn(`#/campaigns/${id}`);
    await expect.poll(() => setting(page, "Agent").textContent(), { timeout: 10_000 }).toBe(`Demo agent ${tenant.agent_id}`);
    expect(await setting(page, "Agent").locator("code").textContent(), "the id is still there, as code").toBe(tenant.agent_id);
    await expect.poll(() => setting(page, "Number").textContent(), { timeout: 10_000 }).toBe(`+15005550006 ${tenant.phone_number_id}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("falls back to the ids of an agent and a number deleted since", async () => {
    const agent = await api<{ id: string }>(tenant, "POST", "/api/v1/agents", {
      name: "Short-lived agent",
      status: "active",
      stream_url: "wss://agent.example/s",
    });
    const provider = await api<{ id: string }>(tenant, "POST", "/api/v1/telephony/providers", { provider: "simulator", name: "Spare" });
    const number = await api<{ id: string }>(tenant, "POST", "/api/v1/telephony/numbers", {
      e164: "+15005550007",
      credentials_id: provider.id,
      provider: "simulator",
    });
    const { id } = await createCampaign(tenant, ["+14155550100"], { name: "Orphaned", agent_id: agent.id, phone_number_id: number.id });
    await api(tenant, "POST", `/api/v1/campaigns/${id}/stop`);
    await api(tenant, "DELETE", `/api/v1/agents/${agent.id}`);
    await api(tenant, "DELETE", `/api/v1/telephony/numbers/${number.id}`);
    const { page, errors } = await signedIn(`#/campaigns/${id}`);
    await expect.poll(() => setting(page, "Agent").textContent(), { timeout: 10_000 }).toBe(`${agent.id} (deleted)`);
    await expect.poll(() => setting(page, "Number").textContent(), { timeout: 10_000 }).toBe(`${number.id} (deleted)`);
    expect(
      errors.filter((e) => !/404/.test(e)),
      "the deleted agent's 404 is the only complaint",
    ).toEqual([]);
    await page.close();
  });

  it("creates a campaign with a ramp-up and a failure breaker from the form, or with the breaker off", async () => {
    const { page, errors } = await signedIn("#/campaigns/new");
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await dropFile(page, ".drop", "contacts.csv", CONTACTS_CSV);
    await page.getByLabel("Name").fill("Careful start");
    await page.getByText("Pacing, retries, schedule and calling window").click();
    await page.getByLabel("Ramp-up (s)").fill("45");
    await page.getByLabel("Failed share (%)").fill("50");
    await page.getByLabel("Latest dials judged").fill("10");
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-new-campaign-safety.png"), fullPage: true });
    await expect.poll(() => page.getByRole("button", { name: "Create campaign" }).isEnabled(), { timeout: 10_000 }).toBe(true);
    await page.getByRole("button", { name: "Create campaign" }).click();
    await page.getByText('Created "Careful start"').waitFor();
    const id = new URL(page.url()).hash.replace("#/campaigns/", "");
    const created = await api<Record<string, unknown>>(tenant, "GET", `/api/v1/campaigns/${id}`);
    expect(created).toMatchObject({ ramp_up_seconds: 45, pause_on_failure_rate: 0.5, failure_window: 10 });

    await page.goto(`${worker().origin}/#/campaigns/new`);
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await dropFile(page, ".drop", "contacts.csv", CONTACTS_CSV);
    await page.getByLabel("Name").fill("No breaker");
    await page.getByText("Pacing, retries, schedule and calling window").click();
    await page.getByLabel("Pause when calls keep failing").uncheck();
    expect(await page.getByLabel("Failed share (%)").isDisabled()).toBe(true);
    await expect.poll(() => page.getByRole("button", { name: "Create campaign" }).isEnabled(), { timeout: 10_000 }).toBe(true);
    await page.getByRole("button", { name: "Create campaign" }).click();
    await page.getByText('Created "No breaker"').waitFor();
    const off = await api<Record<string, unknown>>(tenant, "GET", `/api/v1/campaigns/${new URL(page.url()).hash.replace("#/campaigns/", "")}`);
    expect(off).toMatchObject({ pause_on_failure_rate: null, ramp_up_seconds: 0 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows the preflight estimate as labelled values and its assumptions in words", async () => {
    const { page, errors } = await signedIn("#/campaigns/new");
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await dropFile(page, ".drop", "contacts.csv", CONTACTS_CSV);
    const estimate = page.locator(".preflight .forecast");
    await estimate.waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-preflight.png"), fullPage: true });
    const labels = await estimate.locator("dt").allTextContents();
    expect(labels).toEqual(["Starts", "Finishes", "Takes", "Dials", "Talk time", "Calls at once", "Pace", "Pace set by"]);
    const text = (await estimate.textContent()) ?? "";
    expect(text, "no API keys or raw values").not.toMatch(/null|undefined|_|\bT\d{2}:|Z\b|\{|\}/);
    const value = (label: string) =>
      estimate
        .locator("dt", { hasText: new RegExp(`^${label}$`) })
        .locator("+ dd")
        .textContent();
    expect(await value("Takes")).toMatch(/^(\d+ s|\d+ min|\d+ h( \d+ min)?)$/);
    expect(await value("Talk time")).toMatch(/^\d+ (s|min)$/);
    expect(await value("Pace set by")).toBe("the calls allowed at once");
    expect(await value("Finishes")).toMatch(/\d{4}/);
    const assumptions = await estimate.locator("ul.assumptions li").allTextContents();
    expect(assumptions[0]).toMatch(/^74% of dials are answered \(by a person or a machine\), holding a line 38 s on average\.$/);
    expect(assumptions).toContain("Each contact is dialled once: no retries are set.");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("says in words when the estimate never finishes", async () => {
    const capped = await newTenant({ daily_calls_max: 0 });
    const { page, errors } = await signedIn("#/campaigns/new", capped);
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await dropFile(page, ".drop", "contacts.csv", CONTACTS_CSV);
    const estimate = page.locator(".preflight .forecast");
    await estimate.waitFor();
    const value = (label: string) =>
      estimate
        .locator("dt", { hasText: new RegExp(`^${label}$`) })
        .locator("+ dd")
        .textContent();
    expect(await value("Finishes")).toBe("Never finishes: the account's daily call cap is 0.");
    expect(await value("Takes")).toBe("—");
    expect(await value("Held back by")).toBe("the account's daily call cap");
    expect(await estimate.textContent()).not.toMatch(/null/);
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** Call results on the campaign page: dispositions, a contact's result, callbacks, and the create form's result settings. */
describe("call results", () => {
  let tenant: Tenant;
  let context: BrowserContext;

  beforeAll(async () => {
    tenant = await newTenant();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    await context?.close();
  });

  const signedIn = async (hash: string) => {
    const { page, errors } = await openDashboard(context);
    await page.goto(`${worker().origin}/#key=${tenant.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.goto(`${worker().origin}/${hash}`);
    return { page, errors };
  };

  const contactsCard = (page: Page) => page.locator("section", { has: page.getByRole("heading", { name: "Contacts", level: 2 }) });

  /** A contact as the list returns it, with a result; the API refuses non-https URLs, so a hostile one can only come from elsewhere. */
  const contactWithResult = (campaignId: string, result: Record<string, unknown>) => ({
    id: "ctc_00000000000000000000000001",
    campaign_id: campaignId,
    row: 1,
    phone_number: "+14155550100",
    custom_fields: {},
    status: "completed",
    attempts: 1,
    outcome: "answered",
    last_error: null,
    call_id: "CA0001",
    next_attempt_at: null,
    timezone: "America/Los_Angeles",
    callbacks: 0,
    created_at: "2030-01-07T15:00:00.000Z",
    updated_at: "2030-01-07T15:01:00.000Z",
    result: {
      call_id: "call_01jz3k4m5n6p7q8r9s0t1v2w3x01jz3k4m5n6p7q8r9s0t1v2w3y",
      reported_at: "2030-01-07T15:00:50.000Z",
      data: null,
      summary: null,
      transcript_url: null,
      recording_url: null,
      ...result,
    },
  });

  it("shows the disposition column and filter, and the export follows both filters", async () => {
    const { id } = await createCampaign(tenant, ["+14155550100", "+14155550101"], { name: "Dispositions", dispositions: ["interested", "not_interested"] });
    const listUrls: URL[] = [];
    const exportUrls: URL[] = [];
    const { page, errors } = await openDashboard(context);
    await page.route(`**/api/v1/campaigns/${id}/contacts?*`, async (route) => {
      const url = new URL(route.request().url());
      listUrls.push(url);
      const contacts = url.searchParams.get("disposition") === "not_interested" ? [] : [contactWithResult(id, { disposition: "interested" })];
      await route.fulfill({
        json: {
          contacts,
          count: contacts.length,
          total: contacts.length,
          limit: 50,
          offset: 0,
          has_next: false,
          has_prev: false,
          next_offset: null,
          prev_offset: null,
        },
      });
    });
    await page.route(`**/api/v1/campaigns/${id}/contacts.csv*`, async (route) => {
      exportUrls.push(new URL(route.request().url()));
      await route.fulfill({ body: "row,phone_number\r\n", contentType: "text/csv", headers: { "Content-Disposition": 'attachment; filename="x.csv"' } });
    });
    await page.goto(`${worker().origin}/#key=${tenant.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.goto(`${worker().origin}/#/campaigns/${id}`);
    const card = contactsCard(page);
    await card.locator("tbody tr").first().waitFor();
    expect(await card.locator("thead th").allTextContents()).toContain("Disposition");
    expect(await card.locator("tbody tr").first().locator("td").nth(4).textContent()).toBe("interested");
    expect(await page.getByLabel("Disposition", { exact: true }).locator("option").allTextContents()).toEqual([
      "Any disposition",
      "interested",
      "not interested",
    ]);

    await page.getByLabel("Contact status").selectOption("completed");
    await page.getByLabel("Disposition", { exact: true }).selectOption("not_interested");
    await card.getByText("No completed “not interested” contacts.").waitFor();
    expect(listUrls.at(-1)?.searchParams.get("status")).toBe("completed");
    expect(listUrls.at(-1)?.searchParams.get("disposition")).toBe("not_interested");
    const downloading = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    await downloading;
    expect(Object.fromEntries(exportUrls.at(-1)?.searchParams ?? [])).toEqual({ status: "completed", disposition: "not_interested" });
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows a contact's result as text: markup in a summary or data value, and a javascript: URL, never run", async () => {
    const { id } = await createCampaign(tenant, ["+14155550100"], { name: "Hostile result" });
    const { page, errors } = await openDashboard(context);
    const payload = `<img src=x onerror="window.pwned = true">`;
    await page.route(`**/api/v1/campaigns/${id}/contacts?*`, async (route) => {
      const contact = contactWithResult(id, {
        disposition: "interested",
        summary: `Wants a demo ${payload}`,
        data: { seats: 12, note: payload, renew: true },
        transcript_url: "javascript:window.pwned=true",
        recording_url: "https://recordings.example/call-1.mp3",
      });
      await route.fulfill({
        json: { contacts: [contact], count: 1, total: 1, limit: 50, offset: 0, has_next: false, has_prev: false, next_offset: null, prev_offset: null },
      });
    });
    await page.goto(`${worker().origin}/#key=${tenant.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.goto(`${worker().origin}/#/campaigns/${id}`);
    await contactsCard(page).getByRole("button", { name: "+14155550100" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("heading", { name: "Contact +14155550100" }).waitFor();
    const value = (label: string) => dialog.locator("dl.result > dt", { hasText: new RegExp(`^${label}$`) }).locator("+ dd");
    expect(await value("Disposition").textContent()).toBe("interested");
    expect(await value("Summary").textContent()).toBe(`Wants a demo ${payload}`);
    expect(await dialog.locator("dl.result-data dt").allTextContents()).toEqual(["seats", "note", "renew"]);
    expect(await dialog.locator("dl.result-data dd").allTextContents()).toEqual(["12", payload, "true"]);
    expect(await dialog.locator("img").count(), "no markup from the result became an element").toBe(0);
    expect(await value("Transcript").locator("a").count(), "a javascript: URL is not a link").toBe(0);
    expect(await value("Transcript").textContent()).toBe("javascript:window.pwned=true");
    const recording = value("Recording").getByRole("link", { name: "Open recording" });
    expect(await recording.getAttribute("href")).toBe("https://recordings.example/call-1.mp3");
    expect(await recording.getAttribute("rel")).toBe("noopener noreferrer");
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-contact-result.png"), fullPage: true });
    expect(await page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it("schedules a callback from a contact, lists it as waiting with when it is due, and shows a refusal as the API's sentence", async () => {
    const { id } = await createCampaign(tenant, ["+14155550100", "+14155550101"], { name: "Callbacks" });
    const { page, errors } = await signedIn(`#/campaigns/${id}`);
    const waiting = page.locator("section.waiting-callbacks");
    await waiting.getByText("No callbacks waiting.").waitFor();
    await contactsCard(page).getByRole("button", { name: "+14155550101" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("No result reported for the latest call.").waitFor();

    // Less than a minute ahead: the API refuses, and the dialog says what it said.
    const soon = new Date(Date.now() + 10_000);
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await dialog.getByLabel("Call again at").fill(local(soon));
    await dialog.getByRole("button", { name: "Schedule callback" }).click();
    const refusal = dialog.getByRole("alert");
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/callback_at/);

    const due = new Date(Date.now() + 2 * 3_600_000);
    due.setSeconds(0, 0);
    await dialog.getByLabel("Call again at").fill(local(due));
    await dialog.getByRole("button", { name: "Schedule callback" }).click();
    await dialog.getByText(/^Callback due /).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-callback.png"), fullPage: true });
    await dialog.getByRole("button", { name: "Close" }).click();

    await waiting.locator("tbody tr").first().waitFor();
    const row = waiting.locator("tbody tr").first();
    expect(await row.locator("td").first().textContent()).toBe("+14155550101");
    expect(await row.locator("time").getAttribute("datetime")).toBe(due.toISOString());
    expect(await row.locator("td").nth(2).textContent()).toBe("1");
    const contacts = await api<{ contacts: { phone_number: string; status: string; outcome: string; next_attempt_at: string }[] }>(
      tenant,
      "GET",
      `/api/v1/campaigns/${id}/contacts`,
    );
    expect(contacts.contacts.find((c) => c.phone_number === "+14155550101")).toMatchObject({
      status: "pending",
      outcome: "callback",
      next_attempt_at: due.toISOString(),
    });
    expect(
      errors.filter((e) => !e.includes("400")),
      "only the refused request's own 400",
    ).toEqual([]);
    await page.close();
  });

  it("creates a campaign with dispositions, retry_on and a voicemail message, and shows them in its settings", async () => {
    const { page, errors } = await signedIn("#/campaigns/new");
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await dropFile(page, ".drop", "contacts.csv", CONTACTS_CSV);
    await page.getByLabel("Name").fill("With results");
    await page.getByText("Call results: dispositions, retries and voicemail").click();
    await page.getByLabel("Dispositions").fill("interested, not_interested callback_requested");
    await page.getByLabel("When a machine answers").selectOption("message");
    await page.getByLabel("Voicemail message").fill("Sorry we missed you; we will call again.");
    await page.getByRole("group", { name: "Retry these outcomes" }).getByLabel("voicemail").check();
    await page.getByRole("group", { name: "Retry these outcomes" }).getByLabel("timeout").uncheck();
    await expect.poll(() => page.getByRole("button", { name: "Create campaign" }).isEnabled(), { timeout: 10_000 }).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-new-campaign-results.png"), fullPage: true });
    await page.getByRole("button", { name: "Create campaign" }).click();
    await page.getByText(/^Created "With results"/).waitFor();
    const id = new URL(page.url()).hash.replace("#/campaigns/", "");
    const created = await api<Record<string, unknown>>(tenant, "GET", `/api/v1/campaigns/${id}`);
    expect(created).toMatchObject({
      dispositions: ["interested", "not_interested", "callback_requested"],
      retry_on: ["busy", "no_answer", "failed", "voicemail"],
      voicemail_action: "message",
      voicemail_message: "Sorry we missed you; we will call again.",
    });
    const setting = (label: string) => page.locator("dl.details dt", { hasText: new RegExp(`^${label}$`) }).locator("+ dd");
    expect(await setting("Dispositions").textContent()).toBe("interested, not interested, callback requested");
    expect(await setting("Voicemail").textContent()).toBe("say “Sorry we missed you; we will call again.”");
    expect(errors).toEqual([]);
    await page.close();
  });
});
