// The demo tenant that `npm start` provisions (and the browser tests sign in with): an account, an API
// key, an active agent (the simulated one for `npm start`), and a simulator provider with an outbound number.

async function call(origin, method, path, token, body) {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json", ...(body && { "Content-Type": "application/json" }) },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function must(origin, method, path, token, body, okStatus = [200, 201]) {
  const res = await call(origin, method, path, token, body);
  if (!okStatus.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** True while the key still opens its account (a reset local state forgets it). */
export async function demoKeyWorks(origin, key) {
  return (await call(origin, "GET", "/api/v1/call-limits", key)).status === 200;
}

/** The agent the simulator plays: it reports each call's result through the call's result_url (docs/simulator.md). */
export const SIM_AGENT_STREAM = "sim://agent";
const PLACEHOLDER_STREAM = "wss://agent.example/stream";

/** A demo saved before the simulated agent existed gets it, so its campaigns end with results; an agent changed by hand is left alone. */
export async function useSimAgent(origin, demo) {
  const agent = await call(origin, "GET", `/api/v1/agents/${demo.agent_id}`, demo.key);
  if (agent.status === 200 && agent.body.stream_url === PLACEHOLDER_STREAM) {
    await must(origin, "PATCH", `/api/v1/agents/${demo.agent_id}`, demo.key, { stream_url: SIM_AGENT_STREAM });
  }
}

export async function provisionDemo(origin, adminToken, { accountId = "demo", name = "Demo", caps = {}, streamUrl = PLACEHOLDER_STREAM } = {}) {
  await must(origin, "POST", "/admin/v1/accounts", adminToken, { id: accountId, name, ...caps }, [201, 409]);
  const { key } = await must(origin, "POST", `/admin/v1/accounts/${accountId}/api-keys`, adminToken, { name: "demo" });
  const agent = await must(origin, "POST", "/api/v1/agents", key, { name: "Demo agent", status: "active", stream_url: streamUrl });
  const provider = await must(origin, "POST", "/api/v1/telephony/providers", key, { provider: "simulator", name: "Local simulator" });
  const number = await must(origin, "POST", "/api/v1/telephony/numbers", key, { e164: "+15005550006", credentials_id: provider.id, provider: "simulator" });
  return { account_id: accountId, key, agent_id: agent.id, phone_number_id: number.id };
}
