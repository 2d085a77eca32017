// @ts-check
import { request } from "./api.js";
import { busy, field, formatTime, h, notice } from "./ui.js";

/** A number field's value for the API: empty means the rule is off (null). */
const numberOrNull = (/** @type {HTMLInputElement} */ input) => (input.value.trim() === "" ? null : Number(input.value));

/** @param {import("./main.js").ViewContext} context */
export async function contactPolicyPage({ main }) {
  let policy = await request("GET", "/contact-policy");
  const out = h("div");
  const changed = h("p", { class: "muted" });
  const count = h("input", { type: "number", name: "max_attempts_count", min: 1, max: 100, step: 1, placeholder: "7" });
  const days = h("input", { type: "number", name: "max_attempts_days", min: 1, max: 30, step: 1, placeholder: "7" });
  const perDay = h("input", { type: "number", name: "max_attempts_per_day", min: 1, max: 100, step: 1, placeholder: "off" });
  const spacing = h("input", { type: "number", name: "min_seconds_between_attempts", min: 0, max: 604800, step: 1, placeholder: "off" });
  const voicemail = h("input", { type: "checkbox", name: "count_voicemail" });
  const url = h("input", { type: "url", name: "eligibility_url", placeholder: "https://crm.example.com/edgedial/eligible" });
  const save = h("button", { type: "submit", class: "primary" }, "Save policy");

  function paint() {
    count.value = policy.max_attempts ? String(policy.max_attempts.count) : "";
    days.value = policy.max_attempts ? String(policy.max_attempts.days) : "";
    perDay.value = policy.max_attempts_per_day === null ? "" : String(policy.max_attempts_per_day);
    spacing.value = policy.min_seconds_between_attempts === null ? "" : String(policy.min_seconds_between_attempts);
    voicemail.checked = policy.count_voicemail;
    url.value = policy.eligibility_url ?? "";
    changed.textContent = policy.updated_at ? `Last changed ${formatTime(policy.updated_at)}.` : "No rules set yet: campaigns dial without limits or checks.";
  }

  const form = h(
    "form",
    {
      class: "card stack",
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        const [c, d] = [numberOrNull(count), numberOrNull(days)];
        await busy(save, out, async () => {
          // Half a max_attempts goes to the API as is, so its answer names the missing half.
          const body = {
            max_attempts: c === null && d === null ? null : { ...(c !== null && { count: c }), ...(d !== null && { days: d }) },
            max_attempts_per_day: numberOrNull(perDay),
            min_seconds_between_attempts: numberOrNull(spacing),
            count_voicemail: voicemail.checked,
            eligibility_url: url.value.trim() === "" ? null : url.value.trim(),
          };
          const saved = await request("PUT", "/contact-policy", { json: body });
          const { eligibility_secret: secret, ...rest } = saved;
          policy = rest;
          paint();
          out.replaceChildren(
            secret ? secretNotice(policy.eligibility_url, secret) : notice("ok", "Saved. The policy applies from the next dial of every campaign."),
          );
        });
      },
    },
    h("h2", {}, "Rules"),
    h(
      "div",
      { class: "columns" },
      field("Most dials of one number", count, "Empty for no limit."),
      field("…in any rolling number of days", days, "1 to 30 days."),
    ),
    h(
      "div",
      { class: "columns" },
      field("Most dials of one number per day", perDay, "Counted from midnight in the number's own time zone."),
      field("Least seconds between two dials of one number", spacing, "Up to 604,800 (7 days)."),
    ),
    h("label", { class: "check" }, voicemail, "A dial that reached voicemail counts"),
    h("h2", {}, "Eligibility check"),
    field(
      "Endpoint URL",
      url,
      "Asked before each dial, signed like webhooks; contacts it answers dial: false for are cancelled as ineligible. Empty for no check.",
    ),
    h("div", { class: "actions" }, save),
  );
  paint();
  main.append(
    h("h1", {}, "Contact policy"),
    h("p", {}, "One rulebook for every campaign of the account: how often one number may be dialled, and a check with your systems before each dial."),
    changed,
    out,
    form,
  );
}

/** The eligibility secret is shown once, in the answer that set a new URL. */
function secretNotice(/** @type {string} */ url, /** @type {string} */ secret) {
  const copy = h(
    "button",
    {
      type: "button",
      class: "small",
      onclick: async () => {
        await navigator.clipboard.writeText(secret);
        copy.textContent = "Copied";
      },
    },
    "Copy",
  );
  return notice(
    "ok",
    h("p", {}, `Saved. The eligibility check now asks ${url}. Its signing secret is shown only now: store it where your endpoint verifies signatures.`),
    h("p", {}, h("code", { class: "secret" }, secret), " ", copy),
  );
}
