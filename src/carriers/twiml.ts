import type { VoicemailMessage } from "./types";

export const escapeXml = (value: string) =>
  value.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string);

/** Hands the answered call to the agent's media stream, with the contact's fields as parameters. */
export function answerTwiml(streamUrl: string | null, parameters: Record<string, string>): string {
  if (!streamUrl) return '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, no agent is available.</Say><Hangup/></Response>';
  const params = Object.entries(parameters)
    .map(([name, value]) => `<Parameter name="${escapeXml(name)}" value="${escapeXml(value)}"/>`)
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${escapeXml(streamUrl)}">${params}</Stream></Connect></Response>`;
}

/** What an answering machine hears after its beep, then the call ends. */
export function voicemailTwiml(message: VoicemailMessage): string {
  const words = message === null ? "" : message.kind === "speak" ? `<Say>${escapeXml(message.text)}</Say>` : `<Play>${escapeXml(message.url)}</Play>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${words}<Hangup/></Response>`;
}

export const XML_CONTENT_TYPE = "text/xml; charset=utf-8";

/** A reply with no verbs, the same in TwiML, Plivo XML and VobizXML: acknowledges a request that must not start anything. */
export const EMPTY_RESPONSE_XML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
