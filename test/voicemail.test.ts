import { afterEach, describe, expect, it } from "vitest";
import { parseCallId } from "../src/call-results/call-id";
import { createCampaign, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, carriedCalls, getCampaign, runUntil, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

// The simulator's machine answers numbers ending 95–97 (SPEC table); those ending below 70 are people.
const MACHINE = "+14155550195";
const HUMAN = "+14155550100";
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

describe("the held call's documents", () => {
  it.each(["plivo", "vobiz"] as const)("%s: the answer holds the line until the verdict, and the result reaches the campaign view", async (dialect) => {
    restore = useSimulatedTime();
    const { t, id, contactOf } = await finishedCampaign(dialect, [MACHINE], { voicemail_action: "message", voicemail_message: "Hello." });
    expect(contactOf(MACHINE)?.result?.disposition).toBe("voicemail_left");
    const view = await getCampaign(t, id);
    expect(view.stats).toMatchObject({ dispositions: { voicemail_left: 1 } });
  });
});
