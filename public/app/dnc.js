// @ts-check
import { ApiError, request } from "./api.js";
import { busy, errorText, field, formatNumber, formatTime, h, notice, pager, table } from "./ui.js";

const PAGE_SIZE = 50;

/** @param {import("./main.js").ViewContext} context */
export async function dncPage({ main }) {
  const state = { prefix: "", offset: 0 };
  const list = h("div");
  const out = h("div");

  const numbers = h("textarea", { name: "numbers", rows: 4, placeholder: "+14155550100\n+442071838750", required: true });
  const reason = h("input", { name: "reason", maxlength: 200, placeholder: "asked not to be called" });
  const country = h("input", { name: "default_country", maxlength: 2, placeholder: "US", autocomplete: "off" });
  const add = h("button", { type: "submit", class: "primary" }, "Add to the list");
  const addForm = h(
    "form",
    {
      class: "card stack",
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const entries = numbers.value
          .split(/[\n,;]+/)
          .map((n) => n.trim())
          .filter(Boolean);
        await busy(add, out, async () => {
          const result = await request("POST", "/dnc", {
            json: {
              numbers: entries,
              ...(reason.value.trim() && { reason: reason.value.trim() }),
              ...(country.value.trim() && { default_country: country.value.trim().toUpperCase() }),
            },
          });
          out.replaceChildren(summary(result));
          if (result.invalid.length === 0) numbers.value = "";
          await load();
        });
      },
    },
    h("h2", {}, "Add numbers"),
    field("Numbers", numbers, "One per line or comma-separated; national numbers need a default country."),
    h("div", { class: "columns" }, field("Reason", reason), field("Default country", country)),
    h("div", { class: "actions" }, add),
  );

  const csv = h("input", { type: "file", accept: ".csv,text/csv" });
  const upload = h("button", { type: "submit" }, "Upload CSV");
  const uploadForm = h(
    "form",
    {
      class: "card stack",
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const file = csv.files?.[0];
        if (!file) return out.replaceChildren(notice("error", "Choose a CSV file with a phone_number column first."));
        await busy(upload, out, async () => {
          out.replaceChildren(summary(await request("POST", "/dnc", { body: file, type: "text/csv" })));
          csv.value = "";
          await load();
        });
      },
    },
    h("h2", {}, "Upload a list"),
    field("CSV file", csv, "A phone_number column; a million numbers per account are fine."),
    h("div", { class: "actions" }, upload),
  );

  const lookup = h("input", { name: "lookup", placeholder: "+14155550100", autocomplete: "off" });
  const lookupOut = h("span", { class: "muted", "aria-live": "polite" });
  const check = h("button", { type: "submit" }, "Check");
  const lookupForm = h(
    "form",
    {
      class: "inline",
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const phone = lookup.value.trim();
        if (!phone) return;
        await busy(check, lookupOut, async () => {
          try {
            const entry = await request("GET", `/dnc/${encodeURIComponent(phone)}`);
            lookupOut.textContent = `${entry.phone_number} is listed since ${formatTime(entry.created_at)}${entry.reason ? ` (${entry.reason})` : ""}.`;
          } catch (error) {
            if (!(error instanceof ApiError && error.status === 404)) throw error;
            lookupOut.textContent = `${phone} is not on the list.`;
          }
        });
      },
    },
    field("Is this number listed?", lookup),
    check,
    lookupOut,
  );

  const prefix = h("input", {
    type: "search",
    placeholder: "+1415",
    "aria-label": "Filter by prefix",
    oninput: () => {
      // The API takes the E.164 form: "+" and digits, whatever separators were typed.
      const digits = prefix.value.replace(/[^\d]/g, "");
      state.prefix = digits ? `+${digits}` : "";
      state.offset = 0;
      void load();
    },
  });

  main.append(
    h("h1", {}, "Do-not-call list"),
    h("p", { class: "muted" }, "Listed numbers are never dialled: new campaigns cancel them at create, running ones check before each dial."),
    out,
    h("div", { class: "columns" }, addForm, uploadForm),
    lookupForm,
    h("section", { class: "stack" }, h("div", { class: "heading" }, h("h2", {}, "Listed numbers"), prefix), list),
  );

  let run = 0;
  async function load() {
    const mine = ++run;
    try {
      const page = await request("GET", "/dnc", { query: { prefix: state.prefix, limit: PAGE_SIZE, offset: state.offset } });
      if (mine !== run) return;
      list.replaceChildren(
        table(
          ["Number", "Reason", "Added", ""],
          page.numbers.map((/** @type {any} */ n) => [
            n.phone_number,
            n.reason ?? "",
            formatTime(n.created_at),
            h(
              "button",
              {
                type: "button",
                class: "danger small",
                "aria-label": `Remove ${n.phone_number}`,
                onclick: (/** @type {Event} */ e) => remove(n.phone_number, e),
              },
              "Remove",
            ),
          ]),
          state.prefix ? `No listed number starts with ${state.prefix}.` : "The list is empty.",
        ),
        pager(page, (offset) => {
          state.offset = offset;
          void load();
        }),
      );
    } catch (error) {
      if (mine === run) list.replaceChildren(notice("error", errorText(error)));
    }
  }

  async function remove(/** @type {string} */ phone, /** @type {Event} */ event) {
    await busy(/** @type {HTMLButtonElement} */ (event.currentTarget), out, async () => {
      await request("DELETE", `/dnc/${encodeURIComponent(phone)}`);
      out.replaceChildren(notice("ok", `Removed ${phone} from the list.`));
      await load();
    });
  }

  await load();
}

/** @param {{ added: number, already_listed: number, invalid: { row: number, value: string }[] }} result */
function summary(result) {
  const parts = [`Added ${formatNumber(result.added)}`, `${formatNumber(result.already_listed)} already listed`];
  if (result.invalid.length === 0) return notice("ok", `${parts.join(", ")}.`);
  return notice(
    "error",
    `${parts.join(", ")}; ${formatNumber(result.invalid.length)} could not be read as phone numbers:`,
    h("ul", {}, ...result.invalid.slice(0, 20).map((i) => h("li", {}, `row ${i.row}: ${i.value}`))),
  );
}
