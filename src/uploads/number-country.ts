import { type CountryCode, getCountries, getCountryCallingCode, parsePhoneNumberFromString } from "libphonenumber-js";

/** The region code for a number whose region cannot be told (CLDR's "unknown region"): non-geographic codes such as +800, unassigned ranges. */
const UNKNOWN_REGION = "ZZ";

/** National digits that decide the region within a shared calling code: the area code in NANP, more elsewhere (JE 1534x, VA 06698). */
const deciding = (callingCode: string) => (callingCode === "1" ? 3 : 6);

let byCallingCode: Map<string, CountryCode[]> | undefined;

/** Calling code → the regions that share it, from libphonenumber's metadata, built on first use. */
function regionsByCallingCode(): Map<string, CountryCode[]> {
  if (byCallingCode) return byCallingCode;
  const map = new Map<string, CountryCode[]>();
  for (const country of getCountries()) {
    const code = getCountryCallingCode(country);
    const list = map.get(code);
    if (list) list.push(country);
    else map.set(code, [country]);
  }
  byCallingCode = map;
  return map;
}

/**
 * Counts E.164 numbers by region (ISO 3166 alpha-2, or ZZ). A calling code with one region needs
 * no parsing; a shared one (+1, +44, +7, …) is parsed by libphonenumber once per deciding prefix,
 * so 100k numbers cost a few hundred parses rather than 100k.
 */
export class RegionTally {
  readonly counts = new Map<string, number>();
  /** Deciding prefix → the region a valid number under it was placed in. */
  private readonly placed = new Map<string, string>();
  /** Longer prefixes whose numbers libphonenumber could not place (e.g. the fictional +1 555). */
  private readonly unplaced = new Set<string>();

  add(e164: string) {
    const region = this.regionOf(e164);
    this.counts.set(region, (this.counts.get(region) ?? 0) + 1);
  }

  /** Largest first, then by code: the order a reader scans. */
  toJSON(): Record<string, number> {
    const entries = [...this.counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return Object.fromEntries(entries);
  }

  private regionOf(e164: string): string {
    const regions = regionsByCallingCode();
    // Calling codes are a prefix code: the first of 1, 2 or 3 digits that names one is the code.
    for (let length = 1; length <= 3; length++) {
      const code = e164.slice(1, 1 + length);
      const shared = regions.get(code);
      if (!shared) continue;
      if (shared.length === 1) return shared[0] as string;
      const prefix = e164.slice(0, 1 + length + deciding(code));
      const placed = this.placed.get(prefix);
      if (placed) return placed;
      const block = e164.slice(0, 1 + length + 7);
      if (this.unplaced.has(block)) return UNKNOWN_REGION;
      const region = parsePhoneNumberFromString(e164)?.country;
      if (region) this.placed.set(prefix, region);
      else this.unplaced.add(block);
      return region ?? UNKNOWN_REGION;
    }
    return UNKNOWN_REGION;
  }
}
