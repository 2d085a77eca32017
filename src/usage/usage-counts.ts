/**
 * What this isolate has asked of the platform since it started, in the units Cloudflare bills:
 * Worker requests, Durable Object requests and alarms, D1 rows read and written. Kept only where
 * metering is switched on (see meteringOn); `wrangler dev` runs the Worker and every object of
 * this script in one isolate, so one set of counters sees them all.
 */

/** One SQL text's share of the D1 totals; the key is the statement's first characters. */
interface StatementUsage {
  queries: number;
  rowsRead: number;
  rowsWritten: number;
}

const counts = {
  workerRequests: 0,
  /** Carrier callbacks the simulator hands to the app in-process: each is a Worker request in production. */
  carrierCallbacks: 0,
  objectRequests: {} as Record<string, number>,
  alarms: {} as Record<string, number>,
  d1: { queries: 0, rowsRead: 0, rowsWritten: 0 },
  statements: new Map<string, StatementUsage>(),
};

/** Statement texts kept apart; past this many, the rest share one line so the map stays bounded. */
const MAX_STATEMENTS = 300;
const STATEMENT_KEY_LENGTH = 160;

export function countWorkerRequest() {
  counts.workerRequests++;
}

export function countCarrierCallback() {
  counts.carrierCallbacks++;
}

export function countObjectRequest(namespace: string) {
  counts.objectRequests[namespace] = (counts.objectRequests[namespace] ?? 0) + 1;
}

export function countAlarm(objectClass: string) {
  counts.alarms[objectClass] = (counts.alarms[objectClass] ?? 0) + 1;
}

export function countD1(sql: string, meta: { rows_read?: number; rows_written?: number } | undefined) {
  const rowsRead = meta?.rows_read ?? 0;
  const rowsWritten = meta?.rows_written ?? 0;
  counts.d1.queries++;
  counts.d1.rowsRead += rowsRead;
  counts.d1.rowsWritten += rowsWritten;
  let key = sql.replace(/\s+/g, " ").trim().slice(0, STATEMENT_KEY_LENGTH);
  if (!counts.statements.has(key) && counts.statements.size >= MAX_STATEMENTS) key = "(other statements)";
  const line = counts.statements.get(key) ?? { queries: 0, rowsRead: 0, rowsWritten: 0 };
  line.queries++;
  line.rowsRead += rowsRead;
  line.rowsWritten += rowsWritten;
  counts.statements.set(key, line);
}

/** The totals so far, with the statements that wrote or read most first. */
export function usageReport() {
  const statements = [...counts.statements.entries()]
    .map(([sql, usage]) => ({ sql, queries: usage.queries, rows_read: usage.rowsRead, rows_written: usage.rowsWritten }))
    .sort((a, b) => b.rows_written - a.rows_written || b.rows_read - a.rows_read);
  return {
    worker_requests: counts.workerRequests,
    carrier_callbacks: counts.carrierCallbacks,
    object_requests: { ...counts.objectRequests },
    alarms: { ...counts.alarms },
    d1: { queries: counts.d1.queries, rows_read: counts.d1.rowsRead, rows_written: counts.d1.rowsWritten },
    statements,
  };
}
