import type { ApiError } from "../http/errors";

/** One thing wrong with a create request, where it is: `row` as create numbers rows; null for a form field or the whole upload. */
export interface UploadProblem {
  row: number | null;
  value: string | null;
  reason: string;
}

/** How many problems preflight lists; its count covers all of them. */
export const MAX_REPORTED_PROBLEMS = 100;
/** How many rows one of create's 400s names before it summarises the rest. */
const MAX_LISTED_ROWS = 20;
/** Longest cell echoed back in a problem: enough to recognise it. */
const SHOWN_CHARS = 64;

export const shown = (text: string, max = SHOWN_CHARS) => (text.length > max ? `${text.slice(0, max)}…` : text);
export const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

/**
 * Problems of one kind, in row order: all counted, the first few kept as preflight lists them and
 * as create's 400 names them (`listed`, its own wording per row).
 */
export class ProblemList {
  readonly kept: UploadProblem[] = [];
  readonly listed: string[] = [];
  count = 0;

  add(problem: UploadProblem, listed: string) {
    this.count++;
    if (this.kept.length < MAX_REPORTED_PROBLEMS) this.kept.push(problem);
    if (this.listed.length < MAX_LISTED_ROWS) this.listed.push(listed);
  }

  /** ", row 2 (…), row 5 (…) and 3 more" as create writes it. */
  summary(): string {
    const more = this.count > this.listed.length ? ` and ${this.count - this.listed.length} more` : "";
    return `${this.listed.join(", ")}${more}`;
  }
}

/** What preflight reports of an upload whose refusal (if any) create would answer with. */
export function reportedProblems(lists: readonly ProblemList[], refusal: ApiError | null): { problems: UploadProblem[]; count: number } {
  const count = lists.reduce((n, list) => n + list.count, 0);
  // A problem of the whole upload (its header, or no contacts at all) is then the only one there is.
  if (refusal && count === 0) return { problems: [{ row: null, value: null, reason: refusal.message }], count: 1 };
  const rows = lists.flatMap((list) => list.kept).sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  return { problems: rows.slice(0, MAX_REPORTED_PROBLEMS), count };
}
