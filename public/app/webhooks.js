// @ts-check
import { request } from "./api.js";
import { badge, busy, errorText, field, formatTime, h, notice, pager, table } from "./ui.js";

/** @type {Promise<string[]> | undefined} */
let eventTypesOnce;

/**
 * The message types an endpoint can subscribe to, as the service's own OpenAPI document lists them
 * (fetched once a page load). `ping` is left out: the test button sends it whatever an endpoint subscribes to.
 */
function subscribableEventTypes() {
  eventTypesOnce ??= fetch("/openapi.json", { headers: { Accept: "application/json" } })
    .then(async (res) => {
      if (!res.ok) throw new Error(`Could not load the event types: GET /openapi.json answered ${res.status}. Reload the page to try again.`);
      const types = (await res.json())?.components?.schemas?.WebhookEndpoint?.properties?.events?.items?.enum;
      if (!Array.isArray(types)) throw new Error("Could not load the event types: /openapi.json does not list them. Reload the page to try again.");
      return types.filter((/** @type {unknown} */ t) => typeof t === "string" && t !== "ping");
    })
    .catch((error) => {
      eventTypesOnce = undefined;
      throw error;
    });
  return eventTypesOnce;
}

const DELIVERIES_REFRESH_MS = 5_000;

/** @param {import("./main.js").ViewContext} context */
export async function webhooksPage({ main }) {
  const list = h("div");
  const out = h("div");
  const url = h("input", { type: "url", name: "url", required: true, placeholder: "https://crm.example.com/hooks/edgedial" });
  const description = h("input", { name: "description", maxlength: 200, placeholder: "CRM sync" });
  const events = h("fieldset", { class: "checks" }, h("legend", {}, "Events"));
  const add = h("button", { type: "submit", class: "primary" }, "Add endpoint");
  const form = h(
    "form",
    {
      class: "card stack",
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const chosen = [...events.querySelectorAll("input:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
        if (chosen.length === 0) return out.replaceChildren(notice("error", "Pick at least one event to send."));
        await busy(add, out, async () => {
          const created = await request("POST", "/webhooks", {
            json: { url: url.value.trim(), events: chosen, ...(description.value.trim() && { description: description.value.trim() }) },
          });
          out.replaceChildren(secretNotice(created));
          url.value = "";
          description.value = "";
          await load();
        });
      },
    },
    h("h2", {}, "Add an endpoint"),
    field("URL", url, "https only in production; messages follow the Standard Webhooks specification."),
    field("Description", description),
    events,
    h("div", { class: "actions" }, add),
  );
  main.append(h("h1", {}, "Webhooks"), out, h("section", { class: "stack" }, h("h2", {}, "Endpoints"), list), form);

  async function loadEventTypes() {
    try {
      const types = await subscribableEventTypes();
      events.append(...types.map((e) => h("label", {}, h("input", { type: "checkbox", name: "events", value: e, checked: true }), e)));
    } catch (error) {
      events.append(notice("error", errorText(error)));
    }
  }

  async function load() {
    try {
      const page = await request("GET", "/webhooks", { query: { limit: 100 } });
      list.replaceChildren(
        table(
          ["URL", "Events", "State", "Created"],
          page.webhooks.map((/** @type {any} */ w) => [
            h("a", { href: `#/webhooks/${w.id}` }, w.url),
            h("span", { class: "wrap" }, w.events.join(", ")),
            w.enabled ? badge("enabled") : h("span", {}, badge("disabled"), " ", w.disabled_reason ?? ""),
            formatTime(w.created_at),
          ]),
          "No endpoints yet.",
        ),
      );
    } catch (error) {
      list.replaceChildren(notice("error", errorText(error)));
    }
  }
  await Promise.all([loadEventTypes(), load()]);
}

/** The signing secret is shown once, at create; it is never sent again. */
function secretNotice(/** @type {any} */ created) {
  const secret = h("code", { class: "secret" }, created.secret);
  const copy = h(
    "button",
    {
      type: "button",
      class: "small",
      onclick: async () => {
        await navigator.clipboard.writeText(created.secret);
        copy.textContent = "Copied";
      },
    },
    "Copy",
  );
  return notice(
    "ok",
    h("p", {}, `Added ${created.url}. Its signing secret is shown only now: store it where your receiver verifies signatures.`),
    h("p", {}, secret, " ", copy),
  );
}

/** @param {import("./main.js").ViewContext} context */
export async function webhookPage({ main, params, navigate, flash }) {
  const id = params[0] ?? "";
  const path = `/webhooks/${encodeURIComponent(id)}`;
  let endpoint = await request("GET", path);
  const out = h("div");
  const header = h("div", { class: "title" });
  const details = h("dl", { class: "details" });
  const actions = h("div", { class: "actions" });
  const deliveries = h("div");
  let offset = 0;

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/webhooks" }, "Webhooks"), " › ", endpoint.url),
    header,
    actions,
    out,
    h("section", { class: "card" }, details),
    h("section", { class: "stack" }, h("h2", {}, "Deliveries"), deliveries),
  );

  function paint() {
    header.replaceChildren(h("h1", {}, endpoint.url), badge(endpoint.enabled ? "enabled" : "disabled"));
    details.replaceChildren(
      ...[
        ["Id", h("code", {}, endpoint.id)],
        ["Events", endpoint.events.join(", ")],
        ["Description", endpoint.description ?? "—"],
        ["Disabled because", endpoint.disabled_reason ?? "—"],
        ["Created", formatTime(endpoint.created_at)],
      ].flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]),
    );
    actions.replaceChildren(
      h("button", { type: "button", onclick: (/** @type {Event} */ e) => toggle(e) }, endpoint.enabled ? "Disable" : "Enable"),
      h("button", { type: "button", onclick: (/** @type {Event} */ e) => sendTest(e) }, "Send a test message"),
      h("button", { type: "button", class: "danger", onclick: (/** @type {Event} */ e) => remove(e) }, "Delete"),
    );
  }

  async function toggle(/** @type {Event} */ event) {
    await busy(/** @type {HTMLButtonElement} */ (event.currentTarget), out, async () => {
      endpoint = await request("PATCH", path, { json: { enabled: !endpoint.enabled } });
      paint();
    });
  }

  async function sendTest(/** @type {Event} */ event) {
    await busy(/** @type {HTMLButtonElement} */ (event.currentTarget), out, async () => {
      const { message_id } = await request("POST", `${path}/test`);
      out.replaceChildren(notice("ok", `Queued ping ${message_id}; it appears below as it is delivered.`));
      await loadDeliveries();
    });
  }

  async function remove(/** @type {Event} */ event) {
    if (!confirm(`Delete the endpoint ${endpoint.url}? Pending messages to it are dropped.`)) return;
    await busy(/** @type {HTMLButtonElement} */ (event.currentTarget), out, async () => {
      await request("DELETE", path);
      flash(notice("ok", `Deleted ${endpoint.url}.`));
      navigate("#/webhooks");
    });
  }

  async function loadDeliveries() {
    try {
      const page = await request("GET", `${path}/deliveries`, { query: { limit: 50, offset } });
      deliveries.replaceChildren(
        table(
          ["Message", "Type", "Status", "Attempts", "Last answer", "Next attempt", "Created"],
          page.deliveries.map((/** @type {any} */ d) => [
            h("code", {}, d.message_id),
            d.type,
            badge(d.status),
            String(d.attempts),
            d.last_error ?? (d.last_status_code === null ? "—" : `HTTP ${d.last_status_code}`),
            formatTime(d.next_attempt_at),
            formatTime(d.created_at),
          ]),
          "No messages yet: send a test message, or start a campaign.",
        ),
        pager(page, (next) => {
          offset = next;
          void loadDeliveries();
        }),
      );
    } catch (error) {
      deliveries.replaceChildren(notice("error", errorText(error)));
    }
  }

  paint();
  await loadDeliveries();
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") void loadDeliveries();
  }, DELIVERIES_REFRESH_MS);
  return () => clearInterval(timer);
}
