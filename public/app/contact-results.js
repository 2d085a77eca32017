// @ts-check
/** Call results on the campaign page: a contact's result, its callbacks, and the callbacks waiting. */
import { request } from "./api.js";
import { badge, busy, formatNumber, formatShortTime, formatTime, h, notice, table, words } from "./ui.js";

/** Pending contacts read when looking for waiting callbacks; the list has no outcome filter. */
const CALLBACK_SCAN_PAGES = 10;

/**
 * A link only for an https URL: a result's URLs come from the agent, so a `javascript:` or `data:`
 * one (or anything unparsable) is shown as text and never becomes clickable.
 */
function safeLink(/** @type {string} */ url, /** @type {string} */ label) {
  /** @type {URL | null} */
  let parsed = null;
  try {
    parsed = new URL(url);
  } catch {}
  if (parsed?.protocol === "https:") return h("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer" }, label);
  return h("code", { class: "wrap unsafe-url", title: "Not an https link, so not opened" }, url);
}

/** The disposition names worth offering as a filter: the declared ones, and any already counted. */
export function dispositionNames(/** @type {any} */ campaign) {
  const names = new Set([...(campaign.dispositions ?? []), ...Object.keys(campaign.stats?.dispositions ?? {})]);
  return [...names].sort();
}

/** Keeps a disposition select's options in step with the campaign, leaving the choice alone. */
export function fillDispositionFilter(/** @type {HTMLSelectElement} */ select, /** @type {string[]} */ names) {
  const current = select.value;
  const wanted = ["", ...names];
  const have = [...select.options].map((o) => o.value);
  if (have.length === wanted.length && have.every((v, i) => v === wanted[i])) return;
  select.replaceChildren(h("option", { value: "" }, "Any disposition"), ...names.map((n) => h("option", { value: n }, words(n))));
  select.value = wanted.includes(current) ? current : "";
}

/** A contact's latest result: summary, data as a key/value list, transcript and recording links. */
function resultView(/** @type {any} */ result) {
  if (!result) return h("p", { class: "muted no-result" }, "No result reported for the latest call.");
  const data = Object.entries(result.data ?? {});
  /** @type {[string, Node | string][]} */
  const rows = [
    ["Disposition", h("strong", { class: "disposition" }, words(result.disposition))],
    ["Reported", formatTime(result.reported_at)],
    ["Call", h("code", {}, result.call_id)],
    ["Summary", result.summary ? h("p", { class: "wrap summary" }, result.summary) : "—"],
    [
      "Data",
      data.length
        ? h("dl", { class: "details result-data" }, ...data.flatMap(([key, value]) => [h("dt", {}, key), h("dd", { class: "wrap" }, String(value))]))
        : "—",
    ],
    ["Transcript", result.transcript_url ? safeLink(result.transcript_url, "Open transcript") : "—"],
    ["Recording", result.recording_url ? safeLink(result.recording_url, "Open recording") : "—"],
  ];
  return h("dl", { class: "details result" }, ...rows.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

/** `<input type=datetime-local>`'s value for an instant, on the browser's clock. */
function localInputValue(/** @type {number} */ ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/**
 * The contact's dialog: its state, its result, "Schedule callback" (POST …/callback) and, while it
 * waits, "Cancel contact" (POST …/cancel); a refusal is shown as the API's own sentence.
 * @param {string} campaignId @param {any} contact @param {(updated: any) => void} onScheduled called after either change
 */
export function openContactDialog(campaignId, contact, onScheduled) {
  const when = h("input", { type: "datetime-local", name: "callback_at", required: true, value: localInputValue(Date.now() + 3_600_000) });
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "Schedule callback");
  const state = h("p", { class: "muted" });
  const cancel = /** @type {HTMLButtonElement} */ (
    h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: () =>
          busy(cancel, out, async () => {
            const updated = await request("POST", `/campaigns/${encodeURIComponent(campaignId)}/contacts/${encodeURIComponent(contact.id)}/cancel`);
            paintState(updated);
            out.replaceChildren(notice("ok", "Cancelled: this contact will not be dialled again."));
            onScheduled(updated);
          }),
      },
      "Cancel contact",
    )
  );
  const paintState = (/** @type {any} */ c) => {
    const due = c.status === "pending" && c.next_attempt_at ? ` · due ${formatTime(c.next_attempt_at)}` : "";
    const expires = c.status === "pending" && c.expires_at ? ` · expires ${formatTime(c.expires_at)}` : "";
    state.replaceChildren(
      badge(c.status),
      ` ${c.outcome ? words(c.outcome) : "no outcome"} · ${c.attempts} attempts · ${c.callbacks ?? 0} callbacks${due}${expires}`,
    );
    cancel.hidden = c.status !== "pending";
  };
  paintState(contact);
  const dialog = h(
    "dialog",
    { class: "contact-dialog", "aria-labelledby": "contact-title", onclose: () => dialog.remove() },
    h("h2", { id: "contact-title" }, `Contact ${contact.phone_number}`),
    state,
    h("h3", {}, "Result"),
    resultView(contact.result),
    h(
      "form",
      {
        class: "stack callback-form",
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          await busy(submit, out, async () => {
            const at = new Date(when.value);
            if (Number.isNaN(at.getTime())) throw new Error("Choose a date and time for the callback.");
            const updated = await request("POST", `/campaigns/${encodeURIComponent(campaignId)}/contacts/${encodeURIComponent(contact.id)}/callback`, {
              json: { callback_at: at.toISOString() },
            });
            paintState(updated);
            out.replaceChildren(notice("ok", `Callback due ${formatTime(updated.next_attempt_at)} (moved into the calling window when needed).`));
            onScheduled(updated);
          });
        },
      },
      h("h3", {}, "Schedule callback"),
      h("label", { class: "field" }, h("span", {}, "Call again at"), when),
      out,
      h("div", { class: "actions" }, submit, cancel, h("button", { type: "button", onclick: () => dialog.close() }, "Close")),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * Contacts waiting for a callback (pending with outcome `callback`), soonest first. `known` is a
 * contact just answered by the API: the list reads D1, which the campaign's object updates a moment later.
 * @param {string} campaignId @param {any} [known]
 */
export async function loadWaitingCallbacks(campaignId, known) {
  /** @type {any[]} */
  const waiting = [];
  let offset = 0;
  for (let pages = 0; pages < CALLBACK_SCAN_PAGES; pages++) {
    const page = await request("GET", `/campaigns/${encodeURIComponent(campaignId)}/contacts`, { query: { status: "pending", limit: 100, offset } });
    waiting.push(...page.contacts.filter((/** @type {any} */ c) => c.outcome === "callback"));
    if (!page.has_next) break;
    offset = page.next_offset;
  }
  if (known) {
    const at = waiting.findIndex((c) => c.id === known.id);
    if (at >= 0) waiting.splice(at, 1);
    if (known.status === "pending" && known.outcome === "callback") waiting.push(known);
  }
  return waiting.sort((a, b) => String(a.next_attempt_at).localeCompare(String(b.next_attempt_at)));
}

/** @param {any[]} waiting @param {(contact: any) => void} open */
export function waitingCallbacksTable(waiting, open) {
  return table(
    ["Number", "Due", "Callbacks", "Disposition"],
    waiting.map((c) => [
      h("button", { type: "button", class: "link", onclick: () => open(c) }, c.phone_number),
      h("time", { datetime: c.next_attempt_at ?? "" }, formatShortTime(c.next_attempt_at)),
      formatNumber(c.callbacks ?? 0),
      c.result ? words(c.result.disposition) : "—",
    ]),
    "No callbacks waiting.",
  );
}
