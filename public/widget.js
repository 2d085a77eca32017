// @ts-check
/**
 * <edgedial-campaign campaign="cmp_…" token="evt_…" token-url="/edgedial/token">
 *
 * A live view of one edgedial campaign for any page: name and status, a progress bar by contact
 * status, counts, calls in flight, dials per minute, counts by the agents' dispositions, a chart
 * of progress and the latest transitions. It reads the campaign's event stream from the origin this module was loaded from,
 * with a read-only events token, and asks `token-url` (the page's own backend) for a fresh token
 * before the one it holds expires. No other request leaves the page.
 */

import { streamCampaignEvents } from "./campaign-stream.js";

export const VERSION = "1.2.0";

/** Events are read from where this module was served: the edgedial deployment itself. */
const API_ORIGIN = new URL(import.meta.url).origin;
/** A token is renewed after this share of its lifetime, leaving time to retry a failed renewal. */
const RENEW_AT = 0.75;
const RECENT_MAX = 8;
const CHART_POINTS_MAX = 240;
const DIAL_RATE_WINDOW_MS = 60_000;

/** Bar and legend order: finished work first, what is still to do last. */
const STATUSES = /** @type {const} */ (["completed", "failed", "cancelled", "connected", "originated", "pending"]);

/**
 * @typedef {import("./campaign-stream.js").Stats} Stats
 * @typedef {import("./campaign-stream.js").Snapshot} Snapshot
 * @typedef {import("./campaign-stream.js").ContactTransition} Transition
 * @typedef {import("./campaign-stream.js").ResultEvent} CallResult
 * @typedef {{ token: string, expires_at?: string }} IssuedToken
 */

const STYLE = `
:host { display: block; min-width: 0; max-width: 100%; font: var(--edgedial-font, 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif); color: var(--edgedial-color, #1f2328); }
:host([hidden]) { display: none; }
.card { background: var(--edgedial-background, #fff); border: 1px solid var(--edgedial-border, #d1d9e0); border-radius: var(--edgedial-radius, 8px); padding: var(--edgedial-padding, 16px); display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; }
header { display: flex; align-items: center; gap: 8px; justify-content: space-between; min-width: 0; }
h2 { font-size: 1.1em; margin: 0; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.status { font-size: .8em; font-weight: 600; padding: 2px 8px; border-radius: 999px; background: var(--edgedial-pending, #eaeef2); white-space: nowrap; }
.status[data-status="running"] { background: var(--edgedial-connected, #0969da); color: #fff; }
.status[data-status="completed"] { background: var(--edgedial-completed, #1a7f37); color: #fff; }
.status[data-status="failed"], .status[data-status="error"] { background: var(--edgedial-failed, #cf222e); color: #fff; }
.status[data-status="paused"], .status[data-status="scheduled"] { background: var(--edgedial-paused, #bf8700); color: #fff; }
.muted, .reason, figcaption, time { color: var(--edgedial-muted, #59636e); }
.reason { margin: 0; font-size: .9em; overflow-wrap: anywhere; }
.bar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; background: var(--edgedial-pending, #eaeef2); }
.bar span { flex: 0 0 0; transition: flex-grow .3s; }
[data-s="completed"] { --dot: var(--edgedial-completed, #1a7f37); }
[data-s="failed"] { --dot: var(--edgedial-failed, #cf222e); }
[data-s="cancelled"] { --dot: var(--edgedial-cancelled, #8c959f); }
[data-s="connected"] { --dot: var(--edgedial-connected, #0969da); }
[data-s="originated"] { --dot: var(--edgedial-originated, #54aeff); }
[data-s="pending"] { --dot: var(--edgedial-pending, #eaeef2); }
.bar span { background: var(--dot); }
dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(72px, 1fr)); gap: 8px; margin: 0; }
dl div { display: grid; }
dt { font-size: .75em; color: var(--edgedial-muted, #59636e); display: flex; align-items: center; gap: 4px; }
dt[data-s]::before, li b::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 2px; background: var(--dot); box-shadow: inset 0 0 0 1px rgb(0 0 0 / .15); }
dd { margin: 0; font-size: 1.25em; font-weight: 600; font-variant-numeric: tabular-nums; }
figure { margin: 0; }
svg { display: block; width: 100%; height: 64px; }
.area { fill: var(--edgedial-chart, var(--edgedial-completed, #1a7f37)); fill-opacity: .18; stroke: var(--edgedial-chart, var(--edgedial-completed, #1a7f37)); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.flight { fill: none; stroke: var(--edgedial-connected, #0969da); stroke-width: 1; stroke-dasharray: 3 2; vector-effect: non-scaling-stroke; }
figcaption { font-size: .75em; display: flex; justify-content: space-between; }
ol { list-style: none; margin: 0; padding: 0; font-size: .85em; display: grid; gap: 2px; }
li { display: grid; grid-template-columns: auto 1fr auto; gap: 8px; font-variant-numeric: tabular-nums; }
li b { font-weight: 600; display: flex; align-items: center; gap: 4px; }
li:empty { display: none; }
.empty { font-size: .85em; margin: 0; }
.dispositions { display: grid; gap: 4px; }
.dispositions[hidden] { display: none; }
.dispositions h3 { font-size: .75em; font-weight: 600; margin: 0; color: var(--edgedial-muted, #59636e); }
.dispositions dl { grid-template-columns: minmax(0, max-content) auto 1fr; gap: 2px 8px; align-items: center; }
.dispositions dl div { display: contents; }
.dispositions dt { font-size: .85em; color: inherit; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.dispositions dd { font-size: .85em; text-align: right; }
.dispositions .share { height: 6px; border-radius: 3px; background: var(--edgedial-disposition, var(--edgedial-connected, #0969da)); min-width: 2px; }
.error { margin: 0; padding: 8px; border-radius: 6px; background: var(--edgedial-error-background, #ffebe9); color: var(--edgedial-failed, #cf222e); }
:host([state="error"]) section[data-empty] > :is(.bar, dl, figure, .empty) { display: none; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

const SVG_NS = "http://www.w3.org/2000/svg";

/** Builds an element without innerHTML, so pages that enforce Trusted Types can host the widget. */
function h(/** @type {string} */ tag, /** @type {Record<string, string>} */ attributes = {}, /** @type {(Node | string)[]} */ ...children) {
  const element = tag === "svg" || tag === "path" ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Counts shown under the bar: [label, how to read it from a snapshot, status colour key]. */
const COUNTS = /** @type {[string, (s: Snapshot, rate: number | null) => number | null, string?][]} */ ([
  ["Total", (s) => s.stats.total],
  ["Pending", (s) => s.stats.pending, "pending"],
  ["In flight", (s) => s.in_flight, "connected"],
  ["Completed", (s) => s.stats.completed, "completed"],
  ["Failed", (s) => s.stats.failed, "failed"],
  ["Cancelled", (s) => s.stats.cancelled, "cancelled"],
  ["Dials / min", (_s, rate) => rate],
]);

let sheet = /** @type {CSSStyleSheet | null} */ (null);
/** One constructed sheet for every instance; it is not inline CSS, so a strict page CSP allows it. */
function styleSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
  }
  return sheet;
}

/** The expiry a token carries in its signed claims, so a token given as an attribute can be renewed in time. */
function expiryOf(/** @type {string} */ token) {
  try {
    const body = token.slice(4).split(".")[0] ?? "";
    const claims = JSON.parse(atob(body.replace(/-/g, "+").replace(/_/g, "/")));
    return typeof claims.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}

/** The sentence of a refused events request: the API's own, from JSON or plain text. */
async function refusal(/** @type {Response} */ response) {
  const text = (await response.text().catch(() => "")).trim();
  let message = text;
  try {
    message = JSON.parse(text).error?.message ?? text;
  } catch {}
  return new Error(message || `The events stream was refused (${response.status}).`);
}

const number = new Intl.NumberFormat();
const clock = (/** @type {string} */ iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const masked = (/** @type {string} */ phone) => `•••${phone.slice(-4)}`;

export class EdgedialCampaign extends HTMLElement {
  static observedAttributes = ["campaign", "token", "token-url"];

  /** @type {null | (() => Promise<IssuedToken>)} */
  #tokenProvider = null;

  #root = this.attachShadow({ mode: "open" });
  #built = false;
  /** Aborts the stream being followed, so late results of a stopped one are dropped. */
  /** @type {AbortController | null} */ #abort = null;
  /** @type {string | null} */ #token = null;
  /** @type {number | null} */ #tokenExpiresAt = null;
  /** @type {Promise<string | null> | null} */ #renewal = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */ #renewTimer;
  /** Renewals that failed, and 401s answered, since the stream last opened. */
  #tokenFailures = 0;
  #unauthorized = 0;
  /** @type {string | null} */ #lastEventId = null;
  /** @type {Snapshot | null} */ #snapshot = null;
  /** @type {{ id: string, data: Transition }[]} */ #recent = [];
  /** @type {{ t: number, done: number, inFlight: number, attempts: number }[]} */ #points = [];
  /** @type {string | null} */ #announcedStatus = null;
  #renderQueued = false;

  /** The id of the last contact transition received; a reconnect resumes after it. */
  get lastEventId() {
    return this.#lastEventId;
  }

  /** The latest snapshot, or null before the first one. */
  get snapshot() {
    return this.#snapshot;
  }

  /**
   * Optional: a function that returns a fresh `{token, expires_at}`, used instead of `token-url`
   * when the page mints tokens itself (the edgedial dashboard does, with its API key).
   */
  get tokenProvider() {
    return this.#tokenProvider;
  }

  set tokenProvider(provider) {
    this.#tokenProvider = provider;
    if (this.isConnected && this.getAttribute("state") === "error") this.#start();
  }

  get #campaign() {
    return this.getAttribute("campaign") ?? "";
  }

  connectedCallback() {
    this.#build();
    this.#start();
  }

  disconnectedCallback() {
    this.#stop();
  }

  /** @param {string} name @param {string | null} before @param {string | null} after */
  attributeChangedCallback(name, before, after) {
    // During an upgrade this runs before connectedCallback, which starts with every attribute in place.
    if (!this.#built || !this.isConnected || before === after) return;
    if (name === "campaign") {
      this.#stop();
      this.#resetView();
      this.#start();
    } else if (name === "token" && after) {
      this.#adoptToken(after, null);
      if (this.getAttribute("state") === "error") this.#start();
    } else if (this.getAttribute("state") === "error") {
      this.#start();
    }
  }

  #build() {
    if (this.#built) return;
    this.#built = true;
    this.#root.adoptedStyleSheets = [styleSheet()];
    const segments = STATUSES.map((status) => h("span", { "data-s": status }));
    const counts = COUNTS.map(([label, , status]) => h("div", {}, h("dt", status ? { "data-s": status } : {}, label), h("dd", {}, "–")));
    this.#root.append(
      h(
        "section",
        { class: "card", part: "card" },
        h("header", {}, h("h2", { part: "title" }), h("span", { class: "status", part: "status", "data-status": "connecting" }, "connecting")),
        h("p", { class: "reason", part: "reason", hidden: "" }),
        h("div", { class: "bar", part: "bar", role: "img" }, ...segments),
        h("dl", { part: "counts" }, ...counts),
        h(
          "figure",
          { part: "chart" },
          h("svg", { viewBox: "0 0 300 64", preserveAspectRatio: "none", "aria-hidden": "true" }, h("path", { class: "area" }), h("path", { class: "flight" })),
          h("figcaption", {}, h("span", { class: "done" }, "Done over time"), h("span", {}, "- - in flight")),
        ),
        h(
          "section",
          { class: "dispositions", part: "dispositions", "aria-labelledby": "dispositions-title", hidden: "" },
          h("h3", { id: "dispositions-title" }, "Results by disposition"),
          h("dl", {}),
        ),
        h("ol", { part: "transitions", "aria-label": "Latest transitions" }),
        h("p", { class: "empty muted", part: "empty" }, "No transitions yet."),
        h("p", { class: "error", part: "error", role: "alert", hidden: "" }),
        h("div", { class: "sr", role: "status", "aria-live": "polite" }),
      ),
    );
    this.#resetView();
  }

  /** @param {string} selector @returns {HTMLElement} */
  #el(selector) {
    return /** @type {HTMLElement} */ (this.#root.querySelector(selector));
  }

  #resetView() {
    this.#lastEventId = null;
    this.#snapshot = null;
    this.#recent = [];
    this.#points = [];
    this.#announcedStatus = null;
    this.#el("h2").textContent = this.#campaign || "edgedial campaign";
    this.#render();
  }

  #start() {
    this.#stop();
    if (!this.#campaign) return this.#fail("Set the campaign attribute to the id of a campaign (cmp_…).");
    const attribute = this.getAttribute("token");
    if (attribute && attribute !== this.#token) this.#adoptToken(attribute, null);
    if (!this.#token && !this.#canRenew()) return this.#fail("No events token: set the token or token-url attribute.");
    void this.#follow();
  }

  #stop() {
    this.#abort?.abort();
    this.#abort = null;
    clearTimeout(this.#renewTimer);
  }

  #canRenew() {
    return Boolean(this.#tokenProvider || this.getAttribute("token-url"));
  }

  /** @param {string} token @param {string | null | undefined} expiresAt */
  #adoptToken(token, expiresAt) {
    this.#token = token;
    this.#tokenExpiresAt = (expiresAt && Date.parse(expiresAt)) || expiryOf(token);
    clearTimeout(this.#renewTimer);
    if (this.#tokenExpiresAt === null || !this.#canRenew() || this.getAttribute("state") === "ended") return;
    const lifetime = this.#tokenExpiresAt - Date.now();
    this.#renewTimer = setTimeout(() => void this.#renew().catch(() => undefined), Math.max(1_000, lifetime * RENEW_AT));
  }

  #tokenFreshFor(/** @type {number} */ ms) {
    return this.#token !== null && (this.#tokenExpiresAt === null || this.#tokenExpiresAt - Date.now() > ms);
  }

  /** Fetches a new token from tokenProvider or token-url; concurrent callers share one request. */
  #renew() {
    this.#renewal ??= this.#fetchToken()
      .then((issued) => {
        this.#adoptToken(issued.token, issued.expires_at);
        return issued.token;
      })
      .catch((error) => {
        // A failed renewal is retried while the current token still has time left.
        const left = (this.#tokenExpiresAt ?? 0) - Date.now();
        clearTimeout(this.#renewTimer);
        if (left > 2_000) this.#renewTimer = setTimeout(() => void this.#renew().catch(() => undefined), Math.min(left / 3, 10_000));
        throw error;
      })
      .finally(() => {
        this.#renewal = null;
      });
    return this.#renewal;
  }

  /** @returns {Promise<IssuedToken>} */
  async #fetchToken() {
    if (this.#tokenProvider) return this.#checkIssued(await this.#tokenProvider());
    const url = this.getAttribute("token-url") ?? "";
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ campaign_id: this.#campaign }),
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`token-url answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    return this.#checkIssued(await response.json());
  }

  /** @param {unknown} issued @returns {IssuedToken} */
  #checkIssued(issued) {
    const candidate = /** @type {Partial<IssuedToken> | null} */ (issued);
    if (!candidate || typeof candidate.token !== "string") throw new Error("token-url must answer JSON {token, expires_at}.");
    return { token: candidate.token, expires_at: candidate.expires_at };
  }

  /** Follows the campaign's events through the shared stream protocol until end, a refusal or #stop. */
  async #follow() {
    const abort = new AbortController();
    this.#abort = abort;
    this.#tokenFailures = 0;
    this.#unauthorized = 0;
    const events = streamCampaignEvents({
      open: (lastEventId, signal) => this.#open(lastEventId, signal),
      refused: refusal,
      lastEventId: this.#lastEventId === null ? null : Number(this.#lastEventId),
      signal: abort.signal,
      maxReconnects: Number.POSITIVE_INFINITY,
      onOpen: () => {
        this.#tokenFailures = 0;
        this.#unauthorized = 0;
        this.#setState("live");
      },
      onRetry: () => this.#setState("reconnecting"),
    });
    try {
      for await (const event of events) {
        if (event.type === "snapshot") this.#onSnapshot(event.data);
        else if (event.type === "contact") this.#onContact(event.id, event.data);
        else if (event.type === "result") this.#onResult(event.id, event.data);
        else this.#onEnd(event.data);
      }
    } catch (error) {
      if (!abort.signal.aborted) this.#fail(error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * One events request with a fresh token. EventSource could not set Last-Event-ID on a new
   * request either, so the position travels as ?last_event_id=, which the Worker reads the same way.
   * @param {number | null} lastEventId @param {AbortSignal | undefined} signal @returns {Promise<Response>}
   */
  async #open(lastEventId, signal) {
    this.#setState(this.#lastEventId === null && !this.#snapshot ? "connecting" : "reconnecting");
    for (;;) {
      let token = this.#token;
      if (!this.#tokenFreshFor(2_000) && this.#canRenew()) {
        try {
          token = await this.#renew();
        } catch (error) {
          // The protocol retries with backoff; after five failures in a row the widget says why and stops.
          if (++this.#tokenFailures >= 5) this.#fail(`Could not get an events token: ${error instanceof Error ? error.message : error}`);
          throw error;
        }
      }
      const url = new URL(`/api/v1/campaigns/${encodeURIComponent(this.#campaign)}/events`, API_ORIGIN);
      url.searchParams.set("token", token ?? "");
      if (lastEventId !== null) url.searchParams.set("last_event_id", String(lastEventId));
      const response = await fetch(url, { headers: { Accept: "text/event-stream" }, cache: "no-store", signal });
      // A token revoked or expired early: renew it and ask again, a few times, before giving up.
      if (response.status === 401 && this.#canRenew() && this.#unauthorized++ < 3) {
        await response.body?.cancel();
        this.#token = null;
        continue;
      }
      return response;
    }
  }

  /** @param {string} message */
  #fail(message) {
    this.#stop();
    this.#setState("error");
    const box = this.#el(".error");
    box.textContent = message;
    box.hidden = false;
    this.#emit("edgedial-error", { message });
  }

  /** @param {"connecting" | "live" | "reconnecting" | "ended" | "error"} state */
  #setState(state) {
    this.setAttribute("state", state);
    if (state !== "error") this.#el(".error").hidden = true;
    if (!this.#snapshot) this.#setBadge(state);
  }

  #setBadge(/** @type {string} */ text) {
    const badge = this.#el(".status");
    badge.textContent = text;
    badge.dataset.status = text;
  }

  /** @param {Snapshot} snapshot */
  #onSnapshot(snapshot) {
    this.#snapshot = snapshot;
    const at = Date.parse(snapshot.at);
    const s = snapshot.stats;
    const done = s.total ? (s.completed + s.failed + s.cancelled) / s.total : 0;
    const last = this.#points.at(-1);
    if (last && at <= last.t) this.#points.pop();
    this.#points.push({ t: at, done, inFlight: snapshot.in_flight, attempts: snapshot.attempts });
    // Past the cap, every other old point goes: the chart keeps its whole span at half the detail.
    if (this.#points.length > CHART_POINTS_MAX) this.#points = this.#points.filter((_, i) => i % 2 === 0 || i === this.#points.length - 1);
    this.#announce(snapshot);
    this.#queueRender();
    this.#emit("edgedial-snapshot", snapshot);
  }

  /** @param {number} id @param {Transition} data */
  #onContact(id, data) {
    this.#lastEventId = String(id);
    this.#recent.unshift({ id: String(id), data });
    this.#recent.length = Math.min(this.#recent.length, RECENT_MAX);
    this.#queueRender();
    this.#emit("edgedial-contact", { id, ...data });
  }

  /** The counts come with the next snapshot (a later result for a call replaces its earlier one); this keeps the stream's place. */
  #onResult(/** @type {number} */ id, /** @type {CallResult} */ data) {
    this.#lastEventId = String(id);
    this.#emit("edgedial-result", { id, ...data });
  }

  /** @param {Snapshot} snapshot */
  #onEnd(snapshot) {
    this.#stop();
    this.#onSnapshot(snapshot);
    this.#setState("ended");
    this.#emit("edgedial-end", this.#snapshot);
  }

  /** Status changes, and only those, are read out: a snapshot every 2 s would drown a screen reader. */
  #announce(/** @type {Snapshot} */ snapshot) {
    if (snapshot.status === this.#announcedStatus) return;
    const first = this.#announcedStatus === null;
    this.#announcedStatus = snapshot.status;
    const name = snapshot.name || "The campaign";
    const s = snapshot.stats;
    const text =
      snapshot.status === "completed" || snapshot.status === "failed"
        ? `${name} ${snapshot.status}: ${s.completed} completed, ${s.failed} failed, ${s.cancelled} cancelled of ${s.total}.`
        : `${name} is ${snapshot.status}.`;
    // The first status is on screen already; announcing it on load would only repeat the page.
    if (!first || snapshot.status === "completed" || snapshot.status === "failed") this.#el(".sr").textContent = text;
  }

  #queueRender() {
    if (this.#renderQueued) return;
    this.#renderQueued = true;
    requestAnimationFrame(() => {
      this.#renderQueued = false;
      this.#render();
    });
  }

  #render() {
    const snapshot = this.#snapshot;
    this.#el("section").toggleAttribute("data-empty", !snapshot);
    if (snapshot) {
      this.#el("h2").textContent = snapshot.name || snapshot.campaign_id;
      this.#setBadge(snapshot.status);
      const reason = this.#el(".reason");
      reason.textContent = snapshot.status_reason ?? "";
      reason.hidden = !snapshot.status_reason;
    }
    const stats = snapshot?.stats;
    const bar = this.#el(".bar");
    for (const segment of /** @type {HTMLElement[]} */ ([...bar.children])) {
      segment.style.flexGrow = String(stats ? stats[/** @type {keyof Stats} */ (segment.dataset.s)] : 0);
    }
    bar.setAttribute(
      "aria-label",
      stats ? `${STATUSES.map((s) => `${number.format(stats[s])} ${s}`).join(", ")} of ${number.format(stats.total)} contacts` : "No progress yet",
    );
    const done = stats?.total ? Math.floor(((stats.completed + stats.failed + stats.cancelled) / stats.total) * 100) : 0;
    this.#el(".done").textContent = `Done over time: ${done}%`;
    const rate = this.#dialRate();
    const values = this.#root.querySelectorAll("dd");
    COUNTS.forEach(([, read], i) => {
      const value = snapshot ? read(snapshot, rate) : null;
      /** @type {HTMLElement} */ (values[i]).textContent = value === null ? "–" : number.format(Math.round(value));
    });
    this.#renderChart();
    this.#renderDispositions();
    this.#renderRecent();
  }

  /** Contacts by the disposition of their latest result, most frequent first; hidden until a result arrives. */
  #renderDispositions() {
    const counts = Object.entries(this.#snapshot?.stats.dispositions ?? {}).filter(([, count]) => count > 0);
    counts.sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
    const peak = Math.max(1, ...counts.map(([, count]) => count));
    const box = this.#el(".dispositions");
    box.hidden = counts.length === 0;
    /** @type {HTMLElement} */ (box.querySelector("dl")).replaceChildren(
      ...counts.map(([name, count]) =>
        h("div", { "data-disposition": name }, h("dt", {}, name.replace(/_/g, " ")), h("dd", {}, number.format(count)), this.#shareBar(count / peak)),
      ),
    );
  }

  /** Set through CSSOM: a strict page CSP (style-src without 'unsafe-inline') refuses style attributes. */
  #shareBar(/** @type {number} */ share) {
    const bar = h("span", { class: "share", "aria-hidden": "true" });
    bar.style.width = `${(share * 100).toFixed(1)}%`;
    return bar;
  }

  /** Dials per minute from the attempts counter over the last minute of snapshots. */
  #dialRate() {
    const last = this.#points.at(-1);
    if (!last || this.#snapshot?.status !== "running") return this.#snapshot ? 0 : null;
    const first = this.#points.find((p) => last.t - p.t <= DIAL_RATE_WINDOW_MS);
    if (!first || last.t - first.t < 4_000) return null;
    return ((last.attempts - first.attempts) * 60_000) / (last.t - first.t);
  }

  #renderChart() {
    const points = this.#points;
    const [area, flight] = /** @type {SVGPathElement[]} */ ([...this.#root.querySelectorAll("path")]);
    if (!area || !flight) return;
    if (points.length === 0) {
      area.setAttribute("d", "");
      flight.setAttribute("d", "");
      return;
    }
    const t0 = points[0]?.t ?? 0;
    const span = Math.max(1, (points.at(-1)?.t ?? t0) - t0);
    const peak = Math.max(1, ...points.map((p) => p.inFlight));
    const x = (/** @type {number} */ t) => (points.length === 1 ? 300 : ((t - t0) / span) * 300).toFixed(1);
    const y = (/** @type {number} */ share) => (62 - share * 60).toFixed(1);
    const line = points.map((p) => `${x(p.t)},${y(p.done)}`);
    if (points.length === 1) line.unshift(`0,${y(points[0]?.done ?? 0)}`);
    area.setAttribute("d", `M0,64L${line.join("L")}L300,64Z`);
    const inFlight = points.map((p) => `${x(p.t)},${y(p.inFlight / peak)}`);
    flight.setAttribute("d", points.length > 1 ? `M${inFlight.join("L")}` : "");
  }

  #renderRecent() {
    const list = this.#el("ol");
    const full = this.hasAttribute("full-numbers");
    list.replaceChildren(
      ...this.#recent.map(({ data }) => {
        const item = document.createElement("li");
        item.dataset.s = data.status;
        const time = document.createElement("time");
        time.dateTime = data.at;
        time.textContent = clock(data.at);
        const who = document.createElement("span");
        who.textContent = full ? data.phone_number : masked(data.phone_number);
        const what = document.createElement("b");
        what.textContent = data.outcome && data.outcome !== data.status ? `${data.status} · ${data.outcome.replace(/_/g, " ")}` : data.status;
        item.append(time, who, what);
        return item;
      }),
    );
    this.#el(".empty").hidden = this.#recent.length > 0;
  }

  /** @param {string} type @param {unknown} detail */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

if (!customElements.get("edgedial-campaign")) customElements.define("edgedial-campaign", EdgedialCampaign);
