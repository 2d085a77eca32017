import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { EligibilityStage } from "../src/campaign-object/dial/eligibility-stage";
import { ObjectStorage } from "../src/campaign-object/storage/object-storage";
import type { LiveContact } from "../src/campaign-object/storage/working-contacts";
import { getCampaignStub } from "../src/campaign-object/stub";
import { Transitions } from "../src/campaign-object/transitions";
import type { FetchLike } from "../src/carriers/types";
import {
  askEligibility,
  type EligibilityContact,
  eligibilityBatches,
  eligibilityRetryDelayMs,
  OMITTED_RETRY_MS,
  readEligibilityAnswer,
} from "../src/contact-policy/eligibility";
import { encryptSecret } from "../src/http/crypto";
import { importSigningKey, newWebhookSecret } from "../src/outbox/signing";

afterEach(() => {
  vi.useRealTimers();
});

const asked = new Set(["ctc_a", "ctc_b"]);
const ok = (body: unknown) => readEligibilityAnswer(200, null, JSON.stringify(body), asked);

describe("reading the eligibility answer", () => {
  it("takes a well-formed answer, reasons trimmed and a left-out contact simply absent", () => {
    const answer = ok({
      results: [
        { contact_id: "ctc_a", dial: true },
        { contact_id: "ctc_b", dial: false, reason: "  in collections hold " },
      ],
    });
    expect(answer).toEqual({
      ok: true,
      verdicts: new Map([
        ["ctc_a", { dial: true, reason: null }],
        ["ctc_b", { dial: false, reason: "in collections hold" }],
      ]),
    });
    const partial = ok({ results: [{ contact_id: "ctc_a", dial: true, reason: null }] });
    expect(partial.ok && [...partial.verdicts.keys()]).toEqual(["ctc_a"]);
  });

  it.each([
    [503, null, "", "HTTP 503"],
    [302, "https://elsewhere.example.com/", "", "HTTP 302: redirect to https://elsewhere.example.com/ not followed"],
    [200, null, "OK", "not JSON"],
    [200, null, "[]", 'no "results" array'],
    [200, null, '{"results":{}}', 'no "results" array'],
    [200, null, '{"results":[],"more":1}', "unknown field more"],
    [200, null, '{"results":[1]}', "results[0] is not an object"],
    [200, null, '{"results":[{"contact_id":"ctc_a"}]}', "results[0].dial must be true or false"],
    [200, null, '{"results":[{"contact_id":"ctc_a","dial":"yes"}]}', "results[0].dial must be true or false"],
    [200, null, '{"results":[{"contact_id":7,"dial":true}]}', "results[0].contact_id must be a string"],
    [200, null, '{"results":[{"contact_id":"ctc_z","dial":true}]}', "ctc_z was not asked about"],
    [200, null, '{"results":[{"contact_id":"ctc_a","dial":true},{"contact_id":"ctc_a","dial":false}]}', "answered twice"],
    [200, null, '{"results":[{"contact_id":"ctc_a","dial":false,"reason":3}]}', "results[0].reason must be a string"],
    [200, null, '{"results":[{"contact_id":"ctc_a","dial":true,"score":1}]}', "results[0] has unknown field score"],
  ])("fails closed on %i %s %s", (status, location, body, reason) => {
    const answer = readEligibilityAnswer(status, location, body, asked);
    expect(answer.ok).toBe(false);
    expect(!answer.ok && answer.reason).toContain(reason);
  });
});

describe("eligibility batches and backoff", () => {
  it("cuts batches of at most 100 in order", () => {
    const ids = Array.from({ length: 250 }, (_, i) => i);
    expect(eligibilityBatches(ids).map((b) => b.length)).toEqual([100, 100, 50]);
    expect(eligibilityBatches(ids).flat()).toEqual(ids);
    expect(eligibilityBatches([])).toEqual([]);
  });

  it.each([
    [1, 5_000],
    [2, 15_000],
    [3, 60_000],
    [4, 300_000],
    [9, 300_000],
  ])("waits after %i failures in a row: %i ms", (failures, ms) => {
    expect(eligibilityRetryDelayMs(failures)).toBe(ms);
  });
});

const contact = (id: string, phone: string): EligibilityContact => ({
  contact_id: id,
  campaign_id: "cmp_1",
  phone_number: phone,
  custom_fields: { name: id },
  attempt: 1,
});
const POLICY = { allowLoopback: false };

describe("asking the endpoint", () => {
  it("POSTs one signed contact.eligibility message that the Standard Webhooks library verifies, without following redirects", async () => {
    const secret = newWebhookSecret();
    const seen: { url: string; init: RequestInit | undefined }[] = [];
    const fetch: FetchLike = async (input, init) => {
      seen.push({ url: String(input), init });
      return Response.json({ results: [{ contact_id: "ctc_a", dial: true }] });
    };
    const answer = await askEligibility(fetch, { url: "https://crm.example.com/eligible", key: await importSigningKey(secret) }, POLICY, [
      contact("ctc_a", "+15550100001"),
    ]);
    expect(answer.ok).toBe(true);
    const [request] = seen;
    expect(request?.url).toBe("https://crm.example.com/eligible");
    expect(request?.init?.redirect).toBe("manual");
    const headers = request?.init?.headers as Record<string, string>;
    const verified = new Webhook(secret).verify(request?.init?.body as string, headers) as { type: string; data: { contacts: EligibilityContact[] } };
    expect(verified.type).toBe("contact.eligibility");
    expect(verified.data.contacts).toEqual([contact("ctc_a", "+15550100001")]);
    expect(headers["webhook-id"]).toMatch(/^msg_/);
  });

  it("treats a redirect as a failure and never asks its target", async () => {
    const urls: string[] = [];
    const fetch: FetchLike = async (input) => {
      urls.push(String(input));
      return new Response(null, { status: 307, headers: { Location: "https://other.example.com/" } });
    };
    const answer = await askEligibility(fetch, { url: "https://crm.example.com/e", key: await importSigningKey(newWebhookSecret()) }, POLICY, [
      contact("ctc_a", "+1"),
    ]);
    expect(answer).toEqual({ ok: false, reason: "HTTP 307: redirect to https://other.example.com/ not followed; give the endpoint its final URL." });
    expect(urls).toEqual(["https://crm.example.com/e"]);
  });

  it("gives up after 5 s, on simulated time, even when the fetcher ignores the abort", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let signal: AbortSignal | undefined;
    const fetch: FetchLike = (_input, init) => {
      signal = init?.signal ?? undefined;
      return new Promise<Response>(() => undefined);
    };
    const key = await importSigningKey(newWebhookSecret());
    const pending = askEligibility(fetch, { url: "https://slow.example.com/", key }, POLICY, [contact("ctc_a", "+1")]);
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toEqual({ ok: false, reason: "no answer within 5 s." });
    expect(signal?.aborted).toBe(true);
  });

  it("refuses a URL the deployment's rules no longer accept, without a request", async () => {
    const fetch = vi.fn<FetchLike>();
    const answer = await askEligibility(fetch, { url: "http://127.0.0.1:9000/", key: await importSigningKey(newWebhookSecret()) }, POLICY, [
      contact("ctc_a", "+1"),
    ]);
    expect(answer.ok).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("reports a network error as a failure", async () => {
    const fetch: FetchLike = async () => {
      throw new TypeError("connection refused");
    };
    const answer = await askEligibility(fetch, { url: "https://down.example.com/", key: await importSigningKey(newWebhookSecret()) }, POLICY, [
      contact("ctc_a", "+1"),
    ]);
    expect(answer).toEqual({ ok: false, reason: "network error: connection refused" });
  });
});

let objects = 0;

/**
 * The stage inside a real campaign object's storage, with a fake endpoint: `answer` decides each
 * request's response from the contacts it was asked about.
 */
async function withStage(
  phones: string[],
  answer: (contacts: EligibilityContact[]) => Promise<Response> | Response,
  body: (parts: {
    stage: EligibilityStage;
    storage: ObjectStorage;
    contacts: () => LiveContact[];
    asked: EligibilityContact[][];
    restart: () => EligibilityStage;
  }) => Promise<void>,
) {
  const secret = await encryptSecret(newWebhookSecret(), env.SECRETS_KEY);
  const stub = getCampaignStub(env, `eligibility-unit-${Date.now()}-${objects++}`);
  await runInDurableObject(stub, async (_instance, state) => {
    const storage = new ObjectStorage(state.storage.sql);
    storage.createSchema();
    storage.campaign.save({
      campaign_id: "cmp_unit",
      account_id: "acct_unit",
      name: "unit",
      status: "running",
      status_reason: null,
      max_concurrent_calls: 10,
      retries_per_contact: 0,
      retry_delay_seconds: 60,
      agent_id: "agt_1",
      phone_number_id: "pn_1",
      scheduled_at: null,
      started_at: null,
      cursor_seq: -1,
      exhausted: 1,
      backoff_ms: 0,
      dial_after: 0,
      high_water: 0,
      calling_window: null,
      custom_columns: JSON.stringify(["name"]),
      result_settings: null,
      pause_on_failure_rate: null,
      failure_window: 20,
      ramp_up_seconds: 0,
      ramp_started_at: 0,
    });
    storage.campaign.initStats({ pending: phones.length, originated: 0, connected: 0, completed: 0, failed: 0, cancelled: 0 });
    storage.contacts.addPending(
      phones.map((phone, i) => ({
        id: `ctc_${i}`,
        seq: i,
        phone_number: phone,
        custom_fields: JSON.stringify({ name: `P${i}` }),
        attempts: 0,
        timezone: null,
        row: i + 2,
        created_at: "2026-01-01T00:00:00Z",
        callbacks: 0,
        expires_at: null,
      })),
    );
    const asked: EligibilityContact[][] = [];
    const fetch: FetchLike = async (_input, init) => {
      const contacts = (JSON.parse(init?.body as string) as { data: { contacts: EligibilityContact[] } }).data.contacts;
      asked.push(contacts);
      return answer(contacts);
    };
    const make = () =>
      new EligibilityStage({
        storage,
        transitions: new Transitions(storage),
        durable: state.storage,
        env: { SECRETS_KEY: env.SECRETS_KEY },
        fetch,
        eligibility: () => ({ url: "https://crm.example.com/eligible", secret }),
      });
    const contacts = () => phones.map((_, i) => storage.contacts.get(`ctc_${i}`) as LiveContact);
    await body({ stage: make(), storage, contacts, asked, restart: make });
  });
}

const dialAll = (contacts: EligibilityContact[]) => Response.json({ results: contacts.map((c) => ({ contact_id: c.contact_id, dial: true })) });

describe("the eligibility dial stage", () => {
  it("passes approved contacts, cancels a refused one as ineligible with its reason, and holds one left out", async () => {
    await withStage(
      ["+15550100001", "+15550100002", "+15550100003"],
      (contacts) =>
        Response.json({
          results: contacts
            .filter((c) => c.phone_number !== "+15550100003")
            .map((c) =>
              c.phone_number === "+15550100002"
                ? { contact_id: c.contact_id, dial: false, reason: "Customer asked for email only" }
                : { contact_id: c.contact_id, dial: true },
            ),
        }),
      async ({ stage, storage, contacts }) => {
        const now = Date.now();
        const admitted = await stage.admit(storage.contacts.due(now, 10));
        expect(admitted.map((c) => c.phone)).toEqual(["+15550100001"]);
        const [approved, refused, omitted] = contacts();
        expect(approved).toMatchObject({ status: "pending", next_attempt_at: null });
        expect(refused).toMatchObject({ status: "cancelled", outcome: "ineligible", last_error: "Customer asked for email only", next_attempt_at: null });
        expect(omitted?.status).toBe("pending");
        expect(omitted?.next_attempt_at).toBeGreaterThanOrEqual(now + OMITTED_RETRY_MS);
        expect(storage.campaign.stats()).toMatchObject({ pending: 2, cancelled: 1 });
        // Nothing else stopped: no campaign-wide wait.
        expect(storage.campaign.get()?.dial_after).toBe(0);
        expect(stage.waitingReason(now)).toContain("left out 1 contact");
      },
    );
  });

  it("asks in batches of 100 and dials no one of a batch whose answer failed", async () => {
    const phones = Array.from({ length: 150 }, (_, i) => `+1555020${String(i).padStart(4, "0")}`);
    let calls = 0;
    await withStage(
      phones,
      (contacts) => (calls++ === 0 ? dialAll(contacts) : new Response("oops", { status: 500 })),
      async ({ stage, storage, contacts, asked }) => {
        const now = Date.now();
        const admitted = await stage.admit(storage.contacts.due(now, 150));
        expect(asked.map((batch) => batch.length).sort()).toEqual([100, 50]);
        expect(admitted).toHaveLength(asked[0]?.length ?? 0);
        const approved = new Set(asked[0]?.map((c) => c.contact_id));
        expect(admitted.every((c) => approved.has(c.contact_id))).toBe(true);
        const held = contacts().filter((c) => !approved.has(c.contact_id));
        expect(held.every((c) => c.status === "pending" && (c.next_attempt_at ?? 0) >= now + 5_000)).toBe(true);
        expect(storage.campaign.get()?.dial_after).toBeGreaterThanOrEqual(now + 5_000);
        expect(stage.waitingReason(now)).toMatch(
          /^Waiting: the eligibility check failed \(crm\.example\.com: HTTP 500\); \d+ contacts wait and it is asked again at /,
        );
      },
    );
  });

  it.each([
    ["down", () => new Response(null, { status: 503 }), "HTTP 503"],
    ["malformed", () => new Response('{"results":"yes"}', { status: 200 }), 'no "results" array'],
    [
      "redirecting",
      () => new Response(null, { status: 301, headers: { Location: "https://evil.example.com/" } }),
      "redirect to https://evil.example.com/ not followed",
    ],
  ])("dials nobody while the endpoint is %s, backing off 5 s, 15 s, 60 s", async (_name, respond, reason) => {
    await withStage(["+15550100001", "+15550100002"], respond, async ({ stage, storage, contacts }) => {
      const delays: number[] = [];
      for (let i = 0; i < 3; i++) {
        const now = Date.now();
        expect(await stage.admit(storage.contacts.due(Number.MAX_SAFE_INTEGER, 10))).toEqual([]);
        delays.push(Math.round(((storage.campaign.get()?.dial_after ?? 0) - now) / 1_000));
        expect(stage.waitingReason(now)).toContain(reason);
      }
      expect(delays).toEqual([5, 15, 60]);
      expect(contacts().every((c) => c.status === "pending")).toBe(true);
    });
  });

  it("gives up on a slow endpoint after 5 s and dials no one", async () => {
    await withStage(
      ["+15550100001"],
      () => new Promise<Response>(() => undefined),
      async ({ stage, storage, contacts }) => {
        vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
        const pending = stage.admit(storage.contacts.due(Date.now(), 10));
        await vi.advanceTimersByTimeAsync(5_000);
        expect(await pending).toEqual([]);
        expect(stage.waitingReason(Date.now())).toContain("no answer within 5 s");
        expect(contacts()[0]).toMatchObject({ status: "pending" });
        expect(stage.times()).toMatchObject({ requests: 1, failures: 1, contacts_checked: 1 });
      },
    );
  });

  it("keeps no answer past its tick: after a restart between check and dial the contact is asked again", async () => {
    await withStage(["+15550100001"], dialAll, async ({ stage, storage, asked, restart }) => {
      const now = Date.now();
      expect(await stage.admit(storage.contacts.due(now, 10))).toHaveLength(1);
      // The tick ends before the dial (a crash): the contact is still pending and due, and a new object asks again.
      expect(storage.contacts.due(now, 10)).toHaveLength(1);
      expect(await restart().admit(storage.contacts.due(now, 10))).toHaveLength(1);
      expect(asked).toHaveLength(2);
      expect(stage.times().p99_ms).toBeGreaterThanOrEqual(0);
    });
  });

  it("asks nothing and passes everyone when the account has no check", async () => {
    const stage = new EligibilityStage({
      storage: null as unknown as ObjectStorage,
      transitions: null as unknown as Transitions,
      durable: null as unknown as DurableObjectStorage,
      env: {},
      fetch: () => Promise.reject(new Error("must not ask")),
      eligibility: () => null,
    });
    const contacts = [{ contact_id: "ctc_1" }] as LiveContact[];
    expect(await stage.admit(contacts)).toBe(contacts);
  });
});
