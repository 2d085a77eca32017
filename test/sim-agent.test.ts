import { afterEach, describe, expect, it } from "vitest";
import demoCsv from "../examples/contacts.csv?raw";
import { simAgentCallbackSeconds, simAgentChoiceFor, simAgentParameters } from "../src/carriers/simulator/sim-agent";
import { ApiError } from "../src/http/errors";
import { checkStreamUrl } from "../src/routes/agents";
import { call, createCampaign, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, carriedCalls, runUntil, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

// Third- and fourth-last digits pick the agent's result; the last two keep the simulator's outcome (00: answered, 70: busy).
const INTERESTED = "+14155551100";
const NOT_INTERESTED = "+14155552100";
const CALLBACK = "+14155553100";
const OPT_OUT = "+14155554100";
const SILENT = "+14155550100";
const BUSY_INTERESTED = "+14155551170";
const PHONES = [INTERESTED, NOT_INTERESTED, CALLBACK, OPT_OUT, SILENT, BUSY_INTERESTED];

type ContactWithResult = Awaited<ReturnType<typeof allContacts>>[number] & {
  result: { disposition: string; call_id: string; summary: string | null; data: Record<string, unknown> | null } | null;
  callbacks: number;
};

async function simAgentTenant(dialect: "twilio" | "plivo" | "vobiz" = "twilio", streamUrl = "sim://agent"): Promise<Tenant> {
  const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 }, dialect);
  const res = await call(`/api/v1/agents/${t.agentId}`, jsonInit("PATCH", { stream_url: streamUrl }, t.auth));
  expect(res.status, await res.clone().text()).toBe(200);
  return t;
}

/** Runs a campaign of `csv` to its end; contacts by phone number. */
async function runToEnd(t: Tenant, csv: string, fields: Record<string, string> = {}) {
  const { id } = await createCampaign(t, csv, fields);
  expect((await lifecycle(t, id, "start")).status).toBe(200);
  const [done] = await runUntil(t, [id], untilStatus("completed"));
  const contacts = (await allContacts(t, id)) as ContactWithResult[];
  return { id, done, byPhone: new Map(contacts.map((c) => [c.phone_number, c])) };
}

const dncReason = async (t: Tenant, phone: string) => {
  const res = await call(`/api/v1/dnc/${encodeURIComponent(phone)}`, { headers: t.auth });
  return res.status === 200 ? (await json<{ reason: string }>(res)).reason : null;
};

describe("the simulated agent", () => {
  it.each(["twilio", "plivo"] as const)("%s: reports through result_url by the number's digits; one callback, one opt-out", async (dialect) => {
    restore = useSimulatedTime();
    const t = await simAgentTenant(dialect);
    const { done, byPhone } = await runToEnd(t, `phone_number\n${PHONES.join("\n")}\n`, { retries_per_contact: "0" });

    // Five calls a person answered; the busy one ends failed.
    expect(done?.stats).toMatchObject({ completed: 5, pending: 0, dispositions: { interested: 2, not_interested: 1, do_not_call: 1 } });
    expect(byPhone.get(INTERESTED)).toMatchObject({
      outcome: "answered",
      attempts: 1,
      result: { disposition: "interested", summary: "Wants a demo next week.", data: { plan: "premium", seats: 12 } },
    });
    expect(byPhone.get(NOT_INTERESTED)?.result?.disposition).toBe("not_interested");
    // Asked for a callback on the first call, dialled again an hour later, and the second call closed it.
    expect(byPhone.get(CALLBACK)).toMatchObject({ status: "completed", attempts: 2, callbacks: 1, result: { disposition: "interested" } });
    expect((await carriedCalls(t)).filter((c) => c.to === CALLBACK)).toHaveLength(2);
    const optOut = byPhone.get(OPT_OUT);
    expect(optOut?.result?.disposition).toBe("do_not_call");
    expect(await dncReason(t, OPT_OUT)).toBe(`opt-out on call ${optOut?.result?.call_id}`);
    expect(optOut?.result?.call_id).toMatch(/^call_/);
    // No result for digits outside the table, nor for a call no human answered.
    expect(byPhone.get(SILENT)?.result).toBeNull();
    expect(byPhone.get(BUSY_INTERESTED)).toMatchObject({ outcome: "busy", result: null });
    expect(await dncReason(t, INTERESTED)).toBeNull();
  });

  it("a wss:// agent gets no simulated results", async () => {
    restore = useSimulatedTime();
    const t = await simAgentTenant("twilio", "wss://agent.test/stream");
    const { done, byPhone } = await runToEnd(t, `phone_number\n${PHONES.join("\n")}\n`, { retries_per_contact: "0" });
    expect(done?.stats.dispositions).toEqual({});
    expect([...byPhone.values()].map((c) => [c.phone_number, c.result, c.attempts])).toEqual(PHONES.map((p) => [p, null, 1]));
    expect(await dncReason(t, OPT_OUT)).toBeNull();
  });

  it("the demo's contacts, with the demo's settings, give every disposition, one callback and one opt-out", async () => {
    restore = useSimulatedTime();
    const t = await simAgentTenant();
    const { done, byPhone } = await runToEnd(t, demoCsv);
    const dispositions = done?.stats.dispositions as unknown as Record<string, number>;
    for (const name of ["interested", "not_interested", "do_not_call"]) expect(dispositions[name], name).toBeGreaterThanOrEqual(1);
    const contacts = [...byPhone.values()];
    expect(contacts.filter((c) => c.callbacks > 0).map((c) => [c.callbacks, c.attempts])).toEqual([[1, 2]]);
    const optOuts = contacts.filter((c) => c.result?.disposition === "do_not_call");
    expect(optOuts).toHaveLength(1);
    expect(await dncReason(t, optOuts[0]?.phone_number ?? "")).toMatch(/^opt-out on call call_/);
  });
});

describe("sim://agent as a stream_url", () => {
  it("is refused with a 400 where the simulator is off, and taken where it is on", () => {
    let refused: unknown;
    try {
      checkStreamUrl({ SIMULATOR_ENABLED: "false" }, "sim://agent");
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).message).toContain("simulator is not enabled");
    expect(() => checkStreamUrl({}, "sim://agent")).toThrow(ApiError);
    expect(() => checkStreamUrl({ SIMULATOR_ENABLED: "true" }, "sim://agent")).not.toThrow();
    expect(() => checkStreamUrl({ SIMULATOR_ENABLED: "false" }, "wss://agent.test/stream")).not.toThrow();
  });

  it("the route takes sim://agent here (the simulator is on in tests) and still refuses other schemes", async () => {
    const t = await newTenant();
    const created = await call("/api/v1/agents", jsonInit("POST", { name: "Sim", stream_url: "sim://agent" }, t.auth));
    expect(created.status).toBe(201);
    expect((await json<{ stream_url: string }>(created)).stream_url).toBe("sim://agent");
    for (const url of ["sim://other", "sim://agent/x", "https://agent.test/stream"]) {
      expect((await call("/api/v1/agents", jsonInit("POST", { name: "Bad", stream_url: url }, t.auth))).status, url).toBe(400);
    }
  });
});

describe("the agent's table", () => {
  it.each([
    ["+14155550166", "none"],
    ["+14155551099", "interested"],
    ["+14155551955", "interested"],
    ["+14155552022", "not_interested"],
    ["+14155553044", "callback"],
    ["+14155554055", "opt_out"],
    ["+14155555011", "none"],
  ] as const)("%s → %s", (phone, choice) => {
    expect(simAgentChoiceFor(phone)).toBe(choice);
  });

  it("a callback is one simulated hour, never under the API's 60 s", () => {
    expect(simAgentCallbackSeconds(1)).toBe(3_600);
    expect(simAgentCallbackSeconds(0.05)).toBe(180);
    expect(simAgentCallbackSeconds(0.001)).toBe(60);
  });

  it("hears only a sim://agent stream, in TwiML and in Plivo's XML", () => {
    const twiml = (url: string) =>
      `<Response><Connect><Stream url="${url}"><Parameter name="result_url" value="http://x/r?token=a&amp;b"/></Stream></Connect></Response>`;
    expect(simAgentParameters(twiml("sim://agent"))).toEqual({ result_url: "http://x/r?token=a&b" });
    expect(simAgentParameters(twiml("wss://agent.test/stream"))).toBeNull();
    const plivo = (url: string) => `<Response><Stream bidirectional="true">${url}?call_id=call_1&amp;result_url=http%3A%2F%2Fx%2Fr</Stream></Response>`;
    expect(simAgentParameters(plivo("sim://agent"))).toEqual({ call_id: "call_1", result_url: "http://x/r" });
    expect(simAgentParameters(plivo("wss://agent.test/stream"))).toBeNull();
    expect(simAgentParameters("<Response><Speak>Sorry</Speak><Hangup/></Response>")).toBeNull();
  });
});
