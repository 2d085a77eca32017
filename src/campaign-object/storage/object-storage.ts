import { Attempts } from "./attempts";
import { CallRecords } from "./call-records";
import { CampaignStateTable } from "./campaign-state";
import { CarrierRequests } from "./carrier-requests";
import { DialEndings } from "./dial-endings";
import { EventLog } from "./event-log";
import { HoldLatches } from "./hold-latches";
import { LedgerMarks } from "./ledger-marks";
import { Timers } from "./timers";
import { WorkingContacts } from "./working-contacts";

/**
 * The campaign object's own SQLite storage, one accessor per group of tables (D1 is the other
 * store: see db/campaign-rows.ts and d1-sync.ts). Every method is synchronous, so callers compose
 * several into one atomic write by not awaiting between them.
 */
export class ObjectStorage {
  readonly campaign: CampaignStateTable;
  readonly contacts: WorkingContacts;
  readonly attempts: Attempts;
  readonly timers: Timers;
  readonly events: EventLog;
  readonly carrierRequests: CarrierRequests;
  readonly calls: CallRecords;
  readonly ledgerMarks: LedgerMarks;
  readonly holds: HoldLatches;
  readonly dialEndings: DialEndings;

  constructor(sql: SqlStorage) {
    this.campaign = new CampaignStateTable(sql);
    this.contacts = new WorkingContacts(sql);
    this.attempts = new Attempts(sql);
    this.timers = new Timers(sql);
    this.events = new EventLog(sql);
    this.carrierRequests = new CarrierRequests(sql);
    this.calls = new CallRecords(sql);
    this.ledgerMarks = new LedgerMarks(sql);
    this.holds = new HoldLatches(sql);
    this.dialEndings = new DialEndings(sql);
  }

  createSchema() {
    for (const table of [
      this.campaign,
      this.contacts,
      this.attempts,
      this.timers,
      this.events,
      this.carrierRequests,
      this.calls,
      this.ledgerMarks,
      this.holds,
      this.dialEndings,
    ])
      table.createSchema();
  }
}
