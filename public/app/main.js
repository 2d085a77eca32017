// @ts-check
import { accountOf, adoptKeyFromUrl, currentSession, request, saveSession, signOut, whenUnauthorized } from "./api.js";
import { campaignPage } from "./campaign.js";
import { campaignList } from "./campaigns.js";
import { contactPolicyPage } from "./contact-policy.js";
import { dncPage } from "./dnc.js";
import { newCampaignPage } from "./new-campaign.js";
import { errorText, field, h, notice } from "./ui.js";
import { webhookPage, webhooksPage } from "./webhooks.js";

/**
 * @typedef {{ main: HTMLElement, params: string[], query: URLSearchParams, navigate: (hash: string) => void, flash: (node: Node) => void }} ViewContext
 * @typedef {(context: ViewContext) => (void | (() => void)) | Promise<void | (() => void)>} View
 */

adoptKeyFromUrl();

/** @type {[RegExp, View][]} */
const ROUTES = [
  [/^\/(?:campaigns)?$/, campaignList],
  [/^\/campaigns\/new$/, newCampaignPage],
  [/^\/campaigns\/([^/]+)$/, campaignPage],
  [/^\/dnc$/, dncPage],
  [/^\/contact-policy$/, contactPolicyPage],
  [/^\/webhooks$/, webhooksPage],
  [/^\/webhooks\/([^/]+)$/, webhookPage],
];

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("nav"));
const who = /** @type {HTMLElement} */ (document.getElementById("who"));
const signOutButton = /** @type {HTMLButtonElement} */ (document.getElementById("sign-out"));

/** @type {(() => void) | void} */
let cleanup;
/** A message carried to the next view (e.g. "created"), shown once. */
let pendingFlash = /** @type {Node | null} */ (null);
let renderCount = 0;

function navigate(/** @type {string} */ hash) {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

async function render() {
  const run = ++renderCount;
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;
  const session = currentSession();
  nav.hidden = !session;
  signOutButton.hidden = !session;
  who.textContent = session ? `Account ${accountOf(session)}` : "";
  if (!session) return signInPage();
  const [path = "/", search = ""] = location.hash.replace(/^#/, "").split("?");
  for (const link of nav.querySelectorAll("a"))
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#${path}` || (path === "/" && link.getAttribute("href") === "#/"));
  const route = ROUTES.find(([pattern]) => pattern.test(path || "/"));
  // Dialogs live on <body>; a new page closes whatever the last one left open.
  for (const dialog of document.querySelectorAll("dialog")) dialog.remove();
  main.replaceChildren();
  if (pendingFlash) main.append(pendingFlash);
  pendingFlash = null;
  if (!route) {
    main.append(notice("error", `There is no page at ${path}.`), h("p", {}, h("a", { href: "#/" }, "Back to campaigns")));
    return;
  }
  const [pattern, view] = route;
  const params = (pattern.exec(path || "/") ?? []).slice(1).map((p) => decodeURIComponent(p));
  const flash = (/** @type {Node} */ node) => {
    pendingFlash = node;
  };
  try {
    const result = await view({ main, params, query: new URLSearchParams(search), navigate, flash });
    if (run === renderCount) cleanup = result;
    else if (typeof result === "function") result();
  } catch (error) {
    if (run === renderCount) main.append(notice("error", errorText(error)));
  }
  main.focus({ preventScroll: true });
}

function signInPage(/** @type {string} */ message = "") {
  const key = h("input", { type: "password", name: "key", autocomplete: "off", placeholder: "sk_live_…", required: true });
  const token = h("textarea", { name: "token", rows: 3, placeholder: "eyJ…" });
  const account = h("input", { name: "account", placeholder: "acme", autocomplete: "off" });
  const out = h("div");
  const keyForm = h(
    "form",
    { class: "card stack", onsubmit: (/** @type {SubmitEvent} */ e) => submit(e, { kind: "key", key: key.value.trim() }) },
    h("h2", {}, "API key"),
    field("Key", key, "Kept in this tab only (sessionStorage) until you sign out or close the tab."),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  const sessionForm = h(
    "form",
    {
      class: "card stack",
      onsubmit: (/** @type {SubmitEvent} */ e) => submit(e, { kind: "session", token: token.value.trim(), account: account.value.trim() }),
    },
    h("h2", {}, "Session token"),
    field("JWT", token),
    field("Account id", account),
    h("button", { type: "submit" }, "Sign in with a session"),
  );
  main.replaceChildren(h("h1", {}, "Sign in"), message ? notice("error", message) : "", out, h("div", { class: "columns" }, keyForm, sessionForm));
  key.focus();

  /** @param {SubmitEvent} event @param {import("./api.js").Session} candidate */
  async function submit(event, candidate) {
    event.preventDefault();
    out.replaceChildren();
    try {
      // Checked before it is kept: a wrong key never reaches sessionStorage.
      await request("GET", "/call-limits", { session: candidate });
      saveSession(candidate);
      await render();
    } catch (error) {
      out.replaceChildren(notice("error", errorText(error)));
    }
  }
}

signOutButton.addEventListener("click", () => {
  signOut();
  location.hash = "#/";
  void render();
});

whenUnauthorized(() => {
  signOut();
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;
  nav.hidden = true;
  signOutButton.hidden = true;
  who.textContent = "";
  signInPage("The API refused the stored credential (revoked or expired); sign in again.");
});

window.addEventListener("hashchange", () => void render());
void render();
