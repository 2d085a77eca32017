/**
 * edgedial's id for one dial (`call_…`), handed to the agent with its result URL. It carries the
 * campaign's id and the attempt's, so a result reaches the campaign's object with no lookup table:
 * `call_` + the 26 characters after `cmp_` + the 26 after `att_`.
 */
const BODY = "[0-9a-hjkmnp-tv-z]{26}";
const CALL_ID = new RegExp(`^call_(${BODY})(${BODY})$`);

export function callIdOf(campaignId: string, attemptId: string): string {
  return `call_${campaignId.slice("cmp_".length)}${attemptId.slice("att_".length)}`;
}

/** The campaign and attempt a call id names, or null when it is not one of ours. */
export function parseCallId(callId: string): { campaignId: string; attemptId: string } | null {
  const match = CALL_ID.exec(callId);
  return match ? { campaignId: `cmp_${match[1]}`, attemptId: `att_${match[2]}` } : null;
}
