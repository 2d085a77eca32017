// @ts-check
/** The preflight report in words: what create would write, what it would refuse, and the forecast. */
import { capitalized, formatDuration, formatNumber, formatTime, h, notice, table } from "./ui.js";

/**
 * @typedef {"concurrency" | "calls_per_minute" | "daily_calls_max" | "daily_minutes_max" | "calling_window" | "retries"} Limit
 * @typedef {{
 *   dials: number, dials_max: number, talk_minutes: number, concurrency: number, dials_per_minute: number,
 *   limited_by: Limit, starts_at: string, finishes_at: string | null, duration_seconds: number | null,
 *   assumptions: {
 *     answer_rate: number, average_call_seconds: number, unanswered_call_seconds: number, retry_share: number,
 *     retries: string, start: "scheduled_at" | "now", account: string, calling_window_zones: readonly string[] | null,
 *   },
 * }} Estimate
 */

/** What sets the pace of the finish, as the operator would say it. */
const PACE_SET_BY = {
  concurrency: "the calls allowed at once",
  calls_per_minute: "the account's calls-per-minute cap",
  daily_calls_max: "the account's daily call cap",
  daily_minutes_max: "the account's daily talk-minutes cap",
  calling_window: "the calling window",
  retries: "the retry delay of the last contacts",
};

/** Why a campaign would never finish, when the forecast finds no end. */
const NEVER_BECAUSE = {
  concurrency: "Never finishes: no call may be placed at once.",
  calls_per_minute: "Never finishes: the account's calls-per-minute cap is 0.",
  daily_calls_max: "Never finishes: the account's daily call cap is 0.",
  daily_minutes_max: "Never finishes: the account's daily talk-minutes cap is 0.",
  calling_window: "Never finishes inside the calling window: it never opens.",
  retries: "Never finishes: the retries do not fit in any calling window.",
};

const percent = (/** @type {number} */ share) => `${formatNumber(Math.round(share * 1000) / 10)}%`;

/** @param {any} result @returns {Node[]} */
export function renderPreflight(result) {
  const headline = result.ok
    ? notice("ok", `Ready: create would write ${formatNumber(result.contacts)} contacts.`)
    : notice("error", `Create would fail: ${formatNumber(result.errors.length)} problem${result.errors.length === 1 ? "" : "s"} to fix first.`);
  const figures = h(
    "dl",
    { class: "figures" },
    ...[
      ["Contacts", result.contacts],
      ["Duplicates skipped", result.duplicates_skipped],
      ["On the do-not-call list", result.dnc_suppressed],
    ].flatMap(([label, value]) => [h("dt", {}, String(label)), h("dd", {}, formatNumber(Number(value ?? 0)))]),
  );
  const countries = Object.entries(result.countries ?? {})
    .sort((a, b) => Number(b[1]) - Number(a[1]))
    .map(([code, n]) => `${code} ${formatNumber(Number(n))}`)
    .join(" · ");
  return [
    h("h2", {}, "Preflight"),
    headline,
    result.errors.length > 0 &&
      table(
        ["Row", "Value", "Problem"],
        result.errors.map((/** @type {any} */ e) => [
          e.row === null ? "form" : String(e.row),
          e.value === null || e.value === undefined ? "" : String(e.value),
          e.reason,
        ]),
      ),
    figures,
    countries && h("p", {}, h("strong", {}, "Countries: "), countries),
    result.estimate && estimateSection(result.estimate),
  ].filter((part) => part instanceof Node);
}

/** The forecast as labelled values, then the assumptions it rests on as sentences. */
function estimateSection(/** @type {Estimate} */ estimate) {
  const a = estimate.assumptions;
  const finishes = estimate.finishes_at
    ? formatTime(estimate.finishes_at)
    : h("span", { class: "never" }, NEVER_BECAUSE[estimate.limited_by] ?? "Never finishes.");
  /** @type {[string, Node | string][]} */
  const rows = [
    ["Starts", `${formatTime(estimate.starts_at)} (${a.start === "now" ? "now, if created and started at once" : "the scheduled time"})`],
    ["Finishes", finishes],
    ["Takes", estimate.duration_seconds === null ? "—" : formatDuration(estimate.duration_seconds)],
    [
      "Dials",
      estimate.dials_max > estimate.dials
        ? `${formatNumber(estimate.dials)} expected, at most ${formatNumber(estimate.dials_max)} if every contact uses every retry`
        : formatNumber(estimate.dials),
    ],
    ["Talk time", formatDuration(estimate.talk_minutes * 60)],
    ["Calls at once", formatNumber(estimate.concurrency)],
    ["Pace", `${formatNumber(estimate.dials_per_minute)} dials a minute`],
    [estimate.finishes_at ? "Pace set by" : "Held back by", PACE_SET_BY[estimate.limited_by] ?? estimate.limited_by],
  ];
  const zones = a.calling_window_zones;
  const assumptions = [
    `${percent(a.answer_rate)} of dials are answered (by a person or a machine), holding a line ${formatDuration(a.average_call_seconds)} on average.`,
    `A dial nobody answers holds a line ${formatDuration(a.unanswered_call_seconds)}.`,
    // dials_max above dials means retries are set (the dashboard leaves retry_share below 1).
    estimate.dials_max > estimate.dials
      ? `${percent(a.retry_share)} of contacts need retries: ${a.retries}.`
      : "Each contact is dialled once: no retries are set.",
    `${capitalized(a.account)}.`,
    zones && zones.length > 0 ? `The calling window is read in ${zones.join(", ")}, the time zone of most contacts.` : "",
  ].filter(Boolean);
  return h(
    "div",
    { class: "stack forecast" },
    h("h3", {}, "Estimate"),
    h("dl", { class: "estimate" }, ...rows.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)])),
    h("p", { class: "muted" }, "Assuming:"),
    h("ul", { class: "assumptions" }, ...assumptions.map((sentence) => h("li", {}, sentence))),
  );
}
