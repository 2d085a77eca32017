import { DEFAULT_RESULT_SETTINGS, type ResultSettings } from "../../call-results/settings";
import type { CampaignStatus, ContactStatus } from "../../db/schema";

/** The campaign as its Durable Object tracks it; D1 mirrors status and counters. */
export interface CampaignState {
  campaign_id: string;
  account_id: string;
  name: string;
  status: CampaignStatus;
  status_reason: string | null;
  max_concurrent_calls: number;
  retries_per_contact: number;
  retry_delay_seconds: number;
  agent_id: string;
  phone_number_id: string;
  scheduled_at: string | null;
  started_at: string | null;
  /** Highest contact seq already read from D1 into the working set. */
  cursor_seq: number;
  exhausted: number;
  backoff_ms: number;
  /** No new dials before this epoch ms (carrier back-off); slots are still returned meanwhile. */
  dial_after: number;
  high_water: number;
  /** The calling window as JSON (calling-window.ts CallingWindow), or null for none. */
  calling_window: string | null;
  /** The upload's custom-field names as a JSON array (custom-fields.ts); null in state saved before it was kept. */
  custom_columns: string | null;
  /** What the campaign does with results and redials (call-results/settings.ts ResultSettings as JSON); null in state saved before it was kept. */
  result_settings: string | null;
  /** The failure breaker's share (null: off) and window (dial/failure-breaker.ts). */
  pause_on_failure_rate: number | null;
  failure_window: number;
  ramp_up_seconds: number;
  /** Epoch ms of the latest start or resume, where the ramp-up begins (0: never started). */
  ramp_started_at: number;
}

export type ContactStats = Record<ContactStatus, number>;

/** The counters as the live feed and webhooks show them: their sum first, as total. */
export type StatsWithTotal = { total: number } & ContactStats;

export const statsWithTotal = (stats: ContactStats): StatsWithTotal => ({ total: Object.values(stats).reduce((sum, n) => sum + n, 0), ...stats });

/** The campaign's custom-field names; none for state saved before they were kept (its contacts name their fields). */
export const customColumnsOfState = (state: CampaignState | null): string[] => (state?.custom_columns ? (JSON.parse(state.custom_columns) as string[]) : []);

/** The campaign's result settings; state saved before they were kept has the defaults. */
export const resultSettingsOfState = (state: CampaignState): ResultSettings =>
  state.result_settings ? (JSON.parse(state.result_settings) as ResultSettings) : DEFAULT_RESULT_SETTINGS;

/** Columns added after the table first shipped, with the value older campaigns get (D1's defaults for the same settings). */
const ADDED_COLUMNS = {
  calling_window: "TEXT",
  custom_columns: "TEXT",
  result_settings: "TEXT",
  pause_on_failure_rate: "REAL DEFAULT 0.8",
  failure_window: "INTEGER NOT NULL DEFAULT 20",
  ramp_up_seconds: "INTEGER NOT NULL DEFAULT 0",
  ramp_started_at: "INTEGER NOT NULL DEFAULT 0",
} as const;

const STATS: readonly ContactStatus[] = ["pending", "originated", "connected", "completed", "failed", "cancelled"];

type Row = Record<string, SqlStorageValue>;

/** The one-row campaign state and the per-status contact counters. */
export class CampaignStateTable {
  /** Write-through copy of the one-row state table: it is read on nearly every call. */
  private cached: CampaignState | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  createSchema() {
    this.cached = undefined;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS campaign_state (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      campaign_id TEXT NOT NULL, account_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT,
      max_concurrent_calls INTEGER NOT NULL, retries_per_contact INTEGER NOT NULL, retry_delay_seconds INTEGER NOT NULL,
      agent_id TEXT NOT NULL, phone_number_id TEXT NOT NULL, scheduled_at TEXT, started_at TEXT,
      cursor_seq INTEGER NOT NULL DEFAULT -1, exhausted INTEGER NOT NULL DEFAULT 0,
      backoff_ms INTEGER NOT NULL DEFAULT 0, dial_after INTEGER NOT NULL DEFAULT 0, high_water INTEGER NOT NULL DEFAULT 0,
      calling_window TEXT, custom_columns TEXT, result_settings TEXT)`);
    // Every column added since the table shipped comes here, for new objects and old ones alike. Old campaigns have no
    // window, their contacts store named fields (which read the same without the column names), and D1's safety defaults.
    for (const [column, type] of Object.entries(ADDED_COLUMNS)) {
      const has = this.sql.exec("SELECT 1 FROM pragma_table_info('campaign_state') WHERE name = ?", column).toArray().length > 0;
      if (!has) this.sql.exec(`ALTER TABLE campaign_state ADD COLUMN ${column} ${type}`);
    }
    this.sql.exec("CREATE TABLE IF NOT EXISTS stats (status TEXT PRIMARY KEY, n INTEGER NOT NULL)");
  }

  get(): CampaignState | null {
    this.cached ??= (this.sql.exec<Row>("SELECT * FROM campaign_state").toArray()[0] as CampaignState | undefined) ?? null;
    return this.cached ? { ...this.cached } : null;
  }

  save(state: CampaignState) {
    this.cached = { ...state };
    const columns = Object.keys(state) as (keyof CampaignState)[];
    this.sql.exec(
      `INSERT OR REPLACE INTO campaign_state (singleton, ${columns.join(", ")}) VALUES (1, ${columns.map(() => "?").join(", ")})`,
      ...columns.map((c) => state[c]),
    );
  }

  patch(patch: Partial<CampaignState>) {
    const current = this.get();
    if (current) this.save({ ...current, ...patch });
  }

  initStats(stats: ContactStats) {
    for (const status of STATS) this.sql.exec("INSERT OR REPLACE INTO stats (status, n) VALUES (?, ?)", status, stats[status]);
  }

  stats(): ContactStats {
    const out = Object.fromEntries(STATS.map((s) => [s, 0])) as ContactStats;
    for (const row of this.sql.exec<{ status: ContactStatus; n: number }>("SELECT status, n FROM stats")) out[row.status] = row.n;
    return out;
  }

  /** Contacts that join the campaign (an append) in `status`. */
  addStat(status: ContactStatus, count: number) {
    if (count !== 0) this.sql.exec("UPDATE stats SET n = n + ? WHERE status = ?", count, status);
  }

  moveStat(from: ContactStatus, to: ContactStatus, count = 1) {
    if (from === to || count === 0) return;
    this.sql.exec("UPDATE stats SET n = n - ? WHERE status = ?", count, from);
    this.sql.exec("UPDATE stats SET n = n + ? WHERE status = ?", count, to);
  }
}
