import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseCallId } from "../src/call-results/call-id";
import { CALL_TOKEN_TTL_MS } from "../src/call-results/call-token";
import { instantOfWallTime } from "../src/calling-window/zone-clock";
import { call, createCampaign, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, campaignStub, carriedCalls, getCampaign, runUntil, step, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

// The simulator answers numbers ending below 70 (a 30 s talk) and 99 (a long call), and reports 70–79 busy.
const ANSWERED = "+14155550100";
const OTHER = "+14155550101";

interface ResultLink {
  callId: string;
  /** The result URL's path and query, for the in-process Worker. */
  path: string;
  token: string;
}

type ContactWithResult = Awaited<ReturnType<typeof allContacts>>[number] & {
  result: { disposition: string; call_id: string; summary: string | null; data: Record<string, unknown> | null } | null;
  callbacks: number;
};

const contactsOf = async (t: Tenant, id: string) => (await allContacts(t, id)) as ContactWithResult[];

const unescapeXml = (v: string) =>
  v
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

/** The parameters the answer document handed the agent, for the latest call to `phone`: TwiML <Parameter>s, or the Plivo-family stream URL's query. */
async function answerParameters(t: Tenant, phone: string): Promise<Record<string, string>> {
  const calls = (await carriedCalls(t)).filter((c) => c.to === phone && c.answer_doc);
  const doc = calls.at(-1)?.answer_doc ?? "";
  const stream = /<Stream[^>]*>([^<]+)<\/Stream>/.exec(doc);
  if (stream) return Object.fromEntries(new URL(unescapeXml(stream[1] as string)).searchParams);
  return Object.fromEntries(
    [...doc.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [unescapeXml(m[1] as string), unescapeXml(m[2] as string)]),
  );
}

async function resultLink(t: Tenant, phone: string): Promise<ResultLink> {
  const parameters = await answerParameters(t, phone);
  const url = new URL(parameters.result_url ?? "");
  return { callId: parameters.call_id ?? "", path: `${url.pathname}${url.search}`, token: url.searchParams.get("token") ?? "" };
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) => call(path, jsonInit("POST", body, headers));

/** A started campaign of `phones`, stepped until every call is connected. */
async function liveCampaign(phones: string[], fields: Record<string, string> = {}, t?: Tenant) {
  const tenant = t ?? (await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 }));
  const { id } = await createCampaign(tenant, `phone_number,first_name\n${phones.map((p, i) => `${p},P${i}`).join("\n")}\n`, fields);
  expect((await lifecycle(tenant, id, "start")).status).toBe(200);
  await runUntil(tenant, [id], (c) => c.stats.connected === phones.length);
  // The answer request may land a step after the answered callback.
  for (let steps = 0; (await carriedCalls(tenant)).some((c) => !c.answer_doc); steps++) {
    expect(steps, "steps until every answer document was fetched").toBeLessThan(20);
    await step(tenant, [id]);
  }
  return { t: tenant, id };
}

describe("what the agent gets", () => {
  it.each(["twilio", "plivo", "vobiz"] as const)("%s: call_id, answered_by and a result_url beside the contact's fields", async (dialect) => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 }, dialect);
    const { id } = await liveCampaign([ANSWERED], {}, t);
    const parameters = await answerParameters(t, ANSWERED);
    const [contact] = await contactsOf(t, id);
    expect(parseCallId(parameters.call_id ?? "")?.campaignId).toBe(id);
    expect(parameters).toMatchObject({ contact_id: contact?.id, phone_number: ANSWERED, campaign_id: id, first_name: "P0" });
    // Twilio's answer request carries the machine-detection verdict; Plivo and Vobiz give theirs later, on its own request.
    expect(parameters.answered_by).toBe(dialect === "twilio" ? "human" : "unknown");
    expect(parameters.result_url).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:8787/api/v1/calls/${parameters.call_id}/result\\?token=ct_\\d+\\.${t.accountId}\\.[A-Za-z0-9_-]{43}$`),
    );
  });
});

describe("POST /calls/{call_id}/result", () => {
  it("stores a result while the call is live; the carrier still decides status and outcome, and the result stays", async () => {
    restore = useSimulatedTime();
    const { t, id } = await liveCampaign([ANSWERED]);
    const link = await resultLink(t, ANSWERED);
    const body = { disposition: "interested", summary: "Wants the premium plan.", data: { plan: "premium", seats: 12 } };
    const res = await post(link.path, body);
    const answered = await json<ContactWithResult>(res);
    expect(res.status, JSON.stringify(answered)).toBe(200);
    expect(answered).toMatchObject({ status: "connected", result: { ...body, call_id: link.callId, transcript_url: null, recording_url: null }, callbacks: 0 });

    const [done] = await runUntil(t, [id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ completed: 1, dispositions: { interested: 1 } });
    const [contact] = await contactsOf(t, id);
    expect(contact).toMatchObject({ status: "completed", outcome: "answered", attempts: 1, result: { disposition: "interested", call_id: link.callId } });

    // The last result for a call wins, and the counts follow it.
    const again = await post(link.path, { disposition: "not_interested" });
    expect(again.status).toBe(200);
    await step(t, [id]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ dispositions: { not_interested: 1 } });
    expect((await contactsOf(t, id))[0]?.result?.disposition).toBe("not_interested");
  });

  it("refuses a tampered, another call's, an expired or a missing token, and another account's key, changing nothing", async () => {
    restore = useSimulatedTime();
    const { t, id } = await liveCampaign([ANSWERED, OTHER]);
    const mine = await resultLink(t, ANSWERED);
    const theirs = await resultLink(t, OTHER);
    const flipped = `${mine.token.slice(0, -1)}${mine.token.endsWith("A") ? "B" : "A"}`;
    const path = `/api/v1/calls/${mine.callId}/result`;
    const body = { disposition: "interested" };
    for (const [what, target] of [
      ["tampered", `${path}?token=${flipped}`],
      ["another call's", `${path}?token=${theirs.token}`],
      ["missing", path],
      ["not a token", `${path}?token=sk_live_x`],
    ] as const) {
      expect((await post(target, body)).status, what).toBe(401);
    }
    const stranger = await newTenant();
    expect((await post(path, body, stranger.auth)).status).toBe(404);
    expect((await post(`/api/v1/calls/call_nonsense/result`, body, t.auth)).status).toBe(404);
    // The token opens this route only.
    expect((await call(`/api/v1/campaigns/${id}?token=${mine.token}`)).status).toBe(401);
    expect((await contactsOf(t, id)).map((c) => c.result)).toEqual([null, null]);

    // 48 hours after the dial the token has expired; the account's key still reports.
    const restoreClock = useSimulatedTime(Date.now() + CALL_TOKEN_TTL_MS + 1_000);
    const expired = await post(mine.path, body);
    expect(expired.status).toBe(401);
    expect(await expired.text()).toContain("expired");
    restoreClock();
    restore = useSimulatedTime();
    expect((await post(path, body, t.auth)).status).toBe(200);
  });

  it.each([
    [{}, "disposition"],
    [{ disposition: "Not Valid" }, "disposition"],
    [{ disposition: "interested", surprise: 1 }, "surprise"],
    [{ disposition: "interested", callback_in_seconds: 10 }, "callback_in_seconds"],
    [{ disposition: "interested", callback_at: "9999-12-31T23:59:59Z" }, "callback_at"],
    [{ disposition: "interested", recording_url: "http://insecure.test/r.mp3" }, "recording_url"],
    [{ disposition: "maybe" }, "use one of interested, not_interested"],
  ])("a bad body (%j) is a 400 naming %s, and nothing is stored", async (body, named) => {
    restore = useSimulatedTime();
    const { t, id } = await liveCampaign([ANSWERED], { dispositions: "interested,not_interested" });
    const link = await resultLink(t, ANSWERED);
    const res = await post(link.path, body);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(named);
    expect((await contactsOf(t, id))[0]?.result).toBeNull();
  });
});

describe("callbacks", () => {
  it("a callback asked for on the call is dialled when due, uses no retry, and the campaign waits for it", async () => {
    restore = useSimulatedTime();
    const { t, id } = await liveCampaign([ANSWERED], { retries_per_contact: "0" });
    const link = await resultLink(t, ANSWERED);
    expect((await post(link.path, { disposition: "call_back_later", callback_in_seconds: 3_600 })).status).toBe(200);
    const [waiting] = await runUntil(t, [id], (c) => c.status_reason?.includes("callback") ?? false);
    expect(waiting?.status).toBe("running");
    expect(waiting?.status_reason).toMatch(/^1 contact waits for a callback; the next is due at /);
    const [pending] = await contactsOf(t, id);
    expect(pending).toMatchObject({ status: "pending", outcome: "callback", attempts: 1, callbacks: 1 });
    const [done] = await runUntil(t, [id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ completed: 1, pending: 0 });
    const [contact] = await contactsOf(t, id);
    expect(contact).toMatchObject({ status: "completed", outcome: "answered", attempts: 2, callbacks: 1 });
    expect((await carriedCalls(t)).filter((c) => c.to === ANSWERED)).toHaveLength(2);
  });

  it("a callback survives the object's eviction between the result and the end of the call", async () => {
    restore = useSimulatedTime();
    const { t, id } = await liveCampaign([ANSWERED]);
    const link = await resultLink(t, ANSWERED);
    expect((await post(link.path, { disposition: "call_back_later", callback_in_seconds: 600 })).status).toBe(200);
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(campaignStub(id));
    await runUntil(t, [id], untilStatus("completed"));
    const [contact] = await contactsOf(t, id);
    expect(contact).toMatchObject({ attempts: 2, callbacks: 1, result: { disposition: "call_back_later" } });
  });

  it("an operator's callback moves into the calling window, a 6th is refused, and stop cancels a waiting one", async () => {
    // Monday 2030-01-07, 10:00 in New York: inside 09:00–17:00.
    const monday = (minutes: number) => instantOfWallTime("America/New_York", 2030, 1, 7, minutes);
    restore = useSimulatedTime(monday(10 * 60));
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    const { id } = await createCampaign(t, "phone_number\n+12125550100\n", { calling_window_start: "09:00", calling_window_end: "17:00" });
    const [contact] = await contactsOf(t, id);
    const schedule = (at: number) => post(`/api/v1/campaigns/${id}/contacts/${contact?.id}/callback`, { callback_at: new Date(at).toISOString() }, t.auth);

    const evening = await json<ContactWithResult>(await schedule(monday(18 * 60)));
    expect(evening).toMatchObject({ status: "pending", outcome: "callback", callbacks: 1 });
    expect(evening.next_attempt_at).toBe(new Date(instantOfWallTime("America/New_York", 2030, 1, 8, 9 * 60)).toISOString());
    for (let n = 2; n <= 5; n++) expect((await schedule(monday(15 * 60))).status, `callback ${n}`).toBe(200);
    const sixth = await schedule(monday(15 * 60));
    expect(sixth.status).toBe(409);
    expect(await sixth.text()).toContain("5 callbacks");
    expect(
      (await call(`/api/v1/campaigns/${id}/contacts/ctc_nothing/callback`, jsonInit("POST", { callback_at: new Date(monday(15 * 60)).toISOString() }, t.auth)))
        .status,
    ).toBe(404);

    expect((await lifecycle(t, id, "stop")).status).toBe(200);
    const [stopped] = await contactsOf(t, id);
    expect(stopped).toMatchObject({ status: "cancelled", attempts: 0 });
    expect((await schedule(monday(15 * 60))).status).toBe(409);
  });
});

describe("opt-out", () => {
  it("lists the number before the answer returns, so another campaign never dials it", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 20 });
    const other = await createCampaign(t, `phone_number\n${ANSWERED}\n`);
    const { id } = await liveCampaign([ANSWERED], {}, t);
    const link = await resultLink(t, ANSWERED);
    const res = await post(link.path, { disposition: "do_not_call", opt_out: true, callback_in_seconds: 600 });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ callbacks: 0, result: { disposition: "do_not_call" } });
    const listed = await json<{ reason: string }>(await call(`/api/v1/dnc/${encodeURIComponent(ANSWERED)}`, { headers: t.auth }));
    expect(listed.reason).toBe(`opt-out on call ${link.callId}`);

    expect((await lifecycle(t, other.id, "start")).status).toBe(200);
    await runUntil(t, [id, other.id], untilStatus("completed"));
    expect((await contactsOf(t, other.id))[0]).toMatchObject({ status: "cancelled", outcome: "dnc", attempts: 0 });
    // The opt-out's own contact gets no callback, though one was asked for.
    expect((await contactsOf(t, id))[0]).toMatchObject({ status: "completed", attempts: 1, callbacks: 0 });
    expect((await carriedCalls(t)).filter((c) => c.to === ANSWERED)).toHaveLength(1);
  });
});

describe("opt-out racing another campaign's dial", () => {
  afterEach(() => vi.restoreAllMocks());

  /**
   * A Twilio number whose REST answers wait until `release()`; `log` records, in order, each dial
   * sent and answered (by destination) and what the test marks. The wait polls a plain flag: a
   * promise made in an object's context cannot be resolved from the test's.
   */
  function heldTwilio() {
    const log: string[] = [];
    let released = false;
    const original = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).hostname !== "api.twilio.com") return original(input, init);
      if (request.method !== "POST") return Response.json({ code: 20404, message: "not found", status: 404 }, { status: 404 });
      const to = new URLSearchParams(await request.text()).get("To") ?? "";
      log.push(`sent ${to}`);
      while (!released) await new Promise((r) => setTimeout(r, 2));
      log.push(`answered ${to}`);
      return Response.json({ sid: `CA${crypto.randomUUID().replaceAll("-", "")}`, status: "queued" }, { status: 201 });
    });
    return {
      log,
      release: () => {
        released = true;
      },
    };
  }

  async function twilioNumber(t: Tenant) {
    const credentials = { account_sid: `AC${"3".repeat(32)}`, auth_token: "t" };
    const provider = await json<{ id: string }>(await call("/api/v1/telephony/providers", jsonInit("POST", { provider: "twilio", credentials }, t.auth)));
    const number = await json<{ id: string }>(
      await call("/api/v1/telephony/numbers", jsonInit("POST", { e164: "+15550007777", credentials_id: provider.id, provider: "twilio" }, t.auth)),
    );
    return { ...t, numberId: number.id };
  }

  it("a dial already past its DNC check is answered before the opt-out returns; a tick after it never dials the number", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 20 });
    const twilio = await twilioNumber(t);
    // Both other campaigns hold the number before it is listed, so only the dial-time check and the fence stand in the way.
    const passed = await createCampaign(twilio, `phone_number\n${ANSWERED}\n`);
    const later = await createCampaign(twilio, `phone_number\n${ANSWERED}\n`);
    const { id } = await liveCampaign([ANSWERED], {}, t);
    const link = await resultLink(t, ANSWERED);
    // The result comes after the call ended: a number in a live call is not dialled by another campaign at all (the contact policy).
    await runUntil(t, [id], untilStatus("completed"));
    const carrier = heldTwilio();

    // One campaign's tick reads the list (not listed yet) and sends its dial, whose answer the carrier holds.
    expect((await lifecycle(t, passed.id, "start")).status).toBe(200);
    const tick = runDurableObjectAlarm(campaignStub(passed.id));
    for (let i = 0; i < 500 && carrier.log.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
    expect(carrier.log).toEqual([`sent ${ANSWERED}`]);
    expect((await lifecycle(t, later.id, "start")).status).toBe(200);

    // The opt-out arrives mid-tick: its answer waits until that dial's request has been answered.
    let returned = false;
    const optOut = post(link.path, { disposition: "do_not_call", opt_out: true }).then((res) => {
      returned = true;
      carrier.log.push("opt-out returned");
      return res;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(returned, "the opt-out returned while another campaign's dial of the number was still in flight").toBe(false);
    carrier.release();
    expect((await optOut).status).toBe(200);
    await tick;
    expect(carrier.log).toEqual([`sent ${ANSWERED}`, `answered ${ANSWERED}`, "opt-out returned"]);

    // The other campaign's contact was due all along; its tick comes after the answer, reads the list and never dials.
    await runDurableObjectAlarm(campaignStub(later.id));
    const afterAnswer = carrier.log.slice(carrier.log.indexOf("opt-out returned") + 1);
    expect(afterAnswer, "no dial of the number after the opt-out returned").toEqual([]);
    const { originations } = await campaignStub(later.id).inspect(later.id);
    expect(originations).toHaveLength(0);
    await runUntil(t, [id], untilStatus("completed"));
    expect((await contactsOf(t, later.id))[0]).toMatchObject({ status: "cancelled", outcome: "dnc", attempts: 0 });
  });
});

describe("results out", () => {
  it("replays event: result in the contact events' id sequence, and filters the list and the export by disposition", async () => {
    restore = useSimulatedTime();
    const { t, id } = await liveCampaign([ANSWERED, OTHER]);
    expect((await post((await resultLink(t, ANSWERED)).path, { disposition: "interested", summary: "=cmd|' /C calc'!A0" })).status).toBe(200);
    expect((await post((await resultLink(t, OTHER)).path, { disposition: "not_interested" })).status).toBe(200);
    await runUntil(t, [id], untilStatus("completed"));

    const stream = await (await call(`/api/v1/campaigns/${id}/events`, { headers: { ...t.auth, "Last-Event-ID": "0" } })).text();
    const ids = [...stream.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const results = [...stream.matchAll(/^event: result\nid: \d+\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1] as string));
    expect(results.map((r) => r.disposition).sort()).toEqual(["interested", "not_interested"]);
    expect(results[0]).toMatchObject({ opt_out: false, callback_at: null });

    const list = await json<{ contacts: ContactWithResult[]; total: number }>(
      await call(`/api/v1/campaigns/${id}/contacts?disposition=interested`, { headers: t.auth }),
    );
    expect(list.total).toBe(1);
    expect(list.contacts.map((c) => c.phone_number)).toEqual([ANSWERED]);
    expect((await call(`/api/v1/campaigns/${id}/contacts?disposition=Bad!`, { headers: t.auth })).status).toBe(400);

    const csv = await (await call(`/api/v1/campaigns/${id}/contacts.csv?disposition=interested`, { headers: t.auth })).text();
    const [header, row] = csv.trim().split("\r\n");
    expect(header).toContain("updated_at,disposition,summary,callback_at,transcript_url,recording_url,result_data,first_name");
    expect(row).toContain(",interested,'=cmd|' /C calc'!A0,");
    expect(csv.trim().split("\r\n")).toHaveLength(2);
  });
});

it("keeps the result route's key in SECRETS_KEY's own derivation: another deployment's tokens are refused", async () => {
  restore = useSimulatedTime();
  const { t } = await liveCampaign([ANSWERED]);
  const link = await resultLink(t, ANSWERED);
  const { mintCallToken } = await import("../src/call-results/call-token");
  const foreign = await mintCallToken({ ...env, SECRETS_KEY: "someone-else" }, link.callId, t.accountId, Date.now() + 60_000);
  expect((await post(`/api/v1/calls/${link.callId}/result?token=${foreign}`, { disposition: "x" })).status).toBe(401);
});

describe("callbacks under the account's contact policy", () => {
  it("a callback that comes due while its number is at its cap waits for the policy, then is dialled", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    expect((await call("/api/v1/contact-policy", jsonInit("PUT", { max_attempts: { count: 1, days: 1 } }, t.auth))).status).toBe(200);
    const { id } = await liveCampaign([ANSWERED], {}, t);
    expect((await post((await resultLink(t, ANSWERED)).path, { disposition: "call_later", callback_in_seconds: 600 })).status).toBe(200);

    // Due 10 minutes after the call, but the number had its one dial of the rolling day: the callback waits, and the campaign with it.
    const [waiting] = await runUntil(t, [id], (c) => c.status_reason?.includes("contact policy") ?? false);
    expect(waiting?.status).toBe("running");
    expect((await contactsOf(t, id))[0]).toMatchObject({ status: "pending", outcome: "callback" });

    await runUntil(t, [id], untilStatus("completed"));
    const dials = (await carriedCalls(t)).filter((c) => c.to === ANSWERED).map((c) => c.created_at);
    expect(dials).toHaveLength(2);
    expect((dials[1] as number) - (dials[0] as number), "the callback's dial waited a whole day after the first").toBeGreaterThanOrEqual(86_400_000);
  });
});
