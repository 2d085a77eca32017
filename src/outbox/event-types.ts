/** The event types a webhook endpoint can subscribe to (SPEC "Results out"). */
export const WEBHOOK_EVENT_TYPES = [
  "campaign.started",
  "campaign.paused",
  "campaign.resumed",
  "campaign.completed",
  "campaign.failed",
  "contact.completed",
  "contact.failed",
  "contact.cancelled",
  "contact.result",
  "ping",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (value: string): value is WebhookEventType => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);

export interface OutboxMessage {
  type: WebhookEventType;
  data: unknown;
  /** Epoch ms of the change the message reports. */
  at: number;
}

/** The body every receiver gets: `{type, timestamp, data}`, serialised once and signed as is. */
export const messageBody = (message: OutboxMessage) =>
  JSON.stringify({ type: message.type, timestamp: new Date(message.at).toISOString(), data: message.data });
