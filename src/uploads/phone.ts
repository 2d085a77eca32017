import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js";
import { badRequest, quoted } from "../http/errors";

/** E.164: "+", a non-zero digit, then 6 to 14 more digits; what every stored and dialled number looks like. */
export const E164 = /^\+[1-9]\d{6,14}$/;
const SEPARATORS = /[\s\-.()\u00a0]/g;

export function parseDefaultCountry(raw: string | undefined): CountryCode | undefined {
  if (raw === undefined || raw === "") return undefined;
  const code = raw.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code) || !isSupportedCountry(code)) {
    throw badRequest(`default_country must be an ISO 3166 alpha-2 country code such as US or GB; got ${quoted(raw)}.`);
  }
  return code;
}

/** `raw` without ASCII separators (space, tab, CR/LF, - . ( )), or null when it holds anything the regex path must judge. */
function stripAsciiSeparators(raw: string): string | null {
  let out = "";
  let from = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c > 0x7e) return null;
    if (c === 0x20 || c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29 || (c >= 0x09 && c <= 0x0d)) {
      out += raw.slice(from, i);
      from = i + 1;
    }
  }
  return from === 0 ? raw : out + raw.slice(from);
}

/** E.164 or null. The regex fast path handles most rows; libphonenumber only sees national numbers. */
export function normalisePhone(raw: string, country: CountryCode | undefined): string | null {
  if (E164.test(raw)) return raw;
  // "+44 (0)20 …": the (0) is a trunk prefix that must not survive into E.164.
  let s = (raw.includes("(0)") ? null : stripAsciiSeparators(raw)) ?? raw.replace("(0)", "").replace(SEPARATORS, "");
  if (s.startsWith("00")) s = `+${s.slice(2)}`;
  if (E164.test(s)) return s;
  if (s.startsWith("+") || !country || !/^\d{3,17}$/.test(s)) return null;
  const parsed = parsePhoneNumberFromString(s, country);
  return parsed?.isValid() ? parsed.number : null;
}
