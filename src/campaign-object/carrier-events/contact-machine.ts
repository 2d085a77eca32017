import { DEFAULT_RETRY_ON } from "../../call-results/redial";
import { type CallEvent, type CallProgress, FINAL_PROGRESS, sipIsInvalidNumber } from "../../carriers/types";
import type { ContactStatus } from "../../db/schema";
import { retriesUsed } from "../results/callback-rules";

export type CallOutcome = "answered" | "voicemail" | "busy" | "no_answer" | "failed" | "invalid_number" | "canceled" | "timeout";

export const RETRYABLE_OUTCOMES: ReadonlySet<CallOutcome> = new Set(DEFAULT_RETRY_ON);

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
  /** Epoch ms of the next dial when the contact goes back to pending for a retry or a callback. */
  nextAttemptAt: number | null;
  /** True when it waits for a callback the agent asked for (its outcome shows `callback`). */
  callback: boolean;
}

/** What a campaign says about redialling, beyond its retry count and delay. */
export interface RedialRules {
  /** The outcomes retried (SPEC `retry_on`); default RETRYABLE_OUTCOMES. */
  retryOn?: ReadonlySet<CallOutcome>;
  /** Callbacks scheduled so far: their dials use no retry. */
  callbacks?: number;
  /** A callback the agent asked for during this call, due then (already moved into the calling window). */
  callbackAt?: number | null;
}

/** Where a contact goes after an attempt ends (SPEC "Retries", "Call results"). */
export function settleContact(
  outcome: CallOutcome,
  attempts: number,
  retriesPerContact: number,
  retryDelayMs: number,
  now: number,
  canRetry: boolean,
  rules: RedialRules = {},
): Settlement {
  const { retryOn = RETRYABLE_OUTCOMES, callbacks = 0, callbackAt = null } = rules;
  if (canRetry && callbackAt !== null) return { status: "pending", nextAttemptAt: callbackAt, callback: true };
  if (canRetry && retryOn.has(outcome) && outcome !== "invalid_number" && retriesUsed(attempts, callbacks) < retriesPerContact) {
    return { status: "pending", nextAttemptAt: now + retryDelayMs, callback: false };
  }
  if (outcome === "answered" || outcome === "voicemail") return { status: "completed", nextAttemptAt: null, callback: false };
  if (outcome === "canceled") return { status: "cancelled", nextAttemptAt: null, callback: false };
  return { status: "failed", nextAttemptAt: null, callback: false };
}
