// @ts-check
import { request } from "./api.js";
import { badge, CAMPAIGN_STATUSES, errorText, formatNumber, formatShortTime, h, notice, pager, progressBar, table, words } from "./ui.js";

/** The list refreshes itself this often while it is on screen: status changes show up without a reload. */
const REFRESH_MS = 2_500;

/** @param {import("./main.js").ViewContext} context */
export async function campaignList({ main, query, navigate }) {
  const status = query.get("status") ?? "";
  const offset = Number(query.get("offset") ?? 0) || 0;
  const go = (/** @type {Record<string, string | number>} */ change) => {
    const next = new URLSearchParams({ ...(status && { status }), ...(offset && { offset: String(offset) }) });
    for (const [k, v] of Object.entries(change)) {
      if (v === "" || v === 0) next.delete(k);
      else next.set(k, String(v));
    }
    const text = next.toString();
    navigate(`#/campaigns${text ? `?${text}` : ""}`);
  };
  const filter = h(
    "select",
    { "aria-label": "Status", onchange: () => go({ status: filter.value, offset: 0 }) },
    h("option", { value: "" }, "All statuses"),
    ...CAMPAIGN_STATUSES.map((s) => h("option", { value: s, selected: s === status }, words(s))),
  );
  const body = h("div", { "aria-live": "off" });
  main.append(
    h("div", { class: "heading" }, h("h1", {}, "Campaigns"), filter, h("a", { class: "button primary", href: "#/campaigns/new" }, "New campaign")),
    body,
  );

  async function load() {
    try {
      const page = await request("GET", "/campaigns", { query: { status, offset, limit: 20 } });
      body.replaceChildren(
        table(
          ["Name", "Status", "Progress", "Contacts", "In flight", "Created"],
          page.campaigns.map((/** @type {any} */ c) => [
            h("a", { href: `#/campaigns/${c.id}` }, c.name),
            badge(c.status),
            progressBar(c.stats),
            `${formatNumber(c.stats.completed + c.stats.failed + c.stats.cancelled)} / ${formatNumber(c.stats.total)} done`,
            formatNumber(c.stats.originated + c.stats.connected),
            formatShortTime(c.created_at),
          ]),
          status ? `No ${words(status)} campaigns.` : "No campaigns yet: create one from a CSV of contacts.",
        ),
        pager(page, (next) => go({ offset: next })),
      );
    } catch (error) {
      body.replaceChildren(notice("error", errorText(error)));
    }
  }

  await load();
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") void load();
  }, REFRESH_MS);
  return () => clearInterval(timer);
}
