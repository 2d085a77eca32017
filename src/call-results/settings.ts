import type { CampaignRow } from "../db/campaign-rows";
import { badRequest, quoted } from "../http/errors";
import { DEFAULT_RETRY_ON, RETRY_ON_CHOICES, type RetryOutcome } from "./redial";
import { DISPOSITION_PATTERN } from "./result-input";

type VoicemailAction = "agent" | "hangup" | "message";

/** What a campaign does with results and unanswered calls: declared dispositions, the outcomes retried, what a machine hears. */
export interface ResultSettings {
  /** null: any disposition name is taken. */
  dispositions: string[] | null;
  retryOn: RetryOutcome[];
  voicemail: { action: VoicemailAction; message: string | null; audioUrl: string | null };
}

const MAX_DISPOSITIONS = 100;
const MAX_VOICEMAIL_MESSAGE_CHARS = 1_000;

export const DEFAULT_RESULT_SETTINGS: ResultSettings = {
  dispositions: null,
  retryOn: [...DEFAULT_RETRY_ON],
  voicemail: { action: "agent", message: null, audioUrl: null },
};

/** A comma list (form) or the comma-joined JSON array: names, trimmed, empty entries dropped. */
const listOf = (raw: string) =>
  raw
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");

function parseDispositions(raw: string): string[] | null {
  const names = listOf(raw);
  if (names.length === 0) return null;
  const bad = names.find((name) => !DISPOSITION_PATTERN.test(name));
  if (bad !== undefined) throw badRequest(`dispositions has ${quoted(bad)}: each name must be 1–64 characters of a-z, 0-9 and _ (such as interested).`);
  if (names.length > MAX_DISPOSITIONS) throw badRequest(`dispositions lists ${names.length} names; a campaign declares at most ${MAX_DISPOSITIONS}.`);
  return [...new Set(names)];
}

function parseRetryOn(raw: string): RetryOutcome[] {
  const names = listOf(raw);
  const bad = names.filter((name) => !(RETRY_ON_CHOICES as readonly string[]).includes(name));
  if (bad.length > 0) throw badRequest(`retry_on has ${bad.slice(0, 5).map(quoted).join(", ")}; use any of ${RETRY_ON_CHOICES.join(", ")}.`);
  return RETRY_ON_CHOICES.filter((o) => names.includes(o));
}

const isHttps = (raw: string) => {
  try {
    return new URL(raw).protocol === "https:";
  } catch {
    return false;
  }
};

function parseVoicemail(text: (name: string) => string | undefined, inherited: ResultSettings["voicemail"]): ResultSettings["voicemail"] {
  const actionText = text("voicemail_action")?.trim();
  const messageText = text("voicemail_message");
  const audioText = text("voicemail_audio_url")?.trim();
  const given = actionText !== undefined && actionText !== "";
  const action = given ? actionText : messageText !== undefined || audioText !== undefined ? "message" : inherited.action;
  if (action !== "agent" && action !== "hangup" && action !== "message") {
    throw badRequest(`voicemail_action must be agent, hangup or message; got ${quoted(actionText)}.`);
  }
  if (action !== "message") {
    if ((messageText ?? "") !== "" || (audioText ?? "") !== "")
      throw badRequest(`voicemail_message and voicemail_audio_url go with voicemail_action message, not ${action}.`);
    return { action, message: null, audioUrl: null };
  }
  // A clone that only changes the action to message keeps the source's message, if it had one.
  const message = messageText !== undefined ? messageText.trim() || null : audioText !== undefined ? null : inherited.message;
  const audioUrl = audioText !== undefined ? audioText || null : messageText !== undefined ? null : inherited.audioUrl;
  if ((message === null) === (audioUrl === null)) {
    throw badRequest("voicemail_action message needs exactly one of voicemail_message (text the carrier speaks) or voicemail_audio_url (an https audio file).");
  }
  if (message !== null && message.length > MAX_VOICEMAIL_MESSAGE_CHARS) {
    throw badRequest(`voicemail_message must be at most ${MAX_VOICEMAIL_MESSAGE_CHARS} characters; it has ${message.length}.`);
  }
  if (audioUrl !== null && (!isHttps(audioUrl) || audioUrl.length > 2_048))
    throw badRequest("voicemail_audio_url must be an https:// URL of at most 2,048 characters.");
  return { action, message, audioUrl };
}

/**
 * The result settings of create (or a clone, which inherits its source's for fields left out); each
 * problem is reported against its field through `field` (create throws the first, preflight lists them).
 */
export function parseResultSettings(
  text: (name: string) => string | undefined,
  inherited: ResultSettings | undefined,
  field: <T>(name: string, rule: () => T, fallback: T) => T,
): ResultSettings {
  const base = inherited ?? DEFAULT_RESULT_SETTINGS;
  const given = (name: string) => text(name);
  return {
    dispositions: field(
      "dispositions",
      () => (given("dispositions") === undefined ? base.dispositions : parseDispositions(given("dispositions") as string)),
      null,
    ),
    retryOn: field("retry_on", () => (given("retry_on") === undefined ? base.retryOn : parseRetryOn(given("retry_on") as string)), base.retryOn),
    voicemail: field("voicemail_action", () => parseVoicemail(given, base.voicemail), base.voicemail),
  };
}

/** The D1 columns for the settings. */
export const resultSettingsColumns = (settings: ResultSettings) => ({
  dispositions: settings.dispositions && JSON.stringify(settings.dispositions),
  retryOn: JSON.stringify(settings.retryOn),
  voicemailAction: settings.voicemail.action,
  voicemailMessage: settings.voicemail.message,
  voicemailAudioUrl: settings.voicemail.audioUrl,
});

/** The settings a campaign row holds (a row from before these settings has the defaults). */
export function resultSettingsOf(
  row: Pick<CampaignRow, "dispositions" | "retryOn" | "voicemailAction" | "voicemailMessage" | "voicemailAudioUrl">,
): ResultSettings {
  return {
    dispositions: row.dispositions ? (JSON.parse(row.dispositions) as string[]) : null,
    retryOn: row.retryOn ? (JSON.parse(row.retryOn) as RetryOutcome[]) : [...DEFAULT_RETRY_ON],
    voicemail: { action: row.voicemailAction, message: row.voicemailMessage, audioUrl: row.voicemailAudioUrl },
  };
}

/** The campaign view's fields for the settings. */
export function resultSettingsView(settings: ResultSettings) {
  return {
    dispositions: settings.dispositions,
    retry_on: settings.retryOn,
    voicemail_action: settings.voicemail.action,
    voicemail_message: settings.voicemail.message,
    voicemail_audio_url: settings.voicemail.audioUrl,
  };
}
