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

describe("the contact policy page", () => {
  it("sets the rules and an eligibility URL, shows its secret once, names a bad field, and clears a rule", async () => {
    const tenant = await newTenant();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const errors = watchConsole(page);
    await page.goto(`${worker().origin}/#key=${tenant.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.getByRole("link", { name: "Contact policy" }).click();
    await page.getByRole("heading", { name: "Contact policy", level: 1 }).waitFor();
    await page.getByText("No rules set yet").waitFor();

    await page.getByLabel("Most dials of one number", { exact: true }).fill("7");
    await page.getByLabel("…in any rolling number of days").fill("7");
    await page.getByLabel("Most dials of one number per day").fill("3");
    await page.getByLabel("Endpoint URL").fill("https://crm.example.com/edgedial/eligible");
    await page.getByRole("button", { name: "Save policy" }).click();
    await expect.poll(() => page.locator(".secret").textContent()).toMatch(/^whsec_/);
    await page.getByText(/^Last changed /).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-contact-policy.png"), fullPage: true });
    expect(await api(tenant, "GET", "/api/v1/contact-policy")).toMatchObject({
      max_attempts: { count: 7, days: 7 },
      max_attempts_per_day: 3,
      count_voicemail: true,
      min_seconds_between_attempts: null,
      eligibility_url: "https://crm.example.com/edgedial/eligible",
    });

    // Saving again with the same URL keeps the secret and does not show it.
    await page.getByLabel("A dial that reached voicemail counts").uncheck();
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("Saved. The policy applies from the next dial").waitFor();
    expect(await page.locator(".secret").count()).toBe(0);

    await page.getByLabel("…in any rolling number of days").fill("");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByRole("alert").getByText("max_attempts.days: must be a whole number from 1 to 30").waitFor();

    await page.getByLabel("Most dials of one number", { exact: true }).fill("");
    await page.getByLabel("Most dials of one number per day").fill("");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("Saved. The policy applies from the next dial").waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Contact policy", level: 1 }).waitFor();
    await expect.poll(() => page.getByLabel("Endpoint URL").inputValue()).toBe("https://crm.example.com/edgedial/eligible");
    expect(await page.getByLabel("Most dials of one number per day").inputValue()).toBe("");
    expect(await page.getByLabel("A dial that reached voicemail counts").isChecked()).toBe(false);
    expect(await api(tenant, "GET", "/api/v1/contact-policy")).toMatchObject({ max_attempts: null, max_attempts_per_day: null, count_voicemail: false });
    expect(errors.filter((e) => !e.includes("400"))).toEqual([]);
    await context.close();
  });
});
