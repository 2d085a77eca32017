import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { vi } from "vitest";
import { getAccountStub } from "../src/accounts/stub";
import { getCampaignStub } from "../src/campaign-object/stub";
import { getWebhookSink, type ReceivedWebhook, type SinkBehaviour } from "../src/outbox/webhook-sink-do";
import { BASE, call, json, jsonInit, type Tenant } from "./helpers";

export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  secret?: string;
}

export interface DeliveryView {
  message_id: string;
  type: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
}

let sinks = 0;
/** A fresh sink per call, reached in-process through ownOrigin (its origin is PUBLIC_BASE_URL). */
export const newSink = (stem = "sink") => `${stem}-${Date.now().toString(36)}-${(sinks++).toString(36)}`;
export const sinkUrl = (name: string) => `${BASE}/simulator/webhook-sink/${name}`;
export const configureSink = (name: string, behaviour: SinkBehaviour) => getWebhookSink(env, name).configure(behaviour);
export const received = (name: string): Promise<ReceivedWebhook[]> => getWebhookSink(env, name).received();

export async function createEndpoint(t: Tenant, body: Record<string, unknown>): Promise<EndpointView & { secret: string }> {
  const res = await call("/api/v1/webhooks", jsonInit("POST", body, t.auth));
  if (res.status !== 201) throw new Error(`endpoint create failed: ${res.status} ${await res.text()}`);
  return json(res);
}

export const sendTest = async (t: Tenant, id: string) => {
  const res = await call(`/api/v1/webhooks/${id}/test`, { method: "POST", headers: t.auth });
  if (res.status !== 202) throw new Error(`test failed: ${res.status} ${await res.text()}`);
  return (await json<{ message_id: string }>(res)).message_id;
};

export const deliveries = async (t: Tenant, id: string, query = "") =>
  json<{ deliveries: DeliveryView[]; total: number }>(await call(`/api/v1/webhooks/${id}/deliveries${query}`, { headers: t.auth }));

export const accountStub = (t: Tenant) => getAccountStub(env, t.accountId);

/**
 * Runs the account's outbox on simulated time: fire its alarm, wait for requests in flight, then
 * jump the clock to the next alarm, until nothing is due before `until` (epoch ms).
 */
export async function runAccountOutbox(t: Tenant, until: number, maxSteps = 500): Promise<void> {
  const stub = accountStub(t);
  for (let i = 0; i < maxSteps; i++) {
    await runDurableObjectAlarm(stub);
    const { alarm } = await stub.webhookOutbox({ settle: true });
    if (alarm === null || alarm > until) return;
    if (alarm > Date.now()) vi.setSystemTime(alarm);
  }
  throw new Error(`the outbox still had work after ${maxSteps} steps`);
}

/** Verifies one received request with the reference library, at the time it arrived (its replay window). */
export function verifyReceived(secret: string, request: ReceivedWebhook): unknown {
  const faked = vi.isFakeTimers();
  const now = Date.now();
  if (faked) vi.setSystemTime(request.at);
  try {
    return new Webhook(secret).verify(request.body, request.headers);
  } finally {
    if (faked) vi.setSystemTime(now);
  }
}

/** As runAccountOutbox, for a campaign's object: its alarm also runs the dispatcher, which has nothing left to do. */
export async function runCampaignOutbox(campaignId: string, until: number, maxSteps = 2_000): Promise<void> {
  const stub = getCampaignStub(env, campaignId);
  for (let i = 0; i < maxSteps; i++) {
    await runDurableObjectAlarm(stub);
    const { alarm } = await stub.webhookOutbox({ settle: true });
    if (alarm === null || alarm > until) return;
    if (alarm > Date.now()) vi.setSystemTime(alarm);
  }
  throw new Error(`the campaign's outbox still had work after ${maxSteps} steps`);
}

export interface ReceivedMessage {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Every request a sink got, verified with the endpoint's secret and parsed. */
export const verifiedMessages = async (sink: string, secret: string): Promise<ReceivedMessage[]> =>
  (await received(sink)).map((r) => ({ id: r.headers["webhook-id"] as string, ...(verifyReceived(secret, r) as Omit<ReceivedMessage, "id">) }));
