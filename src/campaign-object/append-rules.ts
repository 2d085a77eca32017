import type { CampaignStatus } from "../db/schema";

/** The most contacts one campaign holds, appends included (SPEC "Safe operations"). */
export const MAX_CAMPAIGN_CONTACTS = 1_000_000;

/** Campaigns that take more contacts: those that have not finished. A stopped campaign is completed, so it takes none. */
const APPENDABLE: ReadonlySet<CampaignStatus> = new Set(["draft", "scheduled", "paused", "running"]);

export type AppendRefusal = { reason: "finished" | "too_many"; message: string };

/** Whether `adding` new contacts may join a campaign in `status` that holds `total`; null when they may. */
export function appendRefusal(status: CampaignStatus, total: number, adding: number): AppendRefusal | null {
  if (!APPENDABLE.has(status)) {
    return {
      reason: "finished",
      message: `The campaign is ${status}, so it takes no more contacts; clone it, or create a new campaign with them.`,
    };
  }
  if (total + adding > MAX_CAMPAIGN_CONTACTS) {
    return {
      reason: "too_many",
      message:
        `The campaign holds ${total.toLocaleString("en-US")} contacts and this upload adds ${adding.toLocaleString("en-US")}: ` +
        `a campaign holds at most ${MAX_CAMPAIGN_CONTACTS.toLocaleString("en-US")}. Put the rest in another campaign. Nothing was added.`,
    };
  }
  return null;
}
