// @ts-check
import { ApiError, request } from "./api.js";
import { renderPreflight } from "./preflight.js";
import { busy, errorText, field, formatNumber, h, notice, words } from "./ui.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/** The outcomes a campaign may retry, and the four it retries unless told otherwise. */
const RETRYABLE = ["busy", "no_answer", "failed", "timeout", "voicemail"];
const RETRIED_BY_DEFAULT = ["busy", "no_answer", "failed", "timeout"];
/** Edits settle for this long before the preflight runs again. */
const PREFLIGHT_DELAY_MS = 300;

/** @param {import("./main.js").ViewContext} context */
export async function newCampaignPage({ main, navigate, flash }) {
  const [agents, numbers] = await Promise.all([
    request("GET", "/agents", { query: { limit: 100 } }),
    request("GET", "/telephony/numbers", { query: { limit: 100 } }),
  ]);
  /** @type {File | null} */
  let file = null;

  const input = (/** @type {string} */ name, /** @type {Record<string, string | number | boolean>} */ attributes = {}) => h("input", { name, ...attributes });
  const name = input("name", { required: true, maxlength: 200, placeholder: "Spring renewals" });
  const agent = h(
    "select",
    { name: "agent_id", required: true },
    ...agents.agents.map((/** @type {any} */ a) => h("option", { value: a.id }, `${a.name} (${a.status})`)),
  );
  const number = h(
    "select",
    { name: "phone_number_id", required: true },
    ...numbers.numbers.filter((/** @type {any} */ n) => n.outbound_enabled).map((/** @type {any} */ n) => h("option", { value: n.id }, n.e164)),
  );
  const concurrency = input("max_concurrent_calls", { type: "number", min: 1, max: 100, value: 5 });
  const retries = input("retries_per_contact", { type: "number", min: 0, max: 5, value: 0 });
  const retryDelay = input("retry_delay_seconds", { type: "number", min: 60, value: 300 });
  const rampUp = input("ramp_up_seconds", { type: "number", min: 0, max: 3600, value: 0 });
  const breakerOn = input("breaker_on", { type: "checkbox", checked: true });
  const failureRate = input("pause_on_failure_rate", { type: "number", min: 5, max: 100, step: 1, value: 80 });
  const failureWindow = input("failure_window", { type: "number", min: 5, max: 500, value: 20 });
  breakerOn.addEventListener("change", () => {
    failureRate.disabled = !breakerOn.checked;
    failureWindow.disabled = !breakerOn.checked;
  });
  const scheduledAt = input("scheduled_at", { type: "datetime-local" });
  const country = input("default_country", { maxlength: 2, placeholder: "US", autocomplete: "off" });
  const windowStart = input("calling_window_start", { type: "time" });
  const windowEnd = input("calling_window_end", { type: "time" });
  const timezone = input("calling_timezone", { placeholder: "recipient", autocomplete: "off" });
  const days = h(
    "fieldset",
    { class: "checks" },
    h("legend", {}, "Calling days"),
    ...DAYS.map((d) => h("label", {}, h("input", { type: "checkbox", name: "calling_days", value: d, checked: true }), d)),
  );
  const dispositions = input("dispositions", { placeholder: "interested, not_interested, callback_requested", autocomplete: "off" });
  const retryOn = h(
    "fieldset",
    { class: "checks" },
    h("legend", {}, "Retry these outcomes"),
    ...RETRYABLE.map((o) => h("label", {}, h("input", { type: "checkbox", name: "retry_on", value: o, checked: RETRIED_BY_DEFAULT.includes(o) }), words(o))),
  );
  const voicemailMessage = h("textarea", { name: "voicemail_message", maxlength: 1000, rows: 2 });
  const voicemailAudio = input("voicemail_audio_url", { type: "url", placeholder: "https://…/message.mp3", autocomplete: "off" });
  const voicemailFields = h(
    "div",
    { class: "columns", hidden: true },
    field("Voicemail message", voicemailMessage, "spoken after the beep, at most 1,000 characters"),
    field("Or an audio URL", voicemailAudio, "an https file played instead of the text"),
  );
  const voicemailAction = h(
    "select",
    { name: "voicemail_action", onchange: () => (voicemailFields.hidden = voicemailAction.value !== "message") },
    h("option", { value: "agent" }, "Connect the agent (answered_by=machine)"),
    h("option", { value: "hangup" }, "Hang up"),
    h("option", { value: "message" }, "Leave a message"),
  );
  const fileInput = h("input", { type: "file", accept: ".csv,text/csv", class: "visually-hidden", onchange: () => chooseFile(fileInput.files?.[0] ?? null) });
  const dropLabel = h("span", {}, "Drop a CSV of contacts here, or choose a file");
  const drop = h(
    "label",
    {
      class: "drop",
      ondragover: (/** @type {DragEvent} */ e) => {
        e.preventDefault();
        drop.classList.add("over");
      },
      ondragleave: () => drop.classList.remove("over"),
      ondrop: (/** @type {DragEvent} */ e) => {
        e.preventDefault();
        drop.classList.remove("over");
        chooseFile(e.dataTransfer?.files[0] ?? null);
      },
    },
    fileInput,
    dropLabel,
    h("small", {}, "A phone_number column is required; every other column travels to the agent as a variable."),
  );
  const preflight = h(
    "section",
    { class: "card stack preflight", "aria-live": "polite" },
    h("p", { class: "muted" }, "The preflight appears here once a CSV is chosen."),
  );
  const out = h("div");
  const create = h("button", { type: "submit", class: "primary", disabled: true }, "Create campaign");
  const form = h(
    "form",
    {
      class: "stack",
      oninput: () => schedulePreflight(),
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        await busy(create, out, async () => {
          const created = await request("POST", "/campaigns", { body: body() });
          const extras = [
            created.duplicates_skipped ? `${formatNumber(created.duplicates_skipped)} duplicate rows skipped` : "",
            created.dnc_suppressed ? `${formatNumber(created.dnc_suppressed)} numbers on the do-not-call list` : "",
          ].filter(Boolean);
          flash(notice("ok", `Created "${created.name}" with ${formatNumber(created.stats.total)} contacts${extras.length ? ` (${extras.join(", ")})` : ""}.`));
          navigate(`#/campaigns/${created.id}`);
        });
      },
    },
    drop,
    h("div", { class: "columns" }, field("Name", name), field("Agent", agent), field("Caller number", number)),
    h(
      "details",
      {},
      h("summary", {}, "Pacing, retries, schedule and calling window"),
      h(
        "div",
        { class: "columns" },
        field("Max concurrent calls", concurrency, "1–100"),
        field("Retries per contact", retries, "0–5; busy, no answer and failed calls"),
        field("Retry delay (s)", retryDelay, "at least 60"),
        field("Start at", scheduledAt, "empty: a draft you start yourself"),
        field("Default country", country, "for national numbers, e.g. US"),
        field("Ramp-up (s)", rampUp, "0–3,600; concurrency rises from 1 after each start"),
      ),
      h(
        "div",
        { class: "columns breaker" },
        h("label", { class: "check" }, breakerOn, "Pause when calls keep failing"),
        field("Failed share (%)", failureRate, "of the latest dials, failed or timed out"),
        field("Latest dials judged", failureWindow, "5–500"),
      ),
      h(
        "div",
        { class: "columns" },
        field("Window opens", windowStart),
        field("Window closes", windowEnd),
        field("Time zone", timezone, "recipient, or an IANA zone"),
      ),
      days,
    ),
    h(
      "details",
      {},
      h("summary", {}, "Call results: dispositions, retries and voicemail"),
      h(
        "div",
        { class: "columns" },
        field("Dispositions", dispositions, "comma list of a-z, 0-9 and _; empty: agents may report any name"),
        field("When a machine answers", voicemailAction),
      ),
      voicemailFields,
      retryOn,
    ),
    preflight,
    out,
    h("div", { class: "actions" }, create, h("a", { class: "button", href: "#/" }, "Cancel")),
  );
  if (agents.agents.length === 0 || number.options.length === 0) {
    main.append(notice("info", "This account needs an agent and an outbound-enabled number before it can dial; create them with the API."));
  }
  main.append(h("h1", {}, "New campaign"), form);

  function chooseFile(/** @type {File | null} */ chosen) {
    if (!chosen) return;
    file = chosen;
    dropLabel.textContent = `${chosen.name} · ${formatNumber(Math.ceil(chosen.size / 1024))} KB`;
    drop.classList.add("chosen");
    if (!name.value) name.value = chosen.name.replace(/\.csv$/i, "").replace(/[_-]+/g, " ");
    schedulePreflight();
  }

  /** Exactly the create body, so the preflight judges what create would receive. */
  function body() {
    const data = new FormData();
    data.set("name", name.value.trim());
    data.set("agent_id", agent.value);
    data.set("phone_number_id", number.value);
    data.set("max_concurrent_calls", concurrency.value);
    data.set("retries_per_contact", retries.value);
    data.set("retry_delay_seconds", retryDelay.value);
    if (rampUp.value && rampUp.value !== "0") data.set("ramp_up_seconds", rampUp.value);
    if (!breakerOn.checked) data.set("pause_on_failure_rate", "off");
    else {
      if (failureRate.value) data.set("pause_on_failure_rate", String(Number(failureRate.value) / 100));
      if (failureWindow.value) data.set("failure_window", failureWindow.value);
    }
    if (scheduledAt.value) data.set("scheduled_at", new Date(scheduledAt.value).toISOString());
    if (country.value.trim()) data.set("default_country", country.value.trim().toUpperCase());
    if (windowStart.value || windowEnd.value) {
      data.set("calling_window_start", windowStart.value);
      data.set("calling_window_end", windowEnd.value);
      const checked = [...days.querySelectorAll("input:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
      if (checked.length < DAYS.length) data.set("calling_days", checked.join(","));
      if (timezone.value.trim()) data.set("calling_timezone", timezone.value.trim());
    }
    const names = dispositions.value
      .split(/[\s,]+/)
      .map((n) => n.trim())
      .filter(Boolean);
    if (names.length) data.set("dispositions", names.join(","));
    const retried = [...retryOn.querySelectorAll("input:checked")].map((i) => /** @type {HTMLInputElement} */ (i).value);
    if (retried.join(",") !== RETRIED_BY_DEFAULT.join(",")) data.set("retry_on", retried.join(","));
    if (voicemailAction.value !== "agent") data.set("voicemail_action", voicemailAction.value);
    if (voicemailAction.value === "message") {
      if (voicemailMessage.value.trim()) data.set("voicemail_message", voicemailMessage.value.trim());
      if (voicemailAudio.value.trim()) data.set("voicemail_audio_url", voicemailAudio.value.trim());
    }
    if (file) data.set("contacts", file, file.name);
    return data;
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let run = 0;
  function schedulePreflight() {
    if (!file) return;
    create.disabled = true;
    clearTimeout(timer);
    timer = setTimeout(() => void runPreflight(), PREFLIGHT_DELAY_MS);
  }

  async function runPreflight() {
    const mine = ++run;
    preflight.replaceChildren(h("p", { class: "muted" }, "Checking the upload…"));
    try {
      const result = await request("POST", "/campaigns/preflight", { body: body() });
      if (mine !== run) return;
      preflight.replaceChildren(...renderPreflight(result));
      create.disabled = !result.ok;
    } catch (error) {
      if (mine !== run) return;
      // Create checks everything again, so a preflight that cannot run does not block it.
      const unavailable = error instanceof ApiError && (error.status === 404 || error.status === 405 || error.status >= 500 || error.status === 0);
      preflight.replaceChildren(notice(unavailable ? "info" : "error", `The preflight could not run: ${errorText(error)}`));
      create.disabled = !unavailable;
    }
  }

  return () => clearTimeout(timer);
}
