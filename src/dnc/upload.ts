import type { CountryCode } from "libphonenumber-js";
import { badRequest } from "../http/errors";
import { ChunkedJson, type JsonChunk } from "../uploads/chunked-json";
import { readCsvTable } from "../uploads/csv-table";
import { normalisePhone } from "../uploads/phone";

/** A number that could not be read, by its place in the upload. */
interface InvalidEntry {
  /** CSV: the spreadsheet row (header = 1). JSON: the 1-based position in `numbers`. */
  row: number;
  value: string;
}

export interface DncUpload {
  /** JSON arrays of E.164 numbers, each small enough for one D1 statement. */
  chunks: JsonChunk[];
  /** Numbers read, repeats included: added + already_listed. */
  count: number;
  invalid: InvalidEntry[];
}

/** Longest cell echoed back in `invalid`: enough to recognise it, not a way to mirror a whole row. */
const SHOWN_CHARS = 64;

/** Collects readable numbers into D1-sized chunks and the unreadable ones by row; nothing is dropped. */
class NumberSink {
  private readonly chunks = new ChunkedJson("[]");
  private readonly invalid: InvalidEntry[] = [];

  constructor(private readonly country: CountryCode | undefined) {}

  add(row: number, raw: unknown) {
    const text = typeof raw === "string" ? raw : typeof raw === "number" ? String(raw) : null;
    const phone = text === null ? null : normalisePhone(text, this.country);
    if (phone === null) {
      this.reject(row, text ?? JSON.stringify(raw) ?? String(raw));
      return;
    }
    this.chunks.push(JSON.stringify(phone));
  }

  reject(row: number, shown: string) {
    this.invalid.push({ row, value: shown.length > SHOWN_CHARS ? `${shown.slice(0, SHOWN_CHARS)}…` : shown });
  }

  finish(): DncUpload {
    const count = this.chunks.count;
    return { chunks: this.chunks.finish(), count, invalid: this.invalid };
  }
}

/** `numbers` of a JSON upload: strings (or plain digits as JSON numbers), 1-based positions as rows. */
export function readDncNumbers(numbers: unknown, country: CountryCode | undefined): DncUpload {
  if (!Array.isArray(numbers)) throw badRequest('numbers is required: an array of phone numbers such as ["+14155550100"].');
  if (numbers.length === 0) throw badRequest("numbers is empty; send at least one phone number.");
  const sink = new NumberSink(country);
  numbers.forEach((item, index) => {
    sink.add(index + 1, item);
  });
  return sink.finish();
}

/** A CSV upload with a phone_number column (the header rules of campaign create); other columns are not read. */
export function readDncCsv(text: string, country: CountryCode | undefined): DncUpload {
  const { headers, rowCount, row, phoneColumn } = readCsvTable(text);
  const sink = new NumberSink(country);
  let seen = 0;
  for (let i = 1; i < rowCount; i++) {
    const cells = row(i);
    if (cells.length === 1 && cells[0]?.trim() === "") continue; // blank line
    seen++;
    // A row wider than the header has an unquoted comma somewhere: its cells cannot be trusted.
    if (cells.length > headers.length) sink.reject(i + 1, cells.join(","));
    else sink.add(i + 1, cells[phoneColumn] ?? "");
  }
  if (seen === 0) throw badRequest("The CSV has no numbers; add at least one row with a phone_number.");
  return sink.finish();
}
