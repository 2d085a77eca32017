import type { CountryCode } from "libphonenumber-js";
import type { CallingWindow } from "../calling-window/calling-window";
import { ContactZones } from "../calling-window/contact-zones";
import { setField, storedFieldValues } from "../db/custom-fields";
import { ApiError, badRequest } from "../http/errors";
import { ChunkedJson, type JsonChunk } from "./chunked-json";
import { type CsvTable, headerKey, readCsvTable } from "./csv-table";
import { readExpiresAt } from "./expires-at";
import { normalisePhone } from "./phone";
import { ProblemList, plural, reportedProblems, shown, type UploadProblem } from "./upload-problems";

/** One contact as the insert reads it: [row, E.164 number, custom-field values in column order, the row's own timezone if any, its expiry if any]. */
export type ContactTuple = [row: number, phone: string, values: (string | null)[], timezone?: string, expiresAt?: string];

/** A contact's custom fields take at most this much JSON: D1 refuses values near 2 MB, and an agent's variables are small. */
const MAX_CUSTOM_FIELDS_BYTES = 64 * 1024;

/**
 * Contacts for one D1 statement: a JSON object whose keys are `<seq>:<row><phone>|<timezone>|<expires_at>` and
 * whose values are the custom-field values (custom-fields.ts). json_each hands SQLite the key as
 * plain text and the values as the stored text, which costs D1 a third less than an array of
 * tuples, whose every element it would render and parse again.
 */
export type ContactChunk = JsonChunk;

export interface IngestResult {
  /** The contacts in seq order, each chunk small enough for one D1 statement. */
  chunks: ContactChunk[];
  /** Contacts kept (the campaign's total). */
  count: number;
  duplicatesSkipped: number;
  /** The custom-field columns in upload order (CSV header order; JSON: first-seen key order). */
  columns: string[];
  /** The kept numbers in upload order. */
  phones: ReadonlySet<string>;
}

/** What an upload is read against: the number's default country, the calling window, and for an append the campaign's columns. */
export interface ReadRules {
  country: CountryCode | undefined;
  window: CallingWindow | null;
  /** The custom columns the upload must have, in the campaign's order (append); null lets the upload name them (create). */
  columns?: readonly string[] | null;
}

/** An upload read to the end: what create would write, what is wrong with it, and create's 400 if anything is. */
export interface ContactsRead {
  result: IngestResult;
  /** The first problems in row order (or the one problem of the whole upload). */
  problems: UploadProblem[];
  problemCount: number;
  /** The refusal create answers with (its exact message), or null when create would accept the upload. */
  refusal: ApiError | null;
}

/**
 * Everything wrong with an upload, by kind. Create refuses on the first kind found, in the order it
 * always has: the file, rows that cannot be trusted, unreadable numbers, time zones, emptiness.
 */
class UploadProblems {
  upload: ApiError | null = null;
  readonly shape = new ProblemList();
  readonly numbers = new ProblemList();
  readonly expiries = new ProblemList();
  readonly oversized = new ProblemList();
  readonly zones: ContactZones;

  constructor(
    private readonly country: CountryCode | undefined,
    window: CallingWindow | null,
  ) {
    this.zones = new ContactZones(window);
  }

  unreadableNumber(row: number, raw: string) {
    this.numbers.add(
      { row, value: shown(raw), reason: `The phone number could not be read; write it in international form such as +14155550100.${this.nationalHint()}` },
      `row ${row} (${JSON.stringify(shown(raw, 32))})`,
    );
  }

  badExpiry(row: number, raw: string, reason: string) {
    this.expiries.add({ row, value: shown(raw), reason }, `row ${row} (${JSON.stringify(shown(raw, 32))})`);
  }

  oversizedFields(row: number, bytes: number) {
    this.oversized.add(
      {
        row,
        value: null,
        reason: `The custom fields are ${Math.ceil(bytes / 1024)} KB as JSON; a contact's fields may take at most ${MAX_CUSTOM_FIELDS_BYTES / 1024} KB.`,
      },
      `row ${row}`,
    );
  }

  read(result: IngestResult, shapeRefusal: (list: ProblemList) => ApiError): ContactsRead {
    const refusal = this.refusal(result, shapeRefusal);
    const lists = [this.shape, this.numbers, this.expiries, this.oversized, this.zones.unknownZones, this.zones.neverOpen];
    const { problems, count } = reportedProblems(lists, refusal);
    return { result, problems, problemCount: count, refusal };
  }

  private refusal(result: IngestResult, shapeRefusal: (list: ProblemList) => ApiError): ApiError | null {
    if (this.upload) return this.upload;
    if (this.shape.count > 0) return shapeRefusal(this.shape);
    const numbers = this.numbers.count;
    if (numbers > 0) {
      return badRequest(
        `${numbers} ${plural(numbers, "phone number", "phone numbers")} could not be read: ${this.numbers.summary()}. ` +
          `Write them in international form such as +14155550100.${this.nationalHint()} Nothing was created.`,
      );
    }
    const expiries = this.expiries.count;
    if (expiries > 0) {
      return badRequest(
        `${expiries} ${plural(expiries, "row has", "rows have")} an expires_at that is not an RFC 3339 time before 2189: ${this.expiries.summary()}. ` +
          "Write it like 2030-01-31T18:00:00Z, or leave the cell empty for no expiry. Nothing was created.",
      );
    }
    const oversized = this.oversized.count;
    if (oversized > 0) {
      return badRequest(
        `${oversized} ${plural(oversized, "row has", "rows have")} custom fields over ${MAX_CUSTOM_FIELDS_BYTES / 1024} KB as JSON: ${this.oversized.summary()}. ` +
          "Keep what the agent needs in the upload and the rest in your own system. Nothing was created.",
      );
    }
    const zones = this.zones.refusal();
    if (zones) return zones;
    if (result.count === 0) return badRequest("The contacts list has no contacts; add at least one row with a phone_number.");
    return null;
  }

  private nationalHint() {
    return this.country ? "" : " National numbers need default_country (e.g. US).";
  }
}

/** Accumulates contacts into D1-sized JSON chunks, dropping repeated numbers (first row wins). */
class ContactSink {
  private readonly chunks = new ChunkedJson("{}");
  private readonly seen = new Set<string>();
  private duplicates = 0;

  constructor(
    private readonly country: CountryCode | undefined,
    private readonly problems: UploadProblems,
  ) {}

  /** `values` are the custom fields in the upload's column order (null: a JSON contact without that key). */
  add(row: number, rawPhone: string, values: (string | null)[], zoneCell?: string, expiresCell?: string) {
    const phone = normalisePhone(rawPhone, this.country);
    if (!phone) {
      this.problems.unreadableNumber(row, rawPhone);
      return;
    }
    const timezone = this.problems.zones.zoneFor(row, phone, zoneCell);
    const expires = readExpiresAt(expiresCell);
    if (expires !== null && typeof expires === "object") {
      this.problems.badExpiry(row, expiresCell ?? "", expires.problem);
      return;
    }
    const fields = storedFieldValues(values);
    // UTF-16 length bounds UTF-8 bytes from below and a third of them from above: most rows need no encoding.
    if (fields.length * 3 > MAX_CUSTOM_FIELDS_BYTES) {
      const bytes = new TextEncoder().encode(fields).byteLength;
      if (bytes > MAX_CUSTOM_FIELDS_BYTES) {
        this.problems.oversizedFields(row, bytes);
        return;
      }
    }
    if (this.seen.has(phone)) {
      this.duplicates++;
      return;
    }
    this.seen.add(phone);
    const expiresAt = expires === null ? "" : new Date(expires).toISOString();
    // E.164 is "+" and digits, a zone name has no "|" or quote, an ISO time neither: the key needs no escaping, and SQL splits it at ":", "+" and "|".
    this.chunks.push(`"${this.chunks.count}:${row}${phone}|${timezone ?? ""}|${expiresAt}":${fields}`);
  }

  finish(columns: string[]): IngestResult {
    const count = this.chunks.count;
    return { chunks: this.chunks.finish(), count, duplicatesSkipped: this.duplicates, columns, phones: this.seen };
  }
}

/** A chunk read back as tuples in seq order (the insert's reading of it, in JS). */
export function contactTuples(chunk: ContactChunk): ContactTuple[] {
  return Object.entries(JSON.parse(chunk.json) as Record<string, (string | null)[]>)
    .map(([key, values]) => {
      const colon = key.indexOf(":");
      const plus = key.indexOf("+");
      const bar = key.indexOf("|");
      const secondBar = key.indexOf("|", bar + 1);
      const timezone = key.slice(bar + 1, secondBar);
      const expiresAt = key.slice(secondBar + 1);
      const tuple: ContactTuple = [Number(key.slice(colon + 1, plus)), key.slice(plus, bar), values];
      if (timezone || expiresAt) tuple.push(timezone);
      if (expiresAt) tuple.push(expiresAt);
      return [Number(key.slice(0, colon)), tuple] as const;
    })
    .sort((a, b) => a[0] - b[0])
    .map(([, tuple]) => tuple);
}

/**
 * Reads a CSV upload to the end, collecting every problem; create, preflight and append all start here.
 * A calling window, when given, also finds contacts that could never be called inside it.
 */
export function readContactsCsv(text: string, rules: ReadRules): ContactsRead {
  const { country, window } = rules;
  const problems = new UploadProblems(country, window);
  const sink = new ContactSink(country, problems);
  let table: CsvTable;
  try {
    table = readCsvTable(text);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    problems.upload = error;
    return problems.read(sink.finish([]), overlongRefusal(0));
  }
  const { headers, rowCount, row: cellsOf, phoneColumn, column } = table;
  // `timezone` places the row's contact in that zone and `expires_at` ends its dialling; neither is a custom field.
  const zoneColumn = column("timezone");
  const expiresColumn = column("expires_at");
  // The custom-field columns, once: every row is read through the same list.
  let fieldColumns = headers.map((_, col) => col).filter((col) => col !== phoneColumn && col !== zoneColumn && col !== expiresColumn);
  let fieldNames = fieldColumns.map((col) => headers[col] as string);
  if (rules.columns) {
    problems.upload = columnMismatch(fieldNames, rules.columns, "column");
    if (problems.upload) return problems.read(sink.finish([]), overlongRefusal(0));
    // The campaign's order, whatever the upload's: stored values line up with the campaign's columns.
    fieldColumns = rules.columns.map((name) => column(name) as number);
    fieldNames = [...rules.columns];
  }
  for (let i = 1; i < rowCount; i++) {
    const cells = cellsOf(i);
    if (cells.length === 1 && cells[0]?.trim() === "") continue; // blank line
    const row = i + 1; // spreadsheet numbering: the header is row 1
    if (cells.length > headers.length) {
      problems.shape.add(
        { row, value: shown(cells.join(",")), reason: `The row has more fields than the header (${headers.length}); quote values that contain commas.` },
        String(row),
      );
      continue;
    }
    const values: string[] = new Array(fieldColumns.length);
    for (let k = 0; k < fieldColumns.length; k++) values[k] = cells[fieldColumns[k] as number] ?? "";
    const cellAt = (col: number | undefined) => (col === undefined ? undefined : cells[col]);
    sink.add(row, cells[phoneColumn] ?? "", values, cellAt(zoneColumn), cellAt(expiresColumn));
  }
  return problems.read(sink.finish(fieldNames), overlongRefusal(headers.length));
}

/** An append's upload must carry exactly the campaign's custom columns (any order, case ignored); the 400 names what differs, else null. */
function columnMismatch(sent: readonly string[], expected: readonly string[], noun: "column" | "field"): ApiError | null {
  const expectedKeys = new Set(expected.map(headerKey));
  const sentKeys = new Set(sent.map(headerKey));
  const added = sent.filter((name) => !expectedKeys.has(headerKey(name)));
  const missing = expected.filter((name) => !sentKeys.has(headerKey(name)));
  if (added.length === 0 && missing.length === 0) return null;
  const names = (list: readonly string[]) => list.map((name) => JSON.stringify(shown(name, 40))).join(", ");
  const parts = [
    added.length > 0 && `the ${plural(added.length, noun, `${noun}s`)} ${names(added)} ${plural(added.length, "is", "are")} not among them`,
    missing.length > 0 && `${names(missing)} ${plural(missing.length, "is", "are")} missing`,
  ].filter(Boolean);
  const campaignColumns = expected.length > 0 ? names(expected) : "none";
  return badRequest(
    `The contacts must have the campaign's custom ${noun}s (${campaignColumns}), besides phone_number, timezone and expires_at: ${parts.join(", and ")}. Nothing was added.`,
  );
}

const overlongRefusal = (headerCount: number) => (overlong: ProblemList) =>
  badRequest(
    `${overlong.count} ${plural(overlong.count, "row has", "rows have")} more fields than the header (${headerCount}): rows ${overlong.listed.join(", ")}. ` +
      "Quote values that contain commas. Nothing was created.",
  );

/** Reads a JSON upload (an array of objects with phone_number; every other key but timezone and expires_at is a custom field), collecting every problem. */
export function readContactsJson(items: unknown, rules: ReadRules): ContactsRead {
  const { country, window } = rules;
  const problems = new UploadProblems(country, window);
  const sink = new ContactSink(country, problems);
  const columns = new Set<string>();
  // Create names the first malformed item, exactly as it always has.
  const firstItemRefusal = (list: ProblemList) => badRequest(list.kept[0]?.reason ?? "contacts holds a malformed item.");
  if (!Array.isArray(items)) {
    problems.upload = badRequest("contacts must be an array of objects, each with a phone_number.");
    return problems.read(sink.finish([]), firstItemRefusal);
  }
  // An append names each field as the campaign does, so a key differing only in case is the same column.
  const spelling = rules.columns ? new Map(rules.columns.map((name) => [headerKey(name), name])) : null;
  // Two passes: a contact's values line up with the columns, which are known only once every item is read.
  const contacts = items.map((item, index) => {
    const contact = readJsonContact(item, index, spelling);
    if (typeof contact === "string") problems.shape.add({ row: index + 1, value: shown(JSON.stringify(item) ?? String(item)), reason: contact }, contact);
    else for (const key in contact.fields) columns.add(key);
    return contact;
  });
  let names = [...columns];
  if (rules.columns) {
    problems.upload = columnMismatch(names, rules.columns, "field");
    if (problems.upload) return problems.read(sink.finish([]), firstItemRefusal);
    names = [...rules.columns];
  }
  contacts.forEach((contact, index) => {
    if (typeof contact === "string") return;
    const values = names.map((name) => (Object.hasOwn(contact.fields, name) ? (contact.fields[name] as string) : null));
    sink.add(index + 1, contact.phone, values, contact.zone, contact.expires);
  });
  return problems.read(sink.finish(names), firstItemRefusal);
}

type JsonContact = { phone: string; fields: Record<string, string>; zone: string | undefined; expires: string | undefined };

/** One JSON contact as a number, string fields, its own zone and expiry cells, or why it cannot be one (create's sentence). */
function readJsonContact(item: unknown, index: number, spelling: ReadonlyMap<string, string> | null): JsonContact | string {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return `contacts[${index}] must be an object with a phone_number.`;
  const fields: Record<string, string> = {};
  let phone: string | undefined;
  let zone: string | undefined;
  let expires: string | undefined;
  for (const [key, value] of Object.entries(item)) {
    if (value !== null && typeof value === "object") return `contacts[${index}].${key} must be a string, number or boolean.`;
    const text = value === null ? "" : String(value);
    const name = headerKey(key);
    if (name === "phone_number") phone = text;
    else if (name === "timezone") zone = text;
    else if (name === "expires_at") expires = text;
    else setField(fields, spelling?.get(name) ?? key.trim(), text);
  }
  return phone === undefined ? `contacts[${index}] has no phone_number.` : { phone, fields, zone, expires };
}

/** An upload with nothing to read (no contacts field): that refusal is its one problem. */
export function refusedUpload(refusal: ApiError): ContactsRead {
  const result: IngestResult = { chunks: [], count: 0, duplicatesSkipped: 0, columns: [], phones: new Set() };
  return { result, problems: [{ row: null, value: null, reason: refusal.message }], problemCount: 1, refusal };
}

/** Create's reading of a CSV upload: the contacts, or its 400. */
export function ingestCsv(text: string, country: CountryCode | undefined, window: CallingWindow | null = null): IngestResult {
  const read = readContactsCsv(text, { country, window });
  if (read.refusal) throw read.refusal;
  return read.result;
}

/**
 * The upload without the contacts whose numbers are in `numbers` (an append's numbers already in
 * its campaign), renumbered so seq stays dense; those dropped count as duplicates.
 */
export function withoutNumbers(result: IngestResult, numbers: ReadonlySet<string>): IngestResult {
  if (numbers.size === 0) return result;
  const kept = new ChunkedJson("{}");
  const phones = new Set<string>();
  for (const chunk of result.chunks) {
    const members = Object.entries(JSON.parse(chunk.json) as Record<string, unknown>).sort((a, b) => Number.parseInt(a[0], 10) - Number.parseInt(b[0], 10));
    for (const [key, values] of members) {
      const phone = key.slice(key.indexOf("+"), key.indexOf("|"));
      if (numbers.has(phone)) continue;
      phones.add(phone);
      kept.push(`${JSON.stringify(`${kept.count}${key.slice(key.indexOf(":"))}`)}:${JSON.stringify(values)}`);
    }
  }
  const count = kept.count;
  return { chunks: kept.finish(), count, duplicatesSkipped: result.duplicatesSkipped + (result.count - count), columns: result.columns, phones };
}
