/**
 * Contacts of one upload chunk into D1: the chunk is one bound JSON object expanded by json_each, so
 * 100k contacts take a handful of statements of six parameters each. Each key is
 * `<seq>:<row><phone>|<timezone>|<expires_at>` (uploads/ingest.ts ContactChunk), its value the
 * custom-field values; seq is counted from `firstSeq`, so an append continues its campaign's order.
 */
const INSERT_CONTACTS_SQL = `INSERT INTO contacts (id, campaign_id, account_id, seq, row, phone_number, custom_fields, timezone, expires_at, status, attempts,
    created_at, updated_at)
  SELECT 'ctc_' || ?1 || printf('%06x', ?6 + seq), ?2, ?3, ?6 + seq, CAST(substr(key, instr(key, ':') + 1) AS INTEGER), substr(key, plus, bar - plus),
         value, nullif(substr(rest, 1, instr(rest, '|') - 1), ''), nullif(substr(rest, instr(rest, '|') + 1), ''), 'pending', 0, ?4, ?4
  FROM (SELECT CAST(key AS INTEGER) AS seq, instr(key, '+') AS plus, instr(key, '|') AS bar, substr(key, instr(key, '|') + 1) AS rest, key, value
        FROM json_each(?5))`;

export interface ContactInsert {
  /** The upload's id stem (ids.ts contactIdStem): the SQL appends each contact's seq. */
  stem: string;
  campaignId: string;
  accountId: string;
  createdAt: string;
  /** The seq of the chunk set's first contact: 0 at create, the campaign's count at an append. */
  firstSeq: number;
}

/** One insert statement per chunk, to run in the batch that writes the rest of the change. */
export function insertContactStatements(db: D1Database, insert: ContactInsert, chunks: readonly { json: string }[]): D1PreparedStatement[] {
  const statement = db.prepare(INSERT_CONTACTS_SQL);
  return chunks.map((chunk) => statement.bind(insert.stem, insert.campaignId, insert.accountId, insert.createdAt, chunk.json, insert.firstSeq));
}
