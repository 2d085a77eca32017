import { env, exports } from "cloudflare:workers";
import { importJWK, SignJWT } from "jose";

export const BASE = "http://127.0.0.1:8787";
export const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };

let counter = 0;
/** Unique, valid account id per call so tests never share an account. */
export const uniqueAccountId = (stem = "acct") => `${stem}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`expected JSON, got ${res.status}: ${text}`);
  }
}

export function jsonInit(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export async function signSession(subject: string, overrides: { expiresIn?: string | number; audience?: string; issuer?: string } = {}) {
  const key = await importJWK(JSON.parse(env.TEST_JWT_PRIVATE), "ES256");
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "test" })
    .setSubject(subject)
    .setIssuer(overrides.issuer ?? env.JWT_ISSUER ?? "")
    .setAudience(overrides.audience ?? env.JWT_AUDIENCE ?? "")
    .setIssuedAt()
    .setExpirationTime(overrides.expiresIn ?? "5m")
    .sign(key);
}

export interface Tenant {
  accountId: string;
  key: string;
  auth: Record<string, string>;
  agentId: string;
  numberId: string;
  providerId: string;
}

/**
 * An account with an API key, an active agent, a simulator provider (speaking `dialect`'s wire) and an outbound number.
 * calls_per_minute defaults to 0 so a started campaign never dials unless a test asks for it.
 */
export async function newTenant(caps: Record<string, number> = {}, dialect: "twilio" | "plivo" | "vobiz" = "twilio"): Promise<Tenant> {
  const accountId = uniqueAccountId();
  const created = await call("/admin/v1/accounts", jsonInit("POST", { id: accountId, calls_per_minute: 0, ...caps }, ADMIN));
  if (created.status !== 201) throw new Error(`account create failed: ${created.status} ${await created.text()}`);
  const keyRes = await call(`/admin/v1/accounts/${accountId}/api-keys`, jsonInit("POST", { name: "test" }, ADMIN));
  const { key } = await json<{ key: string }>(keyRes);
  const auth = { Authorization: `Bearer ${key}` };
  const agent = await json<{ id: string }>(
    await call("/api/v1/agents", jsonInit("POST", { name: "Agent", status: "active", stream_url: "wss://agent.test/stream" }, auth)),
  );
  const provider = await json<{ id: string }>(
    await call("/api/v1/telephony/providers", jsonInit("POST", { provider: "simulator", credentials: { dialect } }, auth)),
  );
  const number = await json<{ id: string }>(
    await call("/api/v1/telephony/numbers", jsonInit("POST", { e164: "+15550001000", credentials_id: provider.id, provider: "simulator" }, auth)),
  );
  return { accountId, key, auth, agentId: agent.id, numberId: number.id, providerId: provider.id };
}

export function csvOf(count: number, start = 0): string {
  const lines = ["phone_number,first_name"];
  for (let i = 0; i < count; i++) lines.push(`+1555010${String(start + i).padStart(4, "0")},Person ${start + i}`);
  return `${lines.join("\n")}\n`;
}

export function campaignForm(tenant: Tenant, csv: string, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.set("name", fields.name ?? "Test campaign");
  form.set("agent_id", tenant.agentId);
  form.set("phone_number_id", tenant.numberId);
  for (const [k, v] of Object.entries(fields)) if (k !== "name") form.set(k, v);
  form.set("contacts", new File([csv], "contacts.csv", { type: "text/csv" }));
  return form;
}

export async function postCampaign(tenant: Tenant, csv: string, fields: Record<string, string> = {}, prefix = "/api/v1") {
  return call(`${prefix}/campaigns`, { method: "POST", headers: tenant.auth, body: campaignForm(tenant, csv, fields) });
}

export async function createCampaign(tenant: Tenant, csv = csvOf(3), fields: Record<string, string> = {}) {
  const res = await postCampaign(tenant, csv, fields);
  if (res.status !== 201) throw new Error(`campaign create failed: ${res.status} ${await res.text()}`);
  return json<{ id: string; status: string; stats: Record<string, number>; duplicates_skipped: number }>(res);
}

export const lifecycle = (tenant: Tenant, id: string, action: string) => call(`/api/v1/campaigns/${id}/${action}`, { method: "POST", headers: tenant.auth });

export async function countRows(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
