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
