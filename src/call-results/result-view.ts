import type { CallResultInput } from "./result-input";

/** A contact's `result` as the API shows it and D1 stores it (JSON in contacts.result). */
export interface ContactResultView {
  disposition: string;
  data: Record<string, string | number | boolean | null> | null;
  summary: string | null;
  transcript_url: string | null;
  recording_url: string | null;
  call_id: string;
  reported_at: string;
}

export const resultView = (input: CallResultInput, callId: string, reportedAt: string): ContactResultView => ({
  disposition: input.disposition,
  data: input.data ?? null,
  summary: input.summary ?? null,
  transcript_url: input.transcript_url ?? null,
  recording_url: input.recording_url ?? null,
  call_id: callId,
  reported_at: reportedAt,
});
