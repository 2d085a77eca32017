import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, launchChromium, newTenant, SCREENSHOTS, watchConsole, worker } from "./harness";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("the dashboard's Idempotency-Key", () => {
  it("re-sends a create whose answer was lost with the same key, and the server makes one campaign", async () => {
    const tenant = await newTenant();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const errors = watchConsole(page);
    const keys: (string | null)[] = [];
    // The first create reaches the server and runs, then its answer is cut off on the way back.
    await page.route("**/api/v1/campaigns", async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      keys.push(await route.request().headerValue("Idempotency-Key"));
      if (keys.length > 1) return route.continue();
      await route.fetch();
      return route.abort("connectionreset");
    });

    await page.goto(`${worker().origin}/#key=${tenant.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.getByRole("link", { name: "New campaign" }).first().click();
    await page.getByRole("heading", { name: "New campaign" }).waitFor();
    await page.locator('input[type="file"]').setInputFiles({
      name: "contacts.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("phone_number,first_name\n+15550100001,Ann\n+15550100002,Bo\n"),
    });
    await page.getByLabel("Name").fill("Lost answer");
    await expect.poll(() => page.getByRole("button", { name: "Create campaign" }).isEnabled(), { timeout: 10_000 }).toBe(true);
    await page.getByRole("button", { name: "Create campaign" }).click();
    await page.getByText('Created "Lost answer" with 2 contacts').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-create-after-lost-answer.png"), fullPage: true });

    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1], "the retry carries the first try's key").toBe(keys[0]);
    const list = await api<{ campaigns: { name: string }[] }>(tenant, "GET", "/api/v1/campaigns");
    expect(list.campaigns.map((c) => c.name)).toEqual(["Lost answer"]);
    expect(errors.filter((e) => !e.includes("ERR_CONNECTION_RESET") && !e.includes("Failed to fetch"))).toEqual([]);
    await context.close();
  });
});
