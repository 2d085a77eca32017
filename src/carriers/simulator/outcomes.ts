/** What the simulator does with a call, by the last two digits of the number dialled (SPEC table). */
export type SimulatedOutcome = "answered" | "long_call" | "busy" | "no_answer" | "failed" | "voicemail" | "invalid_number";

export function outcomeFor(to: string): SimulatedOutcome {
  const last2 = Number(to.slice(-2));
  if (last2 === 99) return "long_call";
  if (last2 === 98) return "invalid_number";
  if (last2 >= 95) return "voicemail";
  if (last2 >= 90) return "failed";
  if (last2 >= 80) return "no_answer";
  if (last2 >= 70) return "busy";
  return "answered";
}

/**
 * Whether the carrier refuses to move this live call (Plivo's and Vobiz's transfer-call API), by
 * the third- and fourth-last digits 50–59 (docs/simulator.md), so tests reach the fallback.
 */
export function refusesTransfer(to: string): boolean {
  const digits = to.replace(/\D/g, "");
  return digits.length >= 4 && digits.slice(-4, -2).startsWith("5");
}

export interface TimelineStep {
  /** Seconds after the call was placed, before scaling. */
  at: number;
  status: "initiated" | "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed";
  extra?: Record<string, string>;
}

const RING_S = 5;
const TALK_S = 30;
const LONG_TALK_S = 300;
const VOICEMAIL_S = 20;

/** Twilio's event order for each outcome; durations are real seconds before SIMULATOR_TIME_SCALE. */
export function timelineFor(outcome: Exclude<SimulatedOutcome, "invalid_number">, ringTimeoutS: number): TimelineStep[] {
  const start: TimelineStep[] = [
    { at: 0, status: "initiated" },
    { at: 0.5, status: "ringing" },
  ];
  switch (outcome) {
    case "answered":
    case "long_call": {
      const talk = outcome === "answered" ? TALK_S : LONG_TALK_S;
      return [
        ...start,
        { at: RING_S, status: "in-progress", extra: { AnsweredBy: "human" } },
        { at: RING_S + talk, status: "completed", extra: { AnsweredBy: "human", CallDuration: String(talk) } },
      ];
    }
    case "voicemail":
      return [
        ...start,
        { at: 4, status: "in-progress", extra: { AnsweredBy: "machine_end_beep" } },
        { at: 4 + VOICEMAIL_S, status: "completed", extra: { AnsweredBy: "machine_end_beep", CallDuration: String(VOICEMAIL_S) } },
      ];
    case "busy":
      return [...start, { at: 3, status: "busy", extra: { CallDuration: "0", SipResponseCode: "486" } }];
    case "no_answer":
      return [...start, { at: ringTimeoutS, status: "no-answer", extra: { CallDuration: "0", SipResponseCode: "487" } }];
    case "failed":
      return [
        { at: 0, status: "initiated" },
        { at: 1, status: "failed", extra: { CallDuration: "0", SipResponseCode: "503" } },
      ];
  }
}

/** One request of a Plivo-family call: which URL it goes to, and what it says. */
export interface FamilyStep {
  at: number;
  role: "ring" | "answer" | "machine" | "hangup";
  status: "ringing" | "in-progress" | "completed" | "busy" | "no-answer" | "failed";
  cause?: { name: string; code: number };
  duration?: number;
  machine?: boolean;
}

const NORMAL = { name: "Normal Hangup", code: 4000 };

/**
 * The same outcomes and timings as Twilio's timeline, in Plivo's order (ring_url, answer_url,
 * machine_detection_url, hangup_url). An invalid number is accepted at REST, then hung up with
 * cause 2000, as Plivo and Vobiz do.
 */
export function familyTimelineFor(outcome: SimulatedOutcome, ringTimeoutS: number): FamilyStep[] {
  const ring: FamilyStep = { at: 0.5, role: "ring", status: "ringing" };
  switch (outcome) {
    case "answered":
    case "long_call": {
      const talk = outcome === "answered" ? TALK_S : LONG_TALK_S;
      return [
        ring,
        { at: RING_S, role: "answer", status: "in-progress" },
        { at: RING_S + talk, role: "hangup", status: "completed", cause: NORMAL, duration: talk },
      ];
    }
    case "voicemail":
      return [
        ring,
        { at: 4, role: "answer", status: "in-progress" },
        { at: 5, role: "machine", status: "in-progress", machine: true },
        { at: 4 + VOICEMAIL_S, role: "hangup", status: "completed", cause: NORMAL, duration: VOICEMAIL_S, machine: true },
      ];
    case "busy":
      return [ring, { at: 3, role: "hangup", status: "busy", cause: { name: "Busy Line", code: 3000 }, duration: 0 }];
    case "no_answer":
      return [ring, { at: ringTimeoutS, role: "hangup", status: "no-answer", cause: { name: "No Answer", code: 3020 }, duration: 0 }];
    case "failed":
      return [{ at: 1, role: "hangup", status: "failed", cause: { name: "Destination Out Of Service", code: 2010 }, duration: 0 }];
    case "invalid_number":
      return [{ at: 0.5, role: "hangup", status: "failed", cause: { name: "Invalid Destination Address", code: 2000 }, duration: 0 }];
  }
}
