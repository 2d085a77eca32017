import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js";
import Papa from "papaparse";
import { badRequest } from "../http/errors";
import type { CallingWindow } from "./calling-window";
import { ContactZones } from "./contact-zones";

/** The upload limit for the contacts file itself (SPEC: 10 MB ≈ 100k rows). */
export const MAX_CSV_BYTES = 10 * 1024 * 1024;
/** Form fields and multipart framing ride on top of the file. */
export const MAX_REQUEST_BYTES = MAX_CSV_BYTES + 64 * 1024;
/** How many bad rows an error names before it summarises the rest. */
const MAX_LISTED_ERRORS = 20;
/** JSON bound per D1 statement, far under D1's 2 MB value limit. */
export const CHUNK_BYTES = 1_000_000;

/** One contact ready for the bulk insert: [row, E.164 number, custom fields, the row's own timezone if any]. */
export type ContactTuple = [row: number, phone: string, fields: Record<string, string>, timezone?: string];

export interface IngestResult {
  /** JSON arrays of ContactTuple, each small enough for one D1 statement. */
  chunks: { json: string; count: number }[];
  /** Contacts kept (the campaign's total). */
  count: number;
  duplicatesSkipped: number;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const SEPARATORS = /[\s\-.()\u00a0]/g;

export function parseDefaultCountry(raw: string | undefined): CountryCode | undefined {
  if (raw === undefined || raw === "") return undefined;
  const code = raw.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code) || !isSupportedCountry(code)) {
    throw badRequest(`default_country must be an ISO 3166 alpha-2 country code such as US or GB; got "${raw}".`);
  }
  return code;
}

/** E.164 or null. The regex fast path handles most rows; libphonenumber only sees national numbers. */
export function normalisePhone(raw: string, country: CountryCode | undefined): string | null {
  // "+44 (0)20 …": the (0) is a trunk prefix that must not survive into E.164.
  let s = raw.replace("(0)", "").replace(SEPARATORS, "");
  if (s.startsWith("00")) s = `+${s.slice(2)}`;
  if (E164.test(s)) return s;
  if (s.startsWith("+") || !country || !/^\d{3,17}$/.test(s)) return null;
  const parsed = parsePhoneNumberFromString(s, country);
  return parsed?.isValid() ? parsed.number : null;
}

/** Accumulates contacts into D1-sized JSON chunks, dropping repeated numbers (first row wins). */
class ContactSink {
  readonly chunks: { json: string; count: number }[] = [];
  private current: string[] = [];
  private currentBytes = 0;
  private readonly seen = new Set<string>();
  private readonly invalid: string[] = [];
  private invalidCount = 0;
  count = 0;
  duplicates = 0;

  constructor(
    private readonly country: CountryCode | undefined,
    private readonly zones: ContactZones,
  ) {}

  add(row: number, rawPhone: string, fields: Record<string, string>, zoneCell?: string) {
    const phone = normalisePhone(rawPhone, this.country);
    if (!phone) {
      this.invalidCount++;
      if (this.invalid.length < MAX_LISTED_ERRORS) {
        const shown = rawPhone.length > 32 ? `${rawPhone.slice(0, 32)}…` : rawPhone;
        this.invalid.push(`row ${row} (${JSON.stringify(shown)})`);
      }
      return;
    }
    const timezone = this.zones.zoneFor(row, phone, zoneCell);
    if (this.seen.has(phone)) {
      this.duplicates++;
      return;
    }
    this.seen.add(phone);
    const tuple: ContactTuple = timezone === null ? [row, phone, fields] : [row, phone, fields, timezone];
    const json = JSON.stringify(tuple);
    if (this.currentBytes + json.length > CHUNK_BYTES && this.current.length > 0) this.flush();
    this.current.push(json);
    this.currentBytes += json.length + 1;
    this.count++;
  }

  finish(): IngestResult {
    if (this.invalidCount > 0) {
      const more = this.invalidCount > this.invalid.length ? ` and ${this.invalidCount - this.invalid.length} more` : "";
      const hint = this.country ? "" : " National numbers need default_country (e.g. US).";
      throw badRequest(
        `${this.invalidCount} phone number${this.invalidCount === 1 ? "" : "s"} could not be read: ${this.invalid.join(", ")}${more}. ` +
          `Write them in international form such as +14155550100.${hint} Nothing was created.`,
      );
    }
    this.zones.finish();
    if (this.count === 0) throw badRequest("The contacts list has no contacts; add at least one row with a phone_number.");
    this.flush();
    return { chunks: this.chunks, count: this.count, duplicatesSkipped: this.duplicates };
  }

  private flush() {
    if (this.current.length === 0) return;
    this.chunks.push({ json: `[${this.current.join(",")}]`, count: this.current.length });
    this.current = [];
    this.currentBytes = 0;
  }
}

const headerKey = (h: string) => h.trim().toLowerCase();

/** A parsed CSV upload whose header row passed the upload rules; rows[0] is the header row. */
export interface CsvTable {
  headers: string[];
  rows: string[][];
  phoneColumn: number;
  /** A column's index by header name (case and surrounding spaces ignored). */
  column(name: string): number | undefined;
}

/** Parses a CSV upload and applies the header rules every upload shares: BOM, RFC 4180 quoting, named, unique headers and a phone_number column. */
export function readCsvTable(text: string): CsvTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Arrays, not header objects: half the memory on a 100k-row upload.
  const parsed = Papa.parse<string[]>(body, { header: false, delimiter: ",", skipEmptyLines: false });
  const quoteError = parsed.errors.find((e) => e.type === "Quotes");
  if (quoteError) {
    throw badRequest(`The CSV has a broken quoted field at row ${(quoteError.row ?? 0) + 1}: ${quoteError.message}. Quote fields per RFC 4180.`);
  }
  const rows = parsed.data;
  const headers = (rows[0] ?? []).map((h) => h.trim());
  if (headers.length === 0 || headers.every((h) => h === "")) throw badRequest("The CSV is empty; its first row must be the column headers.");

  const seen = new Map<string, number>();
  headers.forEach((h, i) => {
    if (h === "") throw badRequest(`CSV column ${i + 1} has no header; name every column or remove the empty one.`);
    const key = headerKey(h);
    const first = seen.get(key);
    if (first !== undefined) throw badRequest(`The CSV has the header "${h}" twice (columns ${first + 1} and ${i + 1}); header names must be unique.`);
    seen.set(key, i);
  });
  const phoneColumn = seen.get("phone_number");
  if (phoneColumn === undefined) {
    const hint = headers.length === 1 && headers[0]?.includes(";") ? " The file looks semicolon-separated; save it as comma-separated." : "";
    throw badRequest(`The CSV needs a phone_number column; found ${headers.map((h) => JSON.stringify(h)).join(", ")}.${hint}`);
  }
  return { headers, rows, phoneColumn, column: (name) => seen.get(headerKey(name)) };
}

/** A calling window, when given, also refuses contacts that could never be called inside it. */
export function ingestCsv(text: string, country: CountryCode | undefined, window: CallingWindow | null = null): IngestResult {
  const { headers, rows, phoneColumn, column } = readCsvTable(text);
  // A `timezone` column places the row's contact in that zone; it is not a custom field.
  const zoneColumn = column("timezone");
  const sink = new ContactSink(country, new ContactZones(window));
  const overlong: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    const cells = rows[i] as string[];
    if (cells.length === 1 && cells[0]?.trim() === "") continue; // blank line
    const row = i + 1; // spreadsheet numbering: the header is row 1
    if (cells.length > headers.length) {
      overlong.push(row);
      continue;
    }
    const fields: Record<string, string> = {};
    for (let col = 0; col < headers.length; col++) {
      if (col !== phoneColumn && col !== zoneColumn) fields[headers[col] as string] = cells[col] ?? "";
    }
    sink.add(row, cells[phoneColumn] ?? "", fields, zoneColumn === undefined ? undefined : cells[zoneColumn]);
  }
  if (overlong.length > 0) {
    throw badRequest(
      `${overlong.length} row${overlong.length === 1 ? " has" : "s have"} more fields than the header (${headers.length}): rows ${overlong.slice(0, MAX_LISTED_ERRORS).join(", ")}. ` +
        "Quote values that contain commas. Nothing was created.",
    );
  }
  return sink.finish();
}

/** JSON uploads: an array of objects with phone_number; every other key becomes a custom field. */
export function ingestJson(items: unknown, country: CountryCode | undefined, window: CallingWindow | null = null): IngestResult {
  if (!Array.isArray(items)) throw badRequest("contacts must be an array of objects, each with a phone_number.");
  const sink = new ContactSink(country, new ContactZones(window));
  items.forEach((item, index) => {
    const row = index + 1;
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw badRequest(`contacts[${index}] must be an object with a phone_number.`);
    const fields: Record<string, string> = {};
    let phone: string | undefined;
    let zone: string | undefined;
    for (const [key, value] of Object.entries(item)) {
      if (value !== null && typeof value === "object") throw badRequest(`contacts[${index}].${key} must be a string, number or boolean.`);
      const text = value === null ? "" : String(value);
      if (headerKey(key) === "phone_number") phone = text;
      else if (headerKey(key) === "timezone") zone = text;
      else fields[key.trim()] = text;
    }
    if (phone === undefined) throw badRequest(`contacts[${index}] has no phone_number.`);
    sink.add(row, phone, fields, zone);
  });
  return sink.finish();
}
