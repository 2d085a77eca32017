import type { FamilyCallRow } from "./plivo-wire";
import type { TwilioCallRow } from "./twilio-wire";

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

/** A Twilio status callback as it leaves: the call's status, duration and answered_by move with it. */
export function recordTwilioStatus(sql: SqlStorage, params: Record<string, string>) {
  sql.exec(
    "UPDATE calls SET status = ?, duration = ?, answered_by = coalesce(?, answered_by) WHERE sid = ?",
    params.CallStatus ?? "queued",
    Number(params.CallDuration ?? 0),
    params.AnsweredBy ?? null,
    params.CallSid ?? "",
  );
}

/** One request a call will make, due at dueAt (ms); method and role only for the Plivo-family dialects. */
export function insertDelivery(
  sql: SqlStorage,
  sid: string,
  dueAt: number,
  delivery: { url: string; params: Record<string, string>; method?: "GET" | "POST"; role?: string },
) {
  sql.exec(
    "INSERT INTO deliveries (sid, due_at, url, params, method, role) VALUES (?, ?, ?, ?, ?, ?)",
    sid,
    dueAt,
    delivery.url,
    JSON.stringify(delivery.params),
    delivery.method ?? "POST",
    delivery.role ?? null,
  );
}

export function callBySid(sql: SqlStorage, sid: string): TwilioCallRow | undefined {
  return sql.exec<Row>("SELECT * FROM calls WHERE sid = ?", sid).toArray()[0] as unknown as TwilioCallRow | undefined;
}

/** A Plivo-family call of this account by its CallUUID or its request_uuid. */
export function familyCallById(sql: SqlStorage, authId: string, id: string): FamilyCallRow | undefined {
  return sql.exec<Row>("SELECT * FROM calls WHERE account_sid = ? AND (sid = ? OR request_uuid = ?) LIMIT 1", authId, id, id).toArray()[0] as unknown as
    | FamilyCallRow
    | undefined;
}

/** A new call, queued; the Twilio dialect leaves dialect at its default and has no request_uuid. */
export function insertCall(
  sql: SqlStorage,
  call: {
    sid: string;
    accountSid: string;
    to: string;
    from: string;
    outcome: string;
    createdAt: number;
    authToken: string;
    dialect?: string;
    requestUuid?: string;
  },
) {
  sql.exec(
    `INSERT INTO calls (sid, account_sid, to_number, from_number, status, outcome, created_at, auth_token, dialect, request_uuid)
     VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)`,
    call.sid,
    call.accountSid,
    call.to,
    call.from,
    call.outcome,
    call.createdAt,
    call.authToken,
    call.dialect ?? "twilio",
    call.requestUuid ?? null,
  );
}

/** Twilio's Calls.json listing: this account's newest 50, by exact To and From when given. */
export function twilioCallsOf(sql: SqlStorage, accountSid: string, to: string | null, from: string | null): TwilioCallRow[] {
  return sql
    .exec<Row>(
      "SELECT * FROM calls WHERE account_sid = ? AND (? IS NULL OR to_number = ?) AND (? IS NULL OR from_number = ?) ORDER BY created_at DESC LIMIT 50",
      accountSid,
      to,
      to,
      from,
      from,
    )
    .toArray() as unknown as TwilioCallRow[];
}
