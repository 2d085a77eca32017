// @ts-check
import "../widget.js";
import { APPENDABLE, openAddContactsDialog } from "./add-contacts.js";
import { ApiError, download, request } from "./api.js";
import { dispositionNames, fillDispositionFilter, loadWaitingCallbacks, openContactDialog, waitingCallbacksTable } from "./contact-results.js";
import {
  badge,
  busy,
  CONTACT_STATUSES,
  capitalized,
  errorText,
  field,
  formatNumber,
  formatShortTime,
  formatTime,
  h,
  notice,
  OUTCOMES,
  pager,
  table,
  words,
} from "./ui.js";

/** Contacts per page in the table. */
const PAGE_SIZE = 50;
/** Live snapshots arrive every 2 s; the table and header follow at most this often. */
const FOLLOW_MS = 2_000;
/** How long the campaign's object may take to copy a change to D1, which the lists read. */
const D1_FLUSH_MS = 500;

/** Which lifecycle buttons a status allows (SPEC "Lifecycle"). */
const ACTIONS = /** @type {const} */ ([
  ["start", ["draft", "paused", "scheduled"]],
  ["pause", ["running"]],
  ["resume", ["paused"]],
  ["stop", ["draft", "scheduled", "running", "paused"]],
]);

/** @param {import("./main.js").ViewContext} context */
export async function campaignPage({ main, params, navigate, flash }) {
  const id = params[0] ?? "";
  let campaign = await request("GET", `/campaigns/${encodeURIComponent(id)}`);
  /** Filled in once the lookups answer; until then the ids stand in. */
  const names = { agent: /** @type {Lookup | null} */ (null), number: /** @type {Lookup | null} */ (null) };
  const state = { status: "", disposition: "", offset: 0 };
  const out = h("div");
  const header = h("div", { class: "title" });
  const actions = h("div", { class: "actions" });
  const details = h("dl", { class: "details" });
  const contacts = h("div");
  const statusFilter = h(
    "select",
    {
      "aria-label": "Contact status",
      onchange: () => {
        state.status = statusFilter.value;
        state.offset = 0;
        void loadContacts();
      },
    },
    h("option", { value: "" }, "All contacts"),
    ...CONTACT_STATUSES.map((s) => h("option", { value: s }, words(s))),
  );
  const dispositionFilter = h("select", {
    "aria-label": "Disposition",
    onchange: () => {
      state.disposition = dispositionFilter.value;
      state.offset = 0;
      void loadContacts();
    },
  });
  const callbacks = h("div");
  const exportButton = h("button", { type: "button", onclick: () => exportCsv() }, "Export CSV");

  const widget = /** @type {HTMLElement & { tokenProvider: (() => Promise<{ token: string, expires_at: string }>) | null }} */ (
    document.createElement("edgedial-campaign")
  );
  // The dashboard mints tokens with its own credential; the widget renews through this before expiry.
  widget.tokenProvider = () => request("POST", `/campaigns/${encodeURIComponent(id)}/events/token`);
  widget.setAttribute("full-numbers", "");
  widget.setAttribute("campaign", id);

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Campaigns"), " › ", campaign.name),
    header,
    actions,
    out,
    h("div", { class: "columns wide" }, widget, h("section", { class: "card" }, h("h2", {}, "Settings"), details)),
    h("section", { class: "stack waiting-callbacks" }, h("div", { class: "heading" }, h("h2", {}, "Waiting callbacks")), callbacks),
    h("section", { class: "stack" }, h("div", { class: "heading" }, h("h2", {}, "Contacts"), statusFilter, dispositionFilter, exportButton), contacts),
  );

  function paint() {
    header.replaceChildren(
      h("h1", {}, campaign.name),
      badge(campaign.status),
      campaign.status_reason ? h("p", { class: "muted reason" }, campaign.status_reason) : "",
    );
    actions.replaceChildren(
      ...ACTIONS.map(([action, allowed]) =>
        h(
          "button",
          {
            type: "button",
            disabled: !(/** @type {readonly string[]} */ (allowed).includes(campaign.status)),
            onclick: (/** @type {Event} */ e) => act(action, e),
          },
          capitalized(action),
        ),
      ),
      h(
        "button",
        { type: "button", disabled: !APPENDABLE.includes(campaign.status), onclick: () => openAddContactsDialog(id, () => update()) },
        "Add contacts…",
      ),
      h("button", { type: "button", onclick: () => cloneDialog() }, "Clone…"),
      h("button", { type: "button", class: "danger", disabled: campaign.status === "running", onclick: (/** @type {Event} */ e) => remove(e) }, "Delete"),
    );
    const window = campaign.calling_window;
    /** @type {[string, Node | string][]} */
    const rows = [
      ["Id", h("code", {}, campaign.id)],
      ["Contacts", formatNumber(campaign.stats.total)],
      ["Max concurrent calls", String(campaign.max_concurrent_calls)],
      ["Retries per contact", `${campaign.retries_per_contact} (every ${campaign.retry_delay_seconds} s)`],
      ["Ramp-up", campaign.ramp_up_seconds ? `${formatNumber(campaign.ramp_up_seconds)} s` : "none"],
      [
        "Failure breaker",
        campaign.pause_on_failure_rate === null
          ? "off"
          : `pauses at ${Math.round(campaign.pause_on_failure_rate * 100)}% of the latest ${campaign.failure_window} dials failed`,
      ],
      ["Agent", named(names.agent, campaign.agent_id)],
      ["Number", named(names.number, campaign.phone_number_id)],
      ["Calling window", window ? `${window.start}–${window.end}, ${window.days.join(" ")}, ${window.timezone}` : "any time"],
      ["Scheduled", formatTime(campaign.scheduled_at)],
      ["Created", formatTime(campaign.created_at)],
      ["Started", formatTime(campaign.started_at)],
      ["Completed", formatTime(campaign.completed_at)],
    ];
    if (campaign.source_campaign_id) rows.push(["Cloned from", h("a", { href: `#/campaigns/${campaign.source_campaign_id}` }, campaign.source_campaign_id)]);
    rows.push(
      ["Dispositions", campaign.dispositions ? campaign.dispositions.map(words).join(", ") : "any name"],
      ["Retried outcomes", (campaign.retry_on ?? []).map(words).join(", ") || "none"],
      ["Voicemail", voicemailText(campaign)],
    );
    details.replaceChildren(...rows.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
    fillDispositionFilter(dispositionFilter, dispositionNames(campaign));
  }

  async function refresh() {
    campaign = await request("GET", `/campaigns/${encodeURIComponent(id)}`);
    paint();
  }

  async function loadContacts() {
    try {
      const page = await request("GET", `/campaigns/${encodeURIComponent(id)}/contacts`, {
        query: { status: state.status, disposition: state.disposition, limit: PAGE_SIZE, offset: state.offset },
      });
      const filtered = [state.status, state.disposition && `“${words(state.disposition)}”`].filter(Boolean).map(words).join(" ");
      contacts.replaceChildren(
        table(
          ["Row", "Number", "Status", "Outcome", "Disposition", "Attempts", "Last error", "Fields", "Updated"],
          page.contacts.map((/** @type {any} */ c) => [
            String(c.row),
            h("button", { type: "button", class: "link", title: "Result and callback", onclick: () => openContact(c) }, c.phone_number),
            badge(c.status),
            c.outcome ? words(c.outcome) : "—",
            c.result ? words(c.result.disposition) : "—",
            String(c.attempts),
            c.last_error ? h("span", { class: "wrap" }, c.last_error) : "",
            fieldsCell(c.custom_fields ?? {}),
            formatShortTime(c.updated_at),
          ]),
          filtered ? `No ${filtered} contacts.` : "No contacts.",
        ),
        pager(page, (offset) => {
          state.offset = offset;
          void loadContacts();
        }),
      );
    } catch (error) {
      contacts.replaceChildren(notice("error", errorText(error)));
    }
  }

  function openContact(/** @type {any} */ contact) {
    openContactDialog(id, contact, (updated) => {
      void loadCallbacks(updated);
      // The list reads D1, which the campaign's object updates within a moment of its answer.
      setTimeout(() => void Promise.all([loadContacts(), loadCallbacks(updated)]), D1_FLUSH_MS);
    });
  }

  async function loadCallbacks(/** @type {any} */ known = undefined) {
    try {
      callbacks.replaceChildren(waitingCallbacksTable(await loadWaitingCallbacks(id, known), openContact));
    } catch (error) {
      callbacks.replaceChildren(notice("error", errorText(error)));
    }
  }

  /** @param {string} action @param {Event} event */
  async function act(action, event) {
    await busy(/** @type {HTMLButtonElement} */ (event.currentTarget), out, async () => {
      campaign = await request("POST", `/campaigns/${encodeURIComponent(id)}/${action}`);
      paint();
    });
  }

  async function remove(/** @type {Event} */ event) {
    if (!confirm(`Delete "${campaign.name}" and its ${campaign.stats.total} contacts? This cannot be undone.`)) return;
    await busy(/** @type {HTMLButtonElement} */ (event.currentTarget), out, async () => {
      await request("DELETE", `/campaigns/${encodeURIComponent(id)}`);
      flash(notice("ok", `Deleted "${campaign.name}".`));
      navigate("#/");
    });
  }

  async function exportCsv() {
    await busy(exportButton, out, async () => {
      const name = await download(
        `/campaigns/${encodeURIComponent(id)}/contacts.csv`,
        { status: state.status || undefined, disposition: state.disposition || undefined },
        `${id}.csv`,
      );
      out.replaceChildren(notice("ok", `Saved ${name}.`));
    });
  }

  function cloneDialog() {
    const name = h("input", { name: "name", value: `${campaign.name} (again)`, maxlength: 200 });
    const boxes = (/** @type {string} */ group, /** @type {string[]} */ values, /** @type {string[]} */ checked) =>
      h(
        "fieldset",
        { class: "checks" },
        h("legend", {}, words(group)),
        ...values.map((v) => h("label", {}, h("input", { type: "checkbox", name: group, value: v, checked: checked.includes(v) }), words(v))),
      );
    const statuses = boxes("statuses", CONTACT_STATUSES, ["failed"]);
    const outcomes = boxes("outcomes", OUTCOMES, []);
    const result = h("div");
    const submit = h("button", { type: "submit", class: "primary" }, "Create the copy");
    const dialog = h(
      "dialog",
      { "aria-labelledby": "clone-title", onclose: () => dialog.remove() },
      h(
        "form",
        {
          class: "stack",
          onsubmit: async (/** @type {SubmitEvent} */ e) => {
            e.preventDefault();
            const picked = (/** @type {HTMLElement} */ set) => [...set.querySelectorAll("input:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
            /** @type {Record<string, unknown>} */
            const body = { name: name.value.trim() || undefined };
            if (picked(statuses).length) body.statuses = picked(statuses);
            if (picked(outcomes).length) body.outcomes = picked(outcomes);
            await busy(submit, result, async () => {
              const copy = await request("POST", `/campaigns/${encodeURIComponent(id)}/clone`, { json: body });
              dialog.close();
              flash(notice("ok", `Created "${copy.name}" with ${formatNumber(copy.stats.total)} contacts from "${campaign.name}".`));
              navigate(`#/campaigns/${copy.id}`);
            });
          },
        },
        h("h2", { id: "clone-title" }, "Clone into a new draft"),
        h(
          "p",
          { class: "muted" },
          "Copies the contacts that match into a new campaign. With both lists, a contact must match both; with neither, every contact is copied.",
        ),
        field("Name", name),
        statuses,
        outcomes,
        result,
        h("div", { class: "actions" }, submit, h("button", { type: "button", onclick: () => dialog.close() }, "Cancel")),
      ),
    );
    document.body.append(dialog);
    dialog.showModal();
  }

  paint();
  // Neither changes while the page is open, so one lookup each is enough.
  void Promise.all([agentName(campaign.agent_id), numberE164(campaign.phone_number_id)]).then(([agent, number]) => {
    names.agent = agent;
    names.number = number;
    paint();
  });
  await Promise.all([loadContacts(), loadCallbacks()]);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let chain = Promise.resolve();
  const update = () => {
    chain = chain.then(() =>
      Promise.all([refresh(), loadContacts()]).then(
        () => undefined,
        (error) => out.replaceChildren(notice("error", errorText(error))),
      ),
    );
  };
  /** Follows the widget's live events, at most every FOLLOW_MS, and once more at the end. */
  const follow = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      update();
    }, FOLLOW_MS);
  };
  const onEnd = () => {
    clearTimeout(timer);
    timer = undefined;
    update();
    void loadCallbacks();
  };
  /** A result that asks for a callback changes the waiting list; others only the table. */
  const onResult = (/** @type {Event} */ event) => {
    if (/** @type {CustomEvent} */ (event).detail?.callback_at) void loadCallbacks();
    follow();
  };
  widget.addEventListener("edgedial-snapshot", follow);
  widget.addEventListener("edgedial-contact", follow);
  widget.addEventListener("edgedial-end", onEnd);
  widget.addEventListener("edgedial-result", onResult);
  return () => {
    clearTimeout(timer);
    widget.removeEventListener("edgedial-snapshot", follow);
    widget.removeEventListener("edgedial-contact", follow);
    widget.removeEventListener("edgedial-end", onEnd);
    widget.removeEventListener("edgedial-result", onResult);
    widget.remove();
  };
}

/** What a machine-answered call gets. */
function voicemailText(/** @type {any} */ campaign) {
  if (campaign.voicemail_action !== "message") return campaign.voicemail_action === "hangup" ? "hang up" : "the agent takes it";
  return campaign.voicemail_audio_url ? `play ${campaign.voicemail_audio_url}` : `say “${campaign.voicemail_message ?? ""}”`;
}

/** The upload's own columns, values only, with the column names on hover. */
function fieldsCell(/** @type {Record<string, string>} */ fields) {
  const entries = Object.entries(fields);
  return h("span", { class: "wrap", title: entries.map(([k, v]) => `${k}: ${v}`).join("\n") }, entries.map(([, v]) => v).join(" · "));
}

/** @typedef {{ label: string } | { gone: true } | { unknown: true }} Lookup */

/** A name with its id beside it, smaller; a deleted or unreadable one falls back to the id. */
function named(/** @type {Lookup | null} */ lookup, /** @type {string} */ id) {
  if (lookup && "label" in lookup) return h("span", { class: "named" }, lookup.label, " ", h("code", { class: "muted" }, id));
  return h("span", { class: "named" }, h("code", {}, id), lookup && "gone" in lookup ? h("small", {}, " (deleted)") : "");
}

/** @returns {Promise<Lookup>} */
async function agentName(/** @type {string} */ id) {
  try {
    const agent = await request("GET", `/agents/${encodeURIComponent(id)}`);
    return { label: agent.name };
  } catch (error) {
    return error instanceof ApiError && error.status === 404 ? { gone: true } : { unknown: true };
  }
}

/** The number's E.164 from the account's list (read page by page: an account holds few numbers). */
async function numberE164(/** @type {string} */ id) {
  try {
    for (let offset = 0; ; ) {
      const page = await request("GET", "/telephony/numbers", { query: { limit: 100, offset } });
      const found = page.numbers.find((/** @type {any} */ n) => n.id === id);
      if (found) return /** @type {Lookup} */ ({ label: found.e164 });
      if (!page.has_next) return /** @type {Lookup} */ ({ gone: true });
      offset = page.next_offset;
    }
  } catch {
    return /** @type {Lookup} */ ({ unknown: true });
  }
}
