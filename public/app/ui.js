// @ts-check
/** Small DOM helpers: server JSON in, DOM out, every text through textContent. */

/**
 * @typedef {string | number | boolean | null | undefined | EventListener | ((event: any) => void)} AttributeValue
 * @typedef {Node | string | number | null | undefined | false} Child
 */

/**
 * Builds an element. `on…` attributes become listeners, `true` booleans become empty attributes,
 * null/undefined/false are left out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {Record<string, AttributeValue>} [attributes] @param {(Child | Child[])[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else if (name === "value" && "value" in element) /** @type {HTMLInputElement} */ (element).value = String(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "number" ? String(child) : child);
  }
  return element;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const count = new Intl.NumberFormat();

export const formatNumber = (/** @type {number} */ n) => count.format(n);
export const formatTime = (/** @type {string | null | undefined} */ iso) => (iso ? dateTime.format(new Date(iso)) : "—");
const shortDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
/** For table cells: the same instant, narrower. */
export const formatShortTime = (/** @type {string | null | undefined} */ iso) => (iso ? shortDateTime.format(new Date(iso)) : "—");
/** Seconds as a person reads them: `45 s`, `12 min`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(/** @type {number} */ seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const [days, hours, rest] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (days > 0) return hours > 0 ? `${formatNumber(days)} d ${hours} h` : `${formatNumber(days)} d`;
  return rest > 0 ? `${hours} h ${rest} min` : `${hours} h`;
}
/** `no_answer` → `no answer`; API field names read as words. */
export const words = (/** @type {string} */ text) => text.replace(/_/g, " ");

export const CAMPAIGN_STATUSES = ["draft", "scheduled", "running", "paused", "completed", "failed"];
export const CONTACT_STATUSES = ["pending", "originated", "connected", "completed", "failed", "cancelled"];
export const OUTCOMES = ["answered", "voicemail", "busy", "no_answer", "failed", "invalid_number", "canceled", "timeout", "dnc", "ineligible", "expired"];

export function badge(/** @type {string} */ status) {
  return h("span", { class: "badge", "data-status": status }, words(status));
}

/** A bar of contact statuses, drawn with CSSOM widths (never inline style attributes, so the CSP stays strict). */
export function progressBar(/** @type {Record<string, number>} */ stats) {
  const bar = h("span", { class: "progress", role: "img", "aria-label": `${stats.completed + stats.failed + stats.cancelled} of ${stats.total} done` });
  for (const status of ["completed", "failed", "cancelled", "connected", "originated"]) {
    const part = h("span", { "data-status": status });
    part.style.flexGrow = String(stats[status] ?? 0);
    bar.append(part);
  }
  const rest = h("span", { "data-status": "pending" });
  rest.style.flexGrow = String(stats.pending ?? 0);
  bar.append(rest);
  return bar;
}

/** A message box; errors are alerts so screen readers read them out. */
export function notice(/** @type {"error" | "ok" | "info"} */ kind, /** @type {(Child | Child[])[]} */ ...content) {
  return h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, ...content);
}

export function errorText(/** @type {unknown} */ error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Prev/next over a list envelope.
 * @param {{ total: number, offset: number, count: number, has_next: boolean, has_prev: boolean, next_offset: number | null, prev_offset: number | null }} page
 * @param {(offset: number) => void} go
 */
export function pager(page, go) {
  const from = page.total === 0 ? 0 : page.offset + 1;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: !page.has_prev, onclick: () => go(page.prev_offset ?? 0) }, "← Previous"),
    h("span", {}, `${formatNumber(from)}–${formatNumber(page.offset + page.count)} of ${formatNumber(page.total)}`),
    h("button", { type: "button", disabled: !page.has_next, onclick: () => go(page.next_offset ?? 0) }, "Next →"),
  );
}

let hints = 0;
/** A labelled form field; the hint is described-by, so the control's accessible name stays its label. */
export function field(/** @type {string} */ label, /** @type {HTMLElement} */ control, /** @type {string} */ hint = "") {
  if (!hint) return h("label", { class: "field" }, h("span", {}, label), control);
  const id = `hint-${++hints}`;
  control.setAttribute("aria-describedby", id);
  return h("div", { class: "field" }, h("label", {}, h("span", {}, label), control), h("small", { id }, hint));
}

/** `start` → `Start`. */
export const capitalized = (/** @type {string} */ text) => text.charAt(0).toUpperCase() + text.slice(1);

/** Runs `task` while the button shows it is busy; errors land in `out`. */
export async function busy(/** @type {HTMLButtonElement} */ button, /** @type {HTMLElement} */ out, /** @type {() => Promise<void>} */ task) {
  button.disabled = true;
  out.replaceChildren();
  try {
    await task();
  } catch (error) {
    out.replaceChildren(notice("error", errorText(error)));
  } finally {
    button.disabled = false;
  }
}

/** Table from rows: headers, then one cell builder per column. */
export function table(/** @type {string[]} */ headers, /** @type {Child[][]} */ rows, /** @type {string} */ empty = "Nothing here yet.") {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "table" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ...headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}
