type Row = Record<string, SqlStorageValue>;

function addColumns(sql: SqlStorage, table: string, columns: string[]) {
  const existing = new Set(
    sql
      .exec<Row>(`PRAGMA table_info(${table})`)
      .toArray()
      .map((c) => String(c.name)),
  );
  for (const column of columns) if (!existing.has(column.split(" ")[0] as string)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
}

/** The simulator's calls and their due callbacks; idempotent, run under blockConcurrencyWhile. */
export function createSimulatorSchema(sql: SqlStorage) {
  sql.exec(`CREATE TABLE IF NOT EXISTS calls (
    sid TEXT PRIMARY KEY, account_sid TEXT NOT NULL, to_number TEXT NOT NULL, from_number TEXT NOT NULL,
    status TEXT NOT NULL, outcome TEXT NOT NULL, created_at INTEGER NOT NULL, duration INTEGER NOT NULL DEFAULT 0,
    answered_by TEXT, auth_token TEXT NOT NULL)`);
  sql.exec("CREATE INDEX IF NOT EXISTS calls_to ON calls (to_number, created_at)");
  sql.exec(`CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sid TEXT NOT NULL, due_at INTEGER NOT NULL, url TEXT NOT NULL,
    params TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)`);
  sql.exec("CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due_at, id)");
  // Columns of the Plivo-family dialects, added in place so a simulator kept by `wrangler dev` keeps its calls.
  addColumns(sql, "calls", [
    "dialect TEXT NOT NULL DEFAULT 'twilio'",
    "request_uuid TEXT",
    "hangup_cause TEXT",
    "hangup_code INTEGER",
    "answered_at INTEGER",
    "ended_at INTEGER",
    "answer_doc TEXT",
  ]);
  addColumns(sql, "deliveries", ["method TEXT NOT NULL DEFAULT 'POST'", "role TEXT"]);
  sql.exec("CREATE INDEX IF NOT EXISTS calls_request ON calls (request_uuid)");
}

/** A Plivo-family request as it leaves: the call's status, cause and times move with it, as the carrier's would. */
export function recordFamilyStatus(sql: SqlStorage, sid: string, params: Record<string, string>) {
  const now = Date.now();
  const final = params.Event === "Hangup";
  sql.exec(
    `UPDATE calls SET status = CASE WHEN ? THEN ? WHEN status IN ('queued', 'ringing') OR ? = 'in-progress' THEN ? ELSE status END,
       duration = coalesce(?, duration), hangup_cause = coalesce(?, hangup_cause), hangup_code = coalesce(?, hangup_code),
       answered_by = CASE WHEN ? = 'true' THEN 'machine_start' ELSE answered_by END,
       answered_at = CASE WHEN ? = 'in-progress' THEN coalesce(answered_at, ?) ELSE answered_at END,
       ended_at = CASE WHEN ? THEN ? ELSE ended_at END
     WHERE sid = ?`,
    final ? 1 : 0,
    params.CallStatus ?? "completed",
    params.CallStatus ?? "",
    params.CallStatus ?? "ringing",
    params.Duration === undefined ? null : Number(params.Duration),
    params.HangupCause ?? null,
    params.HangupCauseCode === undefined ? null : Number(params.HangupCauseCode),
    params.Machine ?? "",
    params.CallStatus ?? "",
    now,
    final ? 1 : 0,
    now,
    sid,
  );
}
