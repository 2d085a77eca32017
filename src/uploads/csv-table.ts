import Papa from "papaparse";
import { badRequest, quoted } from "../http/errors";

/** Header names and JSON keys match ignoring case and surrounding spaces. */
export const headerKey = (h: string) => h.trim().toLowerCase();

/** A parsed CSV upload whose header row passed the upload rules; row(0) is the header row. */
export interface CsvTable {
  headers: string[];
  /** Rows in the file, the header row and blank lines included. */
  rowCount: number;
  /** The cells of a row; made when asked for, so a 100k-row upload never holds all its rows as arrays. */
  row(index: number): string[];
  phoneColumn: number;
  /** A column's index by header name (case and surrounding spaces ignored). */
  column(name: string): number | undefined;
}

/** Parses a CSV upload and applies the header rules every upload shares: BOM, RFC 4180 quoting, named, unique headers and a phone_number column. */
export function readCsvTable(text: string): CsvTable {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let lines: string[] | null = null;
  let rows: string[][] = [];
  if (!body.includes('"') && !body.includes("\r")) {
    // Nothing quoted and LF line ends: a row is a line split at commas, exactly as papaparse reads it.
    lines = body.split("\n");
  } else {
    // Arrays, not header objects: half the memory on a 100k-row upload.
    const parsed = Papa.parse<string[]>(body, { header: false, delimiter: ",", skipEmptyLines: false });
    const quoteError = parsed.errors.find((e) => e.type === "Quotes");
    if (quoteError) {
      throw badRequest(`The CSV has a broken quoted field at row ${(quoteError.row ?? 0) + 1}: ${quoteError.message}. Quote fields per RFC 4180.`);
    }
    rows = parsed.data;
  }
  const split = lines;
  const row = split ? (index: number) => (split[index] as string).split(",") : (index: number) => rows[index] as string[];
  const rowCount = split ? (body === "" ? 0 : split.length) : rows.length;
  const headers = (rowCount > 0 ? row(0) : []).map((h) => h.trim());
  if (headers.length === 0 || headers.every((h) => h === "")) throw badRequest("The CSV is empty; its first row must be the column headers.");

  const seen = new Map<string, number>();
  headers.forEach((h, i) => {
    if (h === "") throw badRequest(`CSV column ${i + 1} has no header; name every column or remove the empty one.`);
    const key = headerKey(h);
    const first = seen.get(key);
    if (first !== undefined) throw badRequest(`The CSV has the header ${quoted(h)} twice (columns ${first + 1} and ${i + 1}); header names must be unique.`);
    seen.set(key, i);
  });
  const phoneColumn = seen.get("phone_number");
  if (phoneColumn === undefined) {
    const hint = headers.length === 1 && headers[0]?.includes(";") ? " The file looks semicolon-separated; save it as comma-separated." : "";
    throw badRequest(`The CSV needs a phone_number column; found ${headers.slice(0, 20).map(quoted).join(", ")}.${hint}`);
  }
  return { headers, rowCount, row, phoneColumn, column: (name) => seen.get(headerKey(name)) };
}
