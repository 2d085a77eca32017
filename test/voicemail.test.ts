import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { parseCallId } from "../src/call-results/call-id";
import { HoldLatches } from "../src/campaign-object/storage/hold-latches";
import { callbackUrls, stageUrls } from "../src/carriers/callback-urls";
import { PlivoAdapter } from "../src/carriers/plivo";
import { TwilioAdapter } from "../src/carriers/twilio";
import { newNonce, VOBIZ_NONCE_HEADER, VOBIZ_SIGNATURE_HEADER, vobizSignature } from "../src/carriers/v3-signatures";
import { VobizAdapter } from "../src/carriers/vobiz";
import { call, createCampaign, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, campaignStub, carriedCalls, getCampaign, runUntil, simulatorCredentialsOf, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

// The simulator's machine answers numbers ending 95–97 (SPEC table); those ending below 70 are people.
const MACHINE = "+14155550195";
const HUMAN = "+14155550100";
// A machine whose third- and fourth-last digits are 50–59: the simulated carrier refuses to transfer its call (docs/simulator.md).
const REFUSING_MACHINE = "+14155555095";
const DIALECTS = ["twilio", "plivo", "vobiz"] as const;
type Dialect = (typeof DIALECTS)[number];

type ContactWithResult = Awaited<ReturnType<typeof allContacts>>[number] & {
  result: { disposition: string; call_id: string; data: unknown; summary: string | null } | null;
};

/** Each carrier's own verbs: TwiML speaks with <Say>, Plivo XML and VobizXML with <Speak>. */
const SPEAK_VERB: Record<Dialect, string> = { twilio: "Say", plivo: "Speak", vobiz: "Speak" };

/** A started campaign of `phones` on a `dialect` simulator, run to its end; the last document each call was given, by number. */
async function finishedCampaign(dialect: Dialect, phones: string[], fields: Record<string, string>, t?: Tenant) {
  const tenant = t ?? (await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 }, dialect));
  const { id } = await createCampaign(tenant, `phone_number,first_name\n${phones.map((p, i) => `${p},P${i}`).join("\n")}\n`, fields);
  expect((await lifecycle(tenant, id, "start")).status).toBe(200);
  const [done] = await runUntil(tenant, [id], untilStatus("completed"));
  const calls = await carriedCalls(tenant);
  const lastDocument = (phone: string) => calls.filter((c) => c.to === phone).at(-1)?.answer_doc ?? "";
  const contacts = (await allContacts(tenant, id)) as ContactWithResult[];
  const contactOf = (phone: string) => contacts.find((c) => c.phone_number === phone);
  return { t: tenant, id, done, lastDocument, contactOf, calls };
}

describe.each(DIALECTS)("%s: voicemail_action", (dialect) => {
  it("message with text: the machine hears it after the beep, then the call hangs up; the contact ends voicemail with voicemail_left", async () => {
    restore = useSimulatedTime();
    const text = "Hi, this is Acme & Co. Please call us back <today>.";
    const { id, done, lastDocument, contactOf } = await finishedCampaign(dialect, [MACHINE, HUMAN], { voicemail_action: "message", voicemail_message: text });
    const verb = SPEAK_VERB[dialect];
    const escaped = "Hi, this is Acme &amp; Co. Please call us back &lt;today&gt;.";
    expect(lastDocument(MACHINE)).toContain(`<Response><${verb}>${escaped}</${verb}><Hangup/></Response>`);
    expect(lastDocument(MACHINE)).not.toContain("<Stream");

    const machine = contactOf(MACHINE);
    expect(machine).toMatchObject({
      status: "completed",
      outcome: "voicemail",
      attempts: 1,
      result: { disposition: "voicemail_left", data: null, summary: null },
    });
    expect(parseCallId(machine?.result?.call_id ?? "")?.campaignId, "the result names the call's call_… id").toBe(id);

    // A person still gets the agent, with no result set for them.
    expect(lastDocument(HUMAN)).toContain("<Stream");
    expect(lastDocument(HUMAN)).toContain("wss://agent.test/stream");
    expect(contactOf(HUMAN)).toMatchObject({ status: "completed", outcome: "answered", result: null });
    expect(done?.stats).toMatchObject({ completed: 2, dispositions: { voicemail_left: 1 } });
  });

  it("message with an audio URL: the machine hears it played", async () => {
    restore = useSimulatedTime();
    const audio = "https://cdn.example.com/messages/acme.mp3?v=1&x=2";
    const { lastDocument, contactOf } = await finishedCampaign(dialect, [MACHINE], { voicemail_action: "message", voicemail_audio_url: audio });
    expect(lastDocument(MACHINE)).toContain("<Response><Play>https://cdn.example.com/messages/acme.mp3?v=1&amp;x=2</Play><Hangup/></Response>");
    expect(contactOf(MACHINE)).toMatchObject({ status: "completed", outcome: "voicemail", result: { disposition: "voicemail_left" } });
  });

  it("hangup: the machine gets a bare hang-up and no result is set; a person still gets the agent", async () => {
    restore = useSimulatedTime();
    const { done, lastDocument, contactOf } = await finishedCampaign(dialect, [MACHINE, HUMAN], { voicemail_action: "hangup" });
    expect(lastDocument(MACHINE)).toMatch(/<Response><Hangup\/><\/Response>$/);
    expect(contactOf(MACHINE)).toMatchObject({ status: "completed", outcome: "voicemail", result: null });
    expect(lastDocument(HUMAN)).toContain("<Stream");
    expect(done?.stats).toMatchObject({ completed: 2, dispositions: {} });
  });

  it("agent (the default): the machine is streamed to the agent as before, and told answered_by=machine where the answer knows it", async () => {
    restore = useSimulatedTime();
    const { done, lastDocument, contactOf } = await finishedCampaign(dialect, [MACHINE, HUMAN], {});
    for (const phone of [MACHINE, HUMAN]) {
      expect(lastDocument(phone), phone).toContain("<Stream");
      expect(lastDocument(phone), phone).not.toMatch(/<Hangup\/>|<Wait|<Redirect/);
    }
    // Twilio's answer comes after the beep with the verdict; Plivo and Vobiz answer at pickup, before theirs.
    if (dialect === "twilio") expect(lastDocument(MACHINE)).toContain('name="answered_by" value="machine"');
    expect(contactOf(MACHINE)).toMatchObject({ status: "completed", outcome: "voicemail", result: null });
    expect(done?.stats).toMatchObject({ completed: 2, dispositions: {} });
  });
});

describe("retry_on", () => {
  it.each(DIALECTS)("%s: naming voicemail dials a voicemail outcome again, each time leaving the message", async (dialect) => {
    restore = useSimulatedTime();
    const { done, contactOf, calls } = await finishedCampaign(dialect, [MACHINE], {
      voicemail_action: "message",
      voicemail_message: "Please call us back.",
      retry_on: "voicemail",
      retries_per_contact: "1",
      retry_delay_seconds: "60",
    });
    expect(calls.filter((c) => c.to === MACHINE)).toHaveLength(2);
    expect(contactOf(MACHINE)).toMatchObject({ status: "completed", outcome: "voicemail", attempts: 2, result: { disposition: "voicemail_left" } });
    expect(done?.stats).toMatchObject({ completed: 1, dispositions: { voicemail_left: 1 } });
  });

  it("without voicemail in retry_on, a voicemail outcome is not dialled again", async () => {
    restore = useSimulatedTime();
    const { contactOf, calls } = await finishedCampaign("twilio", [MACHINE], { voicemail_action: "hangup", retries_per_contact: "2" });
    expect(calls).toHaveLength(1);
    expect(contactOf(MACHINE)).toMatchObject({ status: "completed", outcome: "voicemail", attempts: 1 });
  });
});

describe("Plivo and Vobiz hold the answered call until the verdict", () => {
  it.each(["plivo", "vobiz"] as const)("%s: the answer is a silent hold whose redirect fetches the agent", async (dialect) => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 }, dialect);
    const { id } = await createCampaign(t, `phone_number\n${HUMAN}\n`, { voicemail_action: "message", voicemail_message: "Hello." });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    await runUntil(t, [id], untilStatus("completed"));
    const [human] = await carriedCalls(t);
    expect(human?.answer_doc).toContain("<Stream");
    expect((await getCampaign(t, id)).stats).toMatchObject({ completed: 1, dispositions: {} });
    // The agent's document was a request of its own after the hold (Vobiz also sends ringing to the answer URL).
    const { carrier_requests } = await campaignStub(id).inspect(id);
    expect(carrier_requests.answer).toBe(dialect === "vobiz" ? 3 : 2);
  });

  it.each(["plivo", "vobiz"] as const)("%s: an unsigned request for the voicemail or agent document is refused and records nothing", async (dialect) => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 }, dialect);
    const { id } = await createCampaign(t, `phone_number\n${MACHINE}\n`, { voicemail_action: "message", voicemail_message: "Hello." });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    await runUntil(t, [id], (c) => (c.stats.originated ?? 0) + (c.stats.connected ?? 0) === 1);
    const { open_attempts } = await campaignStub(id).inspect(id);
    const attemptId = open_attempts[0]?.attempt_id ?? "";
    const { statusCallbackUrl } = await callbackUrls(env, dialect, id, attemptId);
    const form = { CallUUID: "forged", RequestUUID: "forged", CallStatus: "in-progress", Event: "Transfer" };
    for (const stage of ["voicemail", "agent", "after-hold"]) {
      const path = `${new URL(statusCallbackUrl).pathname}/answer/${stage}`;
      const res = await call(path, { method: "POST", body: new URLSearchParams(form) });
      expect(res.status, `${stage}: unsigned`).toBe(403);
      if (dialect === "vobiz") {
        // The path's MAC is checked before anything else.
        const wrongMac = path.replace(/\/[0-9a-f]{32}\//, `/${"0".repeat(32)}/`);
        expect((await call(wrongMac, { method: "POST", body: new URLSearchParams(form) })).status, `${stage}: wrong MAC`).toBe(403);
      }
    }
    expect((await allContacts(t, id))[0]).toMatchObject({ result: null });
  });
});

describe("a carrier that refuses to move the held call", () => {
  it.each(["plivo", "vobiz"] as const)("%s: the hold's redirect brings the agent after all; no message is left and no result is set", async (dialect) => {
    restore = useSimulatedTime();
    const { id, done, lastDocument, contactOf } = await finishedCampaign(dialect, [REFUSING_MACHINE], {
      voicemail_action: "message",
      voicemail_message: "Hello.",
    });
    // The verdict came and its transfer to the message was refused: the hold ran out and its redirect got the stream.
    expect(lastDocument(REFUSING_MACHINE)).toContain("<Stream");
    expect(lastDocument(REFUSING_MACHINE)).not.toContain("<Speak>");
    expect(contactOf(REFUSING_MACHINE)).toMatchObject({ status: "completed", outcome: "voicemail", attempts: 1, result: null });
    expect(done?.stats).toMatchObject({ completed: 1, dispositions: {} });
    const { carrier_requests } = await campaignStub(id).inspect(id);
    expect(carrier_requests.answer, "the answer (Vobiz: and ringing), then the hold's redirect; no transferred request").toBe(dialect === "vobiz" ? 3 : 2);
    const latches = await runInDurableObject(campaignStub(id), (_, state) =>
      state.storage.sql.exec<{ transfer_refused: number }>("SELECT transfer_refused FROM hold_latches").toArray(),
    );
    expect(latches).toEqual([{ transfer_refused: 1 }]);
  });
});

describe("Vobiz signs the URL without its query, so the stage is in the path", () => {
  it("a stage changed in a signed URL is refused and changes nothing; a stage in the query is not read", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 }, "vobiz");
    const { id } = await createCampaign(t, `phone_number\n${MACHINE}\n`, { voicemail_action: "message", voicemail_message: "Hello." });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    await runUntil(t, [id], (c) => (c.stats.originated ?? 0) + (c.stats.connected ?? 0) === 1);
    const attemptId = (await campaignStub(id).inspect(id)).open_attempts[0]?.attempt_id ?? "";
    const [carried] = await carriedCalls(t);
    const token = (await simulatorCredentialsOf(t)).auth_token ?? "";
    const form = { CallUUID: carried?.call_uuid ?? "", RequestUUID: carried?.sid ?? "", CallStatus: "in-progress", Event: "Redirect", Direction: "outbound" };
    /** A request as Vobiz sends it to `signedUrl`, delivered to `deliveredTo` (the same URL unless tampered with on the way). */
    const send = async (signedUrl: string, deliveredTo = signedUrl) => {
      const nonce = newNonce();
      const headers = { [VOBIZ_SIGNATURE_HEADER]: await vobizSignature(token, signedUrl, nonce), [VOBIZ_NONCE_HEADER]: nonce };
      const url = new URL(deliveredTo);
      return call(`${url.pathname}${url.search}`, { method: "POST", headers, body: new URLSearchParams(form) });
    };
    const stages = await stageUrls(env, "vobiz", id, attemptId);
    const { answerUrl } = await callbackUrls(env, "vobiz", id, attemptId);

    /** What the object holds for the contact now (the API's view follows at the next flush to D1). */
    const disposition = () =>
      runInDurableObject(
        campaignStub(id),
        (_, state) => state.storage.sql.exec<{ disposition: string | null }>("SELECT disposition FROM contacts").one().disposition,
      );
    const answers = async () => (await campaignStub(id).inspect(id)).carrier_requests.answer;
    const answersBefore = await answers();

    // The hold's redirect, rewritten on the way to ask for the message (or the agent): the signature no longer matches.
    const tampered = await send(stages["after-hold"], stages.voicemail);
    expect(tampered.status, await tampered.text()).toBe(403);
    expect((await send(stages.voicemail, stages.agent)).status).toBe(403);
    expect(await disposition()).toBeNull();
    expect(await answers(), "refused before anything was counted or applied").toBe(answersBefore);

    // Vobiz's signature holds for any query, so a query naming a stage is only an answer request: it gets the hold.
    const queried = await send(answerUrl, `${answerUrl}?stage=voicemail`);
    expect(queried.status).toBe(200);
    const held = await queried.text();
    expect(held).toContain("<Wait");
    expect(held).not.toContain("<Speak>");
    expect(await disposition()).toBeNull();

    // The same request, untouched, is served: the refusals above were the tampering's, not the test's signing.
    const genuine = await send(stages.voicemail);
    expect(genuine.status).toBe(200);
    expect(await genuine.text()).toContain("<Response><Speak>Hello.</Speak><Hangup/></Response>");
    expect(await disposition()).toBe("voicemail_left");
  });
});

describe("the hold latch", () => {
  it("releases a held call once, remembers a refused transfer, and takes over latches kept in the nonce cache before", async () => {
    const stub = campaignStub(`cmp_latch_${crypto.randomUUID()}`);
    await runInDurableObject(stub, (_, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      // As an older version left them: the latches were nonces, beside a carrier's real one.
      for (const nonce of ["hold-released:att_a", "hold-released:att_b", "hold-transfer-failed:att_b", "12345678901234567890"]) {
        sql.exec("INSERT INTO seen_nonces (nonce, seen_at) VALUES (?, ?)", nonce, now);
      }
      const latches = new HoldLatches(sql);
      latches.createSchema();
      latches.createSchema();
      expect(sql.exec("SELECT nonce FROM seen_nonces").toArray()).toEqual([{ nonce: "12345678901234567890" }]);
      expect(latches.release("att_a", now), "released before the move").toBe(false);
      expect(latches.transferRefused("att_a")).toBe(false);
      expect(latches.transferRefused("att_b")).toBe(true);

      expect(latches.release("att_c", now), "the first to come moves the call").toBe(true);
      expect(latches.release("att_c", now), "the second does not").toBe(false);
      expect(latches.transferRefused("att_c")).toBe(false);
      latches.markTransferRefused("att_c");
      expect(latches.transferRefused("att_c")).toBe(true);
    });
  });
});

describe("each carrier's voicemail XML and transfer request", () => {
  const requests: Request[] = [];
  const fetcher = async (input: string | Request, init?: RequestInit) => {
    requests.push(new Request(input, init));
    return new Response(JSON.stringify({ api_id: "a", message: "call transferred" }), { status: 202 });
  };
  const credentials = { auth_id: "MAXXXXXXXXXXXXXXXXXX", auth_token: "token" };

  it("Twilio: <Say> or <Play>, then <Hangup/>; no late verdict, because DetectMessageEnd brings it to the answer", () => {
    const twilio = new TwilioAdapter({ account_sid: "AC1", auth_token: "t" }, "https://api.twilio.test", fetcher);
    expect(twilio.voicemailDocument({ kind: "speak", text: "a<b" }).body).toContain("<Response><Say>a&lt;b</Say><Hangup/></Response>");
    expect(twilio.voicemailDocument({ kind: "play", url: "https://x.test/m.mp3" }).body).toContain(
      "<Response><Play>https://x.test/m.mp3</Play><Hangup/></Response>",
    );
    expect(twilio.voicemailDocument(null).body).toContain("<Response><Hangup/></Response>");
    expect(twilio.lateVerdict).toBeNull();
  });

  it.each([
    ["Plivo", () => new PlivoAdapter(credentials, "https://api.plivo.test", fetcher), "https://api.plivo.test/v1/Account/MAXXXXXXXXXXXXXXXXXX/Call/uuid-1/"],
    [
      "Vobiz",
      () => new VobizAdapter(credentials, "https://api.vobiz.test", fetcher),
      "https://api.vobiz.test/api/v1/Account/MAXXXXXXXXXXXXXXXXXX/Call/uuid-1/",
    ],
  ])("%s: <Speak> or <Play> then <Hangup/>, a <Wait> hold with a <Redirect>, and the transfer with legs=aleg", async (_, make, transferUrl) => {
    const adapter = make();
    expect(adapter.voicemailDocument({ kind: "speak", text: "Hi & bye" }).body).toContain("<Response><Speak>Hi &amp; bye</Speak><Hangup/></Response>");
    expect(adapter.voicemailDocument({ kind: "play", url: "https://x.test/m.mp3" }).body).toContain("<Play>https://x.test/m.mp3</Play><Hangup/>");
    const hold = adapter.lateVerdict?.holdDocument("https://edge.test/answer?stage=agent&after=hold", 8).body;
    expect(hold).toContain('<Response><Wait length="8"/><Redirect method="POST">https://edge.test/answer?stage=agent&amp;after=hold</Redirect></Response>');
    expect(hold).not.toContain("<Stream");
    requests.length = 0;
    expect(await adapter.lateVerdict?.transferCall("request-1", "uuid-1", "https://edge.test/voicemail")).toBe(true);
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.url).toBe(transferUrl);
    expect(await requests[0]?.json()).toEqual({ legs: "aleg", aleg_url: "https://edge.test/voicemail", aleg_method: "POST" });
  });
});
