import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { getCampaignStub } from "../src/campaign-object/stub";
import { simulatorAccountId } from "../src/carriers/registry";
import { getSimulatorStub, SIMULATOR_SHARDS } from "../src/carriers/simulator/simulator-do";
import { decryptSecret } from "../src/http/crypto";
import { call, json, type Tenant } from "./helpers";

/**
 * A discrete-event driver for dispatch tests: time is a fake Date shared with the Durable Objects;
 * each step fires every campaign's and simulator shard's alarm, lets in-flight requests land, and
 * then jumps the clock to the earliest pending timer. No test sleeps for simulated seconds.
 */
export function useSimulatedTime(start = Date.now()) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(start);
  return () => vi.useRealTimers();
}

export const campaignStub = (id: string) => getCampaignStub(env, id);

const settle = () => new Promise((r) => setTimeout(r, 2));

/** The tenant's simulator provider credentials, as the carrier adapter reads them (its auth token signs the simulated callbacks). */
export async function simulatorCredentialsOf(t: Tenant): Promise<Record<string, string>> {
  const row = await env.DB.prepare("SELECT credentials FROM telephony_providers WHERE id = ?").bind(t.providerId).first<{ credentials: string }>();
  return JSON.parse(await decryptSecret(row?.credentials ?? "", env.SECRETS_KEY)) as Record<string, string>;
}

/** The simulator shards that carry this tenant's calls (keyed by its simulator account sid or auth_id). */
export async function simulatorShards(t: Tenant) {
  const credentials = await simulatorCredentialsOf(t);
  return Array.from({ length: SIMULATOR_SHARDS }, (_, i) => getSimulatorStub(env, simulatorAccountId(credentials), i.toString(16)));
}

export async function step(t: Tenant, campaignIds: string[]): Promise<void> {
  const simulators = await simulatorShards(t);
  await Promise.all(simulators.map((sim) => runDurableObjectAlarm(sim)));
  await settle();
  await Promise.all(campaignIds.map((id) => runDurableObjectAlarm(campaignStub(id))));
  await settle();
  const alarms = await Promise.all([...simulators.map((sim) => sim.nextAlarm()), ...campaignIds.map(async (id) => (await campaignStub(id).inspect(id)).alarm)]);
  const next = Math.min(...alarms.filter((a): a is number => a !== null));
  if (Number.isFinite(next) && next > Date.now()) vi.setSystemTime(next);
}

export interface CampaignView {
  id: string;
  status: string;
  status_reason: string | null;
  stats: Record<string, number>;
}

export const getCampaign = async (t: Tenant, id: string) => json<CampaignView>(await call(`/api/v1/campaigns/${id}`, { headers: t.auth }));

/** Steps until every campaign satisfies `done`, or fails after `maxSteps`. */
export async function runUntil(t: Tenant, ids: string[], done: (c: CampaignView) => boolean, maxSteps = 3000): Promise<CampaignView[]> {
  for (let i = 0; i < maxSteps; i++) {
    const views = await Promise.all(ids.map((id) => getCampaign(t, id)));
    if (views.every(done)) return views;
    await step(t, ids);
  }
  throw new Error(`campaigns ${ids.join(", ")} did not reach the expected state in ${maxSteps} steps`);
}

export const untilStatus = (status: string) => (c: CampaignView) => c.status === status;

export interface ContactView {
  id: string;
  row: number;
  phone_number: string;
  custom_fields: Record<string, string>;
  status: string;
  attempts: number;
  outcome: string | null;
  last_error: string | null;
  call_id: string | null;
  next_attempt_at: string | null;
}

export async function allContacts(t: Tenant, id: string): Promise<ContactView[]> {
  const out: ContactView[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await json<{ contacts: ContactView[]; has_next: boolean }>(
      await call(`/api/v1/campaigns/${id}/contacts?limit=1000&offset=${offset}`, { headers: t.auth }),
    );
    out.push(...page.contacts);
    if (!page.has_next) return out;
  }
}

/** Every call the simulator carried for this tenant, across its shards. */
export async function carriedCalls(t: Tenant) {
  return (await Promise.all((await simulatorShards(t)).map((s) => s.carried()))).flat();
}
