/**
 * Where a webhook may be sent. Pure: the same check runs when an endpoint is saved and again
 * before every delivery. Workers cannot resolve names, so the check reads the host exactly as the
 * URL parser normalised it (an IP literal in any spelling becomes a dotted quad or a compressed
 * IPv6 form) and deliveries never follow redirects.
 */

export interface UrlPolicy {
  /** Loopback receivers are accepted, over http or https: only where the simulator is enabled. */
  allowLoopback: boolean;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "shared (CGNAT)"
  | "unique-local"
  | "IPv4-mapped"
  | "unspecified"
  | "multicast"
  | "reserved";

export const MAX_URL_LENGTH = 2048;

const ipv4Ranges: [number, number, number, number, AddressClass][] = [
  // [a, b, c, prefix bits, class]: a.b.c.0/prefix
  [0, 0, 0, 8, "unspecified"],
  [10, 0, 0, 8, "private"],
  [100, 64, 0, 10, "shared (CGNAT)"],
  [127, 0, 0, 8, "loopback"],
  [169, 254, 0, 16, "link-local"],
  [172, 16, 0, 12, "private"],
  [192, 0, 0, 24, "reserved"],
  [192, 0, 2, 24, "reserved"],
  [192, 88, 99, 24, "reserved"],
  [192, 168, 0, 16, "private"],
  [198, 18, 0, 15, "reserved"],
  [198, 51, 100, 24, "reserved"],
  [203, 0, 113, 24, "reserved"],
  [224, 0, 0, 4, "multicast"],
  [240, 0, 0, 4, "reserved"],
];

function classifyIpv4(address: number): AddressClass {
  for (const [a, b, c, bits, kind] of ipv4Ranges) {
    const base = ((a << 24) | (b << 16) | (c << 8)) >>> 0;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((address & mask) >>> 0 === base) return kind;
  }
  return "public";
}

/** Eight 16-bit groups. Only global unicast (2000::/3) outside the tunnelling and documentation blocks is public. */
function classifyIpv6(groups: number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const headZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (headZero && g5 === 0 && g6 === 0 && g7 === 0) return "unspecified";
  if (headZero && g5 === 0 && g6 === 0 && g7 === 1) return "loopback";
  if (headZero && g5 === 0xffff) return "IPv4-mapped";
  if (headZero && g5 === 0) return "reserved"; // IPv4-compatible, deprecated
  if ((g0 & 0xfe00) === 0xfc00) return "unique-local";
  if ((g0 & 0xffc0) === 0xfe80) return "link-local";
  if ((g0 & 0xffc0) === 0xfec0) return "private"; // site-local, deprecated
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  if ((g0 & 0xe000) !== 0x2000) return "reserved"; // 64:ff9b::/96 (NAT64), 100::/64 and every unassigned block
  if (g0 === 0x2001 && (g1 === 0 || g1 === 0x0db8)) return "reserved"; // Teredo, documentation
  if (g0 === 0x2002) return "reserved"; // 6to4 carries an IPv4 address inside
  return "public";
}

/** The WHATWG IPv4 number rules (decimal, 0x hex, 0-prefixed octal, 1–4 parts); null when not valid. */
export function parseIpv4(host: string): number | null {
  const parts = host.split(".");
  if (parts.length > 1 && parts.at(-1) === "") parts.pop();
  if (parts.length === 0 || parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return null;
    numbers.push(value);
  }
  const last = numbers.pop() as number;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return null;
  return numbers.reduce((sum, n, i) => sum + n * 256 ** (3 - i), 0) + last;
}

/** True when the URL parser would read this host as an IPv4 address (its last label is a number). */
function endsInNumber(host: string): boolean {
  const labels = host.split(".");
  if (labels.length > 1 && labels.at(-1) === "") labels.pop();
  const last = labels.at(-1) ?? "";
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/i.test(last);
}

/** Eight groups from an IPv6 literal (with or without brackets, `::` and a trailing dotted quad); null when not valid. */
export function parseIpv6(literal: string): number[] | null {
  let text = literal.replace(/^\[|\]$/g, "").toLowerCase();
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIpv4(dotted[2] as string);
    if (v4 === null || !/^\d+\.\d+\.\d+\.\d+$/.test(dotted[2] as string)) return null;
    text = `${dotted[1]}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const read = (part: string) => (part === "" ? [] : part.split(":"));
  const head = read(halves[0] as string);
  const tail = halves.length === 2 ? read(halves[1] as string) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}

const rangeHint: Record<Exclude<AddressClass, "public">, string> = {
  loopback: "a loopback address",
  private: "a private network address",
  "link-local": "a link-local address",
  "shared (CGNAT)": "a carrier-grade NAT (shared) address",
  "unique-local": "a unique-local IPv6 address",
  "IPv4-mapped": "an IPv4-mapped IPv6 address",
  unspecified: "the unspecified address",
  multicast: "a multicast address",
  reserved: "a reserved or special-purpose address",
};

/** The class of a URL host as the URL parser leaves it: an IP literal, or a name (only `localhost` names are known). */
export function classifyHost(hostname: string): AddressClass | "invalid" {
  const host = hostname.toLowerCase();
  if (host.startsWith("[")) {
    const groups = parseIpv6(host);
    return groups ? classifyIpv6(groups) : "invalid";
  }
  if (endsInNumber(host)) {
    const v4 = parseIpv4(host);
    return v4 === null ? "invalid" : classifyIpv4(v4);
  }
  const name = host.replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return "loopback";
  return "public";
}

const LOOPBACK_HINT = "plain http is accepted only for loopback receivers (127.0.0.1, localhost, [::1]) on a deployment with the simulator enabled";

export function checkWebhookUrl(raw: string, policy: UrlPolicy): UrlCheck {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `url must be at most ${MAX_URL_LENGTH} characters long.` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `url must be an absolute https:// URL; "${raw.slice(0, 100)}" is not a valid URL.` };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: `url must use https; got ${url.protocol.replace(/:$/, "")}.` };
  if (url.username || url.password) {
    return { ok: false, reason: "url must not carry credentials (user:password@); authenticate deliveries by their webhook-signature instead." };
  }
  const kind = classifyHost(url.hostname);
  if (kind === "invalid") return { ok: false, reason: `url has a host that is not a valid address: ${url.hostname}.` };
  if (kind === "loopback" && policy.allowLoopback) return { ok: true, url };
  if (kind !== "public") {
    const hint = kind === "loopback" ? "a loopback address, which is accepted only where the simulator is enabled" : rangeHint[kind];
    return { ok: false, reason: `url points at ${url.hostname}, ${hint}; webhooks are delivered only to public addresses.` };
  }
  if (url.protocol !== "https:") return { ok: false, reason: `url must use https; ${LOOPBACK_HINT}.` };
  return { ok: true, url };
}

/** The policy a deployment runs under: loopback receivers only where the simulator is on (local dev, tests). */
export const urlPolicyFor = (env: { SIMULATOR_ENABLED?: string }): UrlPolicy => ({ allowLoopback: env.SIMULATOR_ENABLED === "true" });
