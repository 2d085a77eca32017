/** The stream URL that has the simulator play the agent of a call (SPEC "Simulator agent"). */
export const SIM_AGENT_STREAM = "sim://agent";

/** Simulated seconds between the answer and the agent's result: mid-call, well before the 30 s of talk end. */
const REPORT_AFTER_S = 10;
const CALLBACK_AFTER_S = 3_600;
/** The result API takes no callback sooner than this. */
const MIN_CALLBACK_S = 60;

/** The body the simulated agent POSTs to the call's result_url. */
interface SimAgentResult {
  disposition: string;
  summary?: string;
  data?: Record<string, string | number | boolean>;
  callback_in_seconds?: number;
  opt_out?: boolean;
}

type Row = Record<string, SqlStorageValue>;

/** The agent remembers whom it asked to be called back, so the callback's own call ends the conversation. */
export function createSimAgentSchema(sql: SqlStorage) {
  sql.exec("CREATE TABLE IF NOT EXISTS sim_agent_callbacks (contact_id TEXT PRIMARY KEY, asked_at INTEGER NOT NULL)");
}

const unescapeXml = (value: string) =>
  value.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[name] as string);

/**
 * The parameters an answer document hands a `sim://agent` stream, or null for any other document:
 * TwiML's `<Stream url>` with `<Parameter>`s, or Plivo's and Vobiz's stream URL with its query.
 */
export function simAgentParameters(document: string): Record<string, string> | null {
  const twiml = /<Stream url="([^"]*)"/.exec(document);
  if (twiml) {
    if (unescapeXml(twiml[1] as string) !== SIM_AGENT_STREAM) return null;
    return Object.fromEntries(
      [...document.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)].map((m) => [unescapeXml(m[1] as string), unescapeXml(m[2] as string)]),
    );
  }
  const family = /<Stream[^>]*>([^<]+)<\/Stream>/.exec(document);
  if (!family) return null;
  const url = new URL(unescapeXml(family[1] as string));
  if (`${url.protocol}//${url.host}${url.pathname}` !== SIM_AGENT_STREAM) return null;
  return Object.fromEntries(url.searchParams);
}

/** What the agent does on a first call, by the number's third- and fourth-last digits (docs/simulator.md). */
type SimAgentChoice = "interested" | "not_interested" | "callback" | "opt_out" | "none";

export function simAgentChoiceFor(to: string): SimAgentChoice {
  const pair = Number(to.slice(-4, -2));
  if (pair >= 10 && pair <= 19) return "interested";
  if (pair >= 20 && pair <= 29) return "not_interested";
  if (pair >= 30 && pair <= 39) return "callback";
  if (pair >= 40 && pair <= 49) return "opt_out";
  return "none";
}

/** The callback delay the agent asks for: one simulated hour in real seconds, never under the API's minimum. */
export const simAgentCallbackSeconds = (scale: number) => Math.max(MIN_CALLBACK_S, Math.round(CALLBACK_AFTER_S * scale));

function resultFor(choice: SimAgentChoice, calledBack: boolean, scale: number): SimAgentResult | null {
  if (calledBack) return { disposition: "interested", summary: "Called back as asked; wants a proposal.", data: { called_back: true } };
  switch (choice) {
    case "interested":
      return { disposition: "interested", summary: "Wants a demo next week.", data: { plan: "premium", seats: 12 } };
    case "not_interested":
      return { disposition: "not_interested", summary: "Happy with the current provider." };
    case "callback":
      return { disposition: "callback_requested", summary: "Busy now; call back in an hour.", callback_in_seconds: simAgentCallbackSeconds(scale) };
    case "opt_out":
      return { disposition: "do_not_call", summary: "Asked never to be called again.", opt_out: true };
    case "none":
      return null;
  }
}

/** One result the agent will POST, due `after` ms from the answer. */
interface SimAgentReport {
  url: string;
  body: SimAgentResult;
  after: number;
}

/**
 * What the simulated agent of a human-answered call will report, read from the answer document the
 * call was given; null when the call does not stream to `sim://agent` or the number's digits say no result.
 */
export function planSimAgentReport(sql: SqlStorage, call: { to_number: string }, document: string, scale: number): SimAgentReport | null {
  const parameters = simAgentParameters(document);
  const url = parameters?.result_url;
  if (!parameters || !url) return null;
  const contactId = parameters.contact_id ?? "";
  const calledBack = sql.exec<Row>("SELECT 1 FROM sim_agent_callbacks WHERE contact_id = ?", contactId).toArray().length > 0;
  const body = resultFor(simAgentChoiceFor(call.to_number), calledBack, scale);
  if (!body) return null;
  if (body.callback_in_seconds !== undefined) sql.exec("INSERT OR IGNORE INTO sim_agent_callbacks (contact_id, asked_at) VALUES (?, ?)", contactId, Date.now());
  return { url, body, after: REPORT_AFTER_S * 1000 * scale };
}

/** The agent's POST to the result URL: JSON, carrying no key, as the result_url's token authenticates it. */
export const simAgentRequest = (url: string, body: string) =>
  new Request(url, { method: "POST", headers: { "Content-Type": "application/json", "User-Agent": "edgedial-sim-agent/1.0" }, body });
