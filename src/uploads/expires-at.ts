/** RFC 3339 date-time: a date, a time with optional fractions, and Z or an offset. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The latest expiry taken: Durable Object alarms refuse dates after 2189, and a due time is armed at the expiry. */
const LATEST_EXPIRY_MS = Date.UTC(2189, 0, 1);

/** The date part names a real day (Date.parse would roll 2030-02-31 over into March). */
function isCalendarDate(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * A row's expires_at cell as epoch ms, null when empty, or the sentence saying what is wrong with it.
 * A time already past is taken: the contact is then never dialled, which is what its sender asked for.
 */
export function readExpiresAt(cell: string | undefined): number | null | { problem: string } {
  const text = cell?.trim() ?? "";
  if (text === "") return null;
  const ms = RFC3339.test(text) && isCalendarDate(text) ? Date.parse(text.replace(" ", "T")) : Number.NaN;
  if (Number.isNaN(ms)) return { problem: "expires_at is not an RFC 3339 time; write it like 2030-01-31T18:00:00Z, or leave it empty." };
  if (ms >= LATEST_EXPIRY_MS) return { problem: "expires_at is after 2188; give a nearer time, or leave it empty for no expiry." };
  return ms;
}
