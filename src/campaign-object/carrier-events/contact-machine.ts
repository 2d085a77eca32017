import { type CallEvent, type CallProgress, FINAL_PROGRESS, sipIsInvalidNumber } from "../../carriers/types";
import type { ContactStatus } from "../../db/schema";

export type CallOutcome = "answered" | "voicemail" | "busy" | "no_answer" | "failed" | "invalid_number" | "canceled" | "timeout";

const RETRYABLE_OUTCOMES: ReadonlySet<CallOutcome> = new Set(["busy", "no_answer", "failed", "timeout"]);

/** How far a call has got; events that would not advance it are duplicates or arrived late. */
function progressRank(progress: CallProgress): number {
  switch (progress) {
    case "queued":
      return 0;
    case "initiated":
      return 1;
    case "ringing":
      return 2;
    case "in-progress":
      return 3;
    default:
      return 4;
  }
}

function outcomeOf(event: CallEvent): CallOutcome {
  switch (event.progress) {
    case "completed":
      return event.answeredBy?.startsWith("machine") ? "voicemail" : "answered";
    case "busy":
      return "busy";
    case "no-answer":
      return "no_answer";
    case "timeout":
      return "timeout";
    case "canceled":
      return "canceled";
    default:
      return sipIsInvalidNumber(event.sipCode) ? "invalid_number" : "failed";
  }
}

export type EventDecision =
  | { kind: "ignore" }
  | { kind: "progress"; rank: number; contactStatus: "originated" | "connected" }
  | { kind: "final"; outcome: CallOutcome; talkSeconds: number };

/** Applies one carrier event to an attempt at `rank`: monotonic, so reordering and duplicates change nothing. */
export function applyCallEvent(rank: number, ended: boolean, event: CallEvent): EventDecision {
  if (ended) return { kind: "ignore" };
  if (FINAL_PROGRESS.has(event.progress)) {
    const outcome = outcomeOf(event);
    const talked = outcome === "answered" || outcome === "voicemail";
    return { kind: "final", outcome, talkSeconds: talked ? Math.max(0, event.durationSeconds ?? 0) : 0 };
  }
  const next = progressRank(event.progress);
  if (next <= rank) return { kind: "ignore" };
  return { kind: "progress", rank: next, contactStatus: next >= 3 ? "connected" : "originated" };
}

export interface Settlement {
  status: ContactStatus;
  /** Epoch ms of the next dial when the contact goes back to pending for a retry. */
  nextAttemptAt: number | null;
}

/** Where a contact goes after an attempt ends (SPEC "Retries"). */
export function settleContact(
  outcome: CallOutcome,
  attempts: number,
  retriesPerContact: number,
  retryDelayMs: number,
  now: number,
  canRetry: boolean,
): Settlement {
  if (outcome === "answered" || outcome === "voicemail") return { status: "completed", nextAttemptAt: null };
  if (outcome === "canceled") return { status: "cancelled", nextAttemptAt: null };
  if (canRetry && RETRYABLE_OUTCOMES.has(outcome) && attempts <= retriesPerContact) return { status: "pending", nextAttemptAt: now + retryDelayMs };
  return { status: "failed", nextAttemptAt: null };
}
