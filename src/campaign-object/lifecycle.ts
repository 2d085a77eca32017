import type { CampaignStatus } from "../db/schema";

export type LifecycleAction = "start" | "pause" | "resume" | "stop" | "delete";

export type Transition = { ok: true; to: CampaignStatus; changed: boolean; budget: "reserve" | "release" | "keep" } | { ok: false; reason: string };

const TERMINAL: ReadonlySet<CampaignStatus> = new Set(["completed", "failed"]);

export const isTerminal = (status: CampaignStatus) => TERMINAL.has(status);

/** The campaign status machine (SPEC "Lifecycle"); the CampaignDO persists what it decides. */
export function decideTransition(from: CampaignStatus, action: LifecycleAction): Transition {
  const refuse = (what: string): Transition => ({ ok: false, reason: `The campaign is ${from}; ${what}` });
  switch (action) {
    case "start":
      if (from === "draft" || from === "paused" || from === "scheduled") return { ok: true, to: "running", changed: true, budget: "reserve" };
      return refuse(from === "running" ? "it is already running." : "a finished campaign cannot be started again; create a new one.");
    case "pause":
      if (from === "running") return { ok: true, to: "paused", changed: true, budget: "release" };
      return refuse("only a running campaign can be paused.");
    case "resume":
      if (from === "paused") return { ok: true, to: "running", changed: true, budget: "reserve" };
      return refuse("only a paused campaign can be resumed.");
    case "stop":
      if (isTerminal(from)) return { ok: true, to: from, changed: false, budget: "keep" };
      return { ok: true, to: "completed", changed: true, budget: "release" };
    case "delete":
      if (from === "running") return refuse("pause or stop it before deleting it.");
      return { ok: true, to: from, changed: true, budget: "release" };
  }
}
