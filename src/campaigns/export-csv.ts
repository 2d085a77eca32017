import type { ContactResultView } from "../call-results/result-view";
import { fieldCells } from "../db/custom-fields";
import type { ContactStatus } from "../db/schema";

/** The columns every export starts with; the upload's own columns follow in upload order. */
const FIXED_COLUMNS = [
  "row",
  "phone_number",
  "status",
  "outcome",
  "attempts",
  "last_error",
  "call_id",
  "updated_at",
  "disposition",
  "summary",
  "callback_at",
  "transcript_url",
  "recording_url",
  "result_data",
] as const;

/** Contacts read from D1 per page: 100k contacts are 40 queries, and one page stays a few hundred KB. */
const EXPORT_PAGE_SIZE = 2_500;

/** One contact as the export reads it from D1, in this column order. */
export type ExportRow = [
  seq: number,
  row: number,
  phoneNumber: string,
  status: string,
  outcome: string | null,
  attempts: number,
  lastError: string | null,
  callId: string | null,
  updatedAt: string,
  customFields: string,
  /** The contacts.result JSON (ContactResultView), or null. */
  result: string | null,
  nextAttemptAt: string | null,
];

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE = /"/g;

/** RFC 4180: a field holding a comma, a quote, CR or LF is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(QUOTE, '""')}"` : value;
}

/** Spreadsheets run a cell that starts with = + - @, tab or CR as a formula; a leading ' keeps it text. */
export function guardFormula(value: string): string {
  const first = value.charCodeAt(0);
  // = + - @ \t \r
  return first === 0x3d || first === 0x2b || first === 0x2d || first === 0x40 || first === 0x09 || first === 0x0d ? `'${value}` : value;
}

/** A cell whose text came from outside (an upload, a carrier): guarded, then quoted. */
const untrustedCell = (value: string) => csvField(guardFormula(value));

export function csvHeader(customColumns: readonly string[]): string {
  return `${[...FIXED_COLUMNS, ...customColumns.map(untrustedCell)].join(",")}\r\n`;
}

/** One contact as a CSV line (CRLF-terminated). The phone number is written as it is: it is E.164, never a formula. */
export function csvLine(contact: ExportRow, customColumns: readonly string[]): string {
  const [, row, phone, status, outcome, attempts, lastError, callId, updatedAt, customFields, resultText, nextAttemptAt] = contact;
  let line = `${row},${phone},${status},${outcome ?? ""},${attempts},${untrustedCell(lastError ?? "")},${csvField(callId ?? "")},${updatedAt}`;
  const result = resultText === null ? null : (JSON.parse(resultText) as ContactResultView);
  const callbackAt = status === "pending" && outcome === "callback" ? (nextAttemptAt ?? "") : "";
  const resultCells = [
    result?.disposition ?? "",
    result?.summary ?? "",
    callbackAt,
    result?.transcript_url ?? "",
    result?.recording_url ?? "",
    result?.data ? JSON.stringify(result.data) : "",
  ];
  for (const cell of resultCells) line += `,${untrustedCell(cell)}`;
  if (customColumns.length > 0) for (const cell of fieldCells(customFields, customColumns)) line += `,${untrustedCell(cell)}`;
  return `${line}\r\n`;
}

/** Reads the contacts after `afterSeq`, in seq order, at most `limit` of them. */
export type ExportPageReader = (afterSeq: number, limit: number) => Promise<ExportRow[]>;

const SELECTED = "seq, row, phone_number, status, outcome, attempts, last_error, call_id, updated_at, custom_fields, result, next_attempt_at";
/** One page after a seq: a range of the (campaign_id, seq) key. */
export const EXPORT_PAGE_SQL = `SELECT ${SELECTED} FROM contacts WHERE campaign_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`;
/** One page of a settled status after a seq: a range of the settled-status index (which holds no pending contact). */
export const EXPORT_STATUS_PAGE_SQL = `SELECT ${SELECTED} FROM contacts WHERE campaign_id = ?1 AND status = ?4 AND status <> 'pending' AND seq > ?2 ORDER BY seq LIMIT ?3`;
/** One page of pending contacts after a seq: along the key, skipping the settled ones. */
export const EXPORT_PENDING_PAGE_SQL = `SELECT ${SELECTED} FROM contacts WHERE campaign_id = ?1 AND seq > ?2 AND status = 'pending' ORDER BY seq LIMIT ?3`;

/** One page of a disposition (optionally also a status) after a seq: a range of the disposition index, which holds only contacts with a result. */
const EXPORT_DISPOSITION_PAGE_SQL = `SELECT ${SELECTED} FROM contacts
  WHERE campaign_id = ?1 AND disposition = ?4 AND disposition IS NOT NULL AND seq > ?2 AND (?5 IS NULL OR status = ?5) ORDER BY seq LIMIT ?3`;

/** A keyset reader: each page is one index range after the last seq sent, never an OFFSET. */
export function d1ExportPages(db: D1Database, campaignId: string, status: ContactStatus | undefined, disposition?: string): ExportPageReader {
  if (disposition !== undefined) {
    const statement = db.prepare(EXPORT_DISPOSITION_PAGE_SQL);
    return (afterSeq, limit) => statement.bind(campaignId, afterSeq, limit, disposition, status ?? null).raw<ExportRow>();
  }
  const settledStatus = status !== undefined && status !== "pending";
  const statement = db.prepare(settledStatus ? EXPORT_STATUS_PAGE_SQL : status === "pending" ? EXPORT_PENDING_PAGE_SQL : EXPORT_PAGE_SQL);
  return (afterSeq, limit) => {
    const bound = settledStatus ? statement.bind(campaignId, afterSeq, limit, status) : statement.bind(campaignId, afterSeq, limit);
    return bound.raw<ExportRow>();
  };
}

/**
 * The export as a byte stream that reads one page when the reader wants more: the stream holds at
 * most one encoded page besides the one being sent, so memory does not grow with the campaign.
 */
export function contactsCsvStream(readPage: ExportPageReader, customColumns: readonly string[], pageSize = EXPORT_PAGE_SIZE): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let afterSeq = -1;
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const page = await readPage(afterSeq, pageSize);
        let text = started ? "" : csvHeader(customColumns);
        started = true;
        for (const contact of page) text += csvLine(contact, customColumns);
        if (text) controller.enqueue(encoder.encode(text));
        const last = page.at(-1);
        if (last) afterSeq = last[0];
        if (page.length < pageSize) controller.close();
      },
    },
    { highWaterMark: 1 },
  );
}

/** A file name that is safe in any header and file system: the campaign's name as a slug, its id, and the filter. */
export function exportFileName(name: string, campaignId: string, status: ContactStatus | undefined, disposition?: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // the accents NFKD split off: "é" stays "e"
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return `${slug || "campaign"}-${campaignId}${status ? `-${status}` : ""}${disposition ? `-${disposition}` : ""}.csv`;
}
