import { type CallingWindow, isOpen, nextOpening } from "../../calling-window/calling-window";

/** A contact gets at most this many callbacks (SPEC "Call results": a 6th is refused). */
export const MAX_CALLBACKS = 5;

export type CallbackRefusal = { ok: false; reason: "too_many" | "never_opens"; message: string };

/**
 * When a callback asked for `requestedAt` is dialled: then, or the first minute the contact's
 * calling window opens after it (in every zone the number may be in). `zones` as contactZones gives them.
 */
export function callbackDueAt(
  requestedAt: number,
  window: CallingWindow | null,
  zones: readonly string[],
  callbacksSoFar: number,
): { ok: true; dueAt: number } | CallbackRefusal {
  if (callbacksSoFar >= MAX_CALLBACKS) {
    return { ok: false, reason: "too_many", message: `This contact already has ${MAX_CALLBACKS} callbacks, the most one contact can have.` };
  }
  if (!window || isOpen(window, zones, requestedAt)) return { ok: true, dueAt: requestedAt };
  const opening = nextOpening(window, zones, requestedAt);
  if (opening === null)
    return { ok: false, reason: "never_opens", message: "The contact's calling window never opens in all of its zones, so no callback can be placed." };
  return { ok: true, dueAt: opening };
}

/** Retries a contact has used: its dials after the first, less those that were callbacks (callbacks use no retry). */
export const retriesUsed = (attempts: number, callbacks: number) => Math.max(0, attempts - 1 - callbacks);
