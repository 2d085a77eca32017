import { MAX_PREFIX_LENGTH, PREFIXES_BY_SET, ZONE_NAMES, ZONE_SETS } from "./timezone-prefixes";

/** A set of IANA zones a contact may be in, with a key that names the set (for grouping and caches). */
export interface ZoneSet {
  key: string;
  zones: readonly string[];
}

/** Numbers with no zone in the data (global services such as +800, unassigned codes). */
const NO_ZONES: ZoneSet = Object.freeze({ key: "", zones: Object.freeze([]) });

// Keyed by the prefix read as a number: E.164 digits never start with 0, so the number names the prefix.
let prefixTable: Map<number, ZoneSet> | undefined;

/** Decoded on first use: 3k map entries sharing a few hundred frozen sets. */
function table(): Map<number, ZoneSet> {
  if (prefixTable) return prefixTable;
  const names = ZONE_NAMES.split(" ");
  const sets = ZONE_SETS.split(";").map((list): ZoneSet => {
    const zones = Object.freeze(list.split(",").map((position) => names[Number.parseInt(position, 36)] as string));
    return Object.freeze({ key: zones.join("&"), zones });
  });
  const map = new Map<number, ZoneSet>();
  PREFIXES_BY_SET.split("|").forEach((prefixes, i) => {
    const set = sets[i] as ZoneSet;
    for (const prefix of prefixes.split(" ")) map.set(Number(prefix), set);
  });
  prefixTable = map;
  return map;
}

/**
 * The zones an E.164 number may be in: the longest prefix of its digits that the data knows
 * (country calling code, then area code and exchange where a country has several zones). A number
 * whose area the data cannot tell matches only its calling code, whose set is every zone of the
 * country (for a shared code such as +1: every zone the code covers).
 */
export function zonesForNumber(e164: string): ZoneSet {
  const map = table();
  let found = NO_ZONES;
  let prefix = 0;
  // Runs once per uploaded row: digits are read in place, no substrings are made.
  const first = e164.charCodeAt(0) === 43 /* + */ ? 1 : 0;
  const last = Math.min(e164.length, first + MAX_PREFIX_LENGTH);
  for (let i = first; i < last; i++) {
    const digit = e164.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    prefix = prefix * 10 + digit;
    const set = map.get(prefix);
    if (set) found = set;
  }
  return found;
}

const singleSets = new Map<string, ZoneSet>();

/** A one-zone set (a contact's own or the campaign's explicit zone), shared per zone. */
export function singleZone(zone: string): ZoneSet {
  let set = singleSets.get(zone);
  if (!set) {
    set = Object.freeze({ key: zone, zones: Object.freeze([zone]) });
    singleSets.set(zone, set);
  }
  return set;
}

const canonicalZones = new Map<string, string | null>();

/**
 * The runtime's name for an IANA zone (any case), or null when the runtime does not know it.
 * Offsets such as "+05:00" are refused: a fixed offset would ignore daylight saving.
 */
export function canonicalZone(name: string): string | null {
  const cached = canonicalZones.get(name);
  if (cached !== undefined) return cached;
  let zone: string | null = null;
  if (/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) {
    try {
      zone = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
    } catch {
      zone = null;
    }
  }
  // Unbounded input (CSV cells) must not grow the cache without limit.
  if (canonicalZones.size < 10_000) canonicalZones.set(name, zone);
  return zone;
}
