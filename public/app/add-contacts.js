// @ts-check
/** "Add contacts" on the campaign page: a CSV appended to the campaign (POST …/contacts). */
import { request } from "./api.js";
import { busy, formatNumber, h, notice } from "./ui.js";

/** Statuses whose campaign takes more contacts (SPEC "Safe operations"). */
export const APPENDABLE = ["draft", "scheduled", "paused", "running"];

/**
 * The dialog: a CSV file with the campaign's own columns; the API's answer (or its refusal, naming
 * rows or columns) is shown in place, and `onAdded` lets the page read the campaign again.
 * @param {string} campaignId @param {() => void} onAdded
 */
export function openAddContactsDialog(campaignId, onAdded) {
  const file = /** @type {HTMLInputElement} */ (h("input", { type: "file", name: "contacts", accept: ".csv,text/csv", required: true }));
  const out = h("div", { "aria-live": "polite" });
  const submit = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "primary" }, "Add"));
  const dialog = h(
    "dialog",
    { class: "add-contacts", "aria-labelledby": "add-contacts-title", onclose: () => dialog.remove() },
    h(
      "form",
      {
        class: "stack",
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const chosen = file.files?.[0];
          if (!chosen) return;
          await busy(submit, out, async () => {
            const body = new FormData();
            body.set("contacts", chosen, chosen.name);
            const added = await request("POST", `/campaigns/${encodeURIComponent(campaignId)}/contacts`, { body });
            out.replaceChildren(
              notice(
                "ok",
                `Added ${formatNumber(added.added)} ${added.added === 1 ? "contact" : "contacts"}` +
                  ` (${formatNumber(added.duplicates_skipped)} already there or repeated, ${formatNumber(added.dnc_suppressed)} on the do-not-call list).` +
                  ` The campaign now holds ${formatNumber(added.total)}.`,
              ),
            );
            onAdded();
          });
        },
      },
      h("h2", { id: "add-contacts-title" }, "Add contacts"),
      h(
        "p",
        { class: "muted" },
        "A CSV with the columns of the campaign's upload: phone_number and the same custom columns, in any order (timezone and expires_at optional). Numbers already in the campaign are skipped; a running campaign dials the new contacts after the others.",
      ),
      h("label", { class: "field" }, h("span", {}, "CSV file"), file),
      out,
      h("div", { class: "actions" }, submit, h("button", { type: "button", onclick: () => dialog.close() }, "Close")),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
