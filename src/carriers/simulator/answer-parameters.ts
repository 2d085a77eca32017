const unescapeXml = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

/** What an answer document hands the agent: TwiML's <Parameter>s, or the query of a Plivo-family <Stream> URL. */
export function answerParameters(doc: string): Record<string, string> {
  const stream = /<Stream[^>]*>([^<]+)<\/Stream>/.exec(doc);
  if (stream?.[1] && URL.canParse(unescapeXml(stream[1]))) return Object.fromEntries(new URL(unescapeXml(stream[1])).searchParams);
  return Object.fromEntries(
    [...doc.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\s*\/>/g)].map((m) => [unescapeXml(m[1] ?? ""), unescapeXml(m[2] ?? "")]),
  );
}
