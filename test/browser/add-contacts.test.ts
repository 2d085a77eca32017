import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createCampaign, launchChromium, newTenant, SCREENSHOTS, watchConsole, worker } from "./harness";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("the campaign page's contacts", () => {
  it("adds contacts from a CSV, shows a refusal as the API's sentence, and cancels one contact", async () => {
    const tenant = await newTenant();
    const { id } = await createCampaign(tenant, ["+14155550100", "+14155550101"], { name: "Rolling leads" });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const errors = watchConsole(page);
    await page.goto(`${worker().origin}/#key=${tenant.key}`);
    await page.getByRole("heading", { name: "Campaigns" }).waitFor();
    await page.goto(`${worker().origin}/#/campaigns/${id}`);

    await page.getByRole("button", { name: "Add contacts…" }).click();
    const dialog = page.getByRole("dialog", { name: "Add contacts" });
    const choose = (name: string, text: string) => dialog.getByLabel("CSV file").setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text) });
    await choose("wrong.csv", "phone_number,plan\n+14155550102,gold\n");
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toMatch(/"plan" is not among them.*"first_name" is missing/);

    await choose("more.csv", "first_name,phone_number\nAgain,+14155550101\nNew,+14155550102\nNewer,+14155550103\n");
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    await expect
      .poll(() => dialog.getByRole("status").textContent())
      .toBe("Added 2 contacts (1 already there or repeated, 0 on the do-not-call list). The campaign now holds 4.");
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-add-contacts.png"), fullPage: true });
    await dialog.getByRole("button", { name: "Close" }).click();
    await page.getByRole("button", { name: "+14155550103" }).waitFor();

    await page.getByRole("button", { name: "+14155550103" }).click();
    const contact = page.getByRole("dialog", { name: "Contact +14155550103" });
    await contact.getByRole("button", { name: "Cancel contact" }).click();
    await expect.poll(() => contact.getByRole("status").textContent()).toMatch(/Cancelled/);
    expect(await contact.getByRole("button", { name: "Cancel contact" }).isHidden()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-cancel-contact.png"), fullPage: true });

    const listed = await api<{ contacts: { phone_number: string; status: string; outcome: string | null }[] }>(
      tenant,
      "GET",
      `/api/v1/campaigns/${id}/contacts`,
    );
    expect(listed.contacts.map((c) => [c.phone_number, c.status, c.outcome])).toEqual([
      ["+14155550100", "pending", null],
      ["+14155550101", "pending", null],
      ["+14155550102", "pending", null],
      ["+14155550103", "cancelled", "canceled"],
    ]);
    // The refused upload's 400 is the one the test asked for.
    expect(errors.filter((e) => !e.includes("status of 400"))).toEqual([]);
    await context.close();
  });
});
