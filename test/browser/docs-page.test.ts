import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, SCREENSHOTS, watchConsole, worker } from "./harness";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

type Document = {
  info: { description?: string };
  paths: Record<string, Record<string, { description?: string; summary?: string }>>;
};

const HOSTILE = [
  "Backticks are `code`, **this is bold** and *this is italic*; snake_case_names stay as they are.",
  "",
  'A script stays text: <script>window.pwned = "script"</script> and so does <img src=x onerror="window.pwned = \'img\'">.',
  "",
  "Links: [the spec](https://www.standardwebhooks.com/), [a trap](javascript:window.pwned='link') and [relative](/admin).",
  "Before a list:",
  "- first `item`",
  "- second item",
  "  continued",
  "1. one",
  "2. two",
].join("\n");

async function openDocs(page: Page, hash = "") {
  await page.goto(`${worker().origin}/docs${hash}`);
  await page.locator("#view h2").first().waitFor();
}

/** What the page's view holds, read in the page: elements by tag and the text a reader sees. */
const view = (page: Page) =>
  page.evaluate(() => {
    const root = document.getElementById("view");
    const tags = (name: string) => [...(root?.querySelectorAll(name) ?? [])].map((el) => el.textContent ?? "");
    return {
      text: root?.textContent ?? "",
      code: tags("code"),
      strong: tags("strong"),
      em: tags("em"),
      scripts: root?.querySelectorAll("script, img").length ?? -1,
      links: [...(root?.querySelectorAll("a") ?? [])].map((a) => ({ text: a.textContent, href: a.getAttribute("href") })),
      lists: [...(root?.querySelectorAll(".prose ul, .prose ol") ?? [])].map((list) => ({
        tag: list.tagName,
        items: [...list.children].map((li) => li.textContent),
      })),
      pwned: (window as unknown as { pwned?: string }).pwned ?? null,
    };
  });

describe("GET /docs", () => {
  it("renders the backticks of the document's own descriptions as <code>", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchConsole(page);
    await openDocs(page);
    const home = await view(page);
    expect(home.code, "the API description's `/api/v1/…` paths").toEqual(
      expect.arrayContaining(["/api/v1/…", "/v1/…", "text/plain", "Accept: application/json"]),
    );
    expect(home.text, "no backtick is left showing").not.toContain("`");

    await openDocs(page, "#schema/Error");
    const schema = await view(page);
    expect(schema.code, "a schema description's inline code").toEqual(expect.arrayContaining(["Accept", "application/json"]));
    await page.screenshot({ path: join(SCREENSHOTS, "docs-schema.png"), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("shows HTML in a description as text and turns only http(s) links into anchors", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchConsole(page);
    const real = (await (await fetch(`${worker().origin}/openapi.json`)).json()) as Document;
    const [path, item] = Object.entries(real.paths).find(([, methods]) => "post" in methods) ?? [];
    if (!path || !item?.post) throw new Error("the document has no POST operation");
    item.post.description = HOSTILE;
    const doctored = { ...real, info: { ...real.info, description: HOSTILE } };
    await page.route("**/openapi.json", (route) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(doctored) }));

    await openDocs(page);
    const home = await view(page);
    expect(home.scripts, "no element came out of the description").toBe(0);
    expect(home.text).toContain('<script>window.pwned = "script"</script>');
    expect(home.text).toContain("<img src=x onerror=");
    expect(home.pwned, "nothing in the description ran").toBeNull();
    expect(home.code).toContain("code");
    expect(home.strong).toEqual(["this is bold"]);
    expect(home.em).toEqual(["this is italic"]);
    expect(home.text).toContain("snake_case_names");
    expect(home.links.filter((link) => link.href !== "/openapi.json")).toEqual([{ text: "the spec", href: "https://www.standardwebhooks.com/" }]);
    expect(home.text, "a link the page refuses reads as it was written").toContain("[a trap](javascript:window.pwned='link')");
    expect(home.lists).toEqual([
      { tag: "UL", items: ["first item", "second item continued"] },
      { tag: "OL", items: ["one", "two"] },
    ]);
    await page.screenshot({ path: join(SCREENSHOTS, "docs-home-markdown.png"), fullPage: true });

    await openDocs(page, `#op/${encodeURIComponent(`post ${path}`)}`);
    const operation = await view(page);
    expect(operation.scripts).toBe(0);
    expect(operation.text).toContain("<script>");
    expect(operation.strong).toContain("this is bold");
    expect(operation.pwned).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  });
});
