import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Edgedial } from "../client/index";
import { getAccountStub } from "../src/accounts/stub";
import { BASE, call, json, jsonInit, newTenant, type Tenant } from "./helpers";

interface PolicyView {
  max_attempts: { count: number; days: number } | null;
  max_attempts_per_day: number | null;
  count_voicemail: boolean;
  min_seconds_between_attempts: number | null;
  eligibility_url: string | null;
  updated_at: string | null;
  eligibility_secret?: string;
}

const OFF = {
  max_attempts: null,
  max_attempts_per_day: null,
  count_voicemail: true,
  min_seconds_between_attempts: null,
  eligibility_url: null,
  updated_at: null,
};

const getPolicy = async (t: Tenant) => json<PolicyView>(await call("/api/v1/contact-policy", { headers: t.auth }));
const putPolicy = (t: Tenant, body: unknown) => call("/api/v1/contact-policy", jsonInit("PUT", body, t.auth));
async function updated(t: Tenant, body: unknown): Promise<PolicyView> {
  const res = await putPolicy(t, body);
  if (res.status !== 200) throw new Error(`PUT failed: ${res.status} ${await res.text()}`);
  return json(res);
}

describe("contact policy routes", () => {
  it("starts with no rules, sets the fields given, keeps the others, and null clears one", async () => {
    const t = await newTenant();
    expect(await getPolicy(t)).toEqual(OFF);

    const first = await updated(t, { max_attempts: { count: 7, days: 7 }, max_attempts_per_day: 3, min_seconds_between_attempts: 3600 });
    expect(first).toEqual({
      ...OFF,
      max_attempts: { count: 7, days: 7 },
      max_attempts_per_day: 3,
      min_seconds_between_attempts: 3600,
      updated_at: expect.stringMatching(/Z$/),
    });
    expect(await getPolicy(t)).toEqual(first);

    const second = await updated(t, { count_voicemail: false, max_attempts_per_day: null });
    expect(second).toMatchObject({
      max_attempts: { count: 7, days: 7 },
      max_attempts_per_day: null,
      count_voicemail: false,
      min_seconds_between_attempts: 3600,
    });
    expect(second.updated_at! >= first.updated_at!).toBe(true);

    const cleared = await updated(t, { max_attempts: null, min_seconds_between_attempts: null, count_voicemail: true });
    expect(cleared).toEqual({ ...OFF, updated_at: expect.any(String) });
    // An empty PUT changes nothing, not even updated_at.
    expect(await updated(t, {})).toEqual(cleared);
  });

  it("names each bad field in a 400 and changes nothing", async () => {
    const t = await newTenant();
    const before = await updated(t, { max_attempts: { count: 5, days: 2 } });
    const cases: [unknown, string][] = [
      [{ max_attempts: { count: 0, days: 7 } }, "max_attempts.count: must be a whole number from 1 to 100; got 0"],
      [{ max_attempts: { count: 101, days: 7 } }, "max_attempts.count: must be a whole number from 1 to 100; got 101"],
      [{ max_attempts: { count: 7, days: 31 } }, "max_attempts.days: must be a whole number from 1 to 30; got 31"],
      [{ max_attempts: { count: 2.5, days: 7 } }, "max_attempts.count: must be a whole number from 1 to 100"],
      [{ max_attempts: { count: 7 } }, "max_attempts.days: must be a whole number from 1 to 30"],
      [{ max_attempts: { count: 7, days: 7, weeks: 1 } }, "max_attempts: takes only count and days"],
      [{ max_attempts: 7 }, 'max_attempts: must be {"count", "days"} or null'],
      [{ max_attempts_per_day: 0 }, "max_attempts_per_day: must be a whole number from 1 to 100; got 0"],
      [{ max_attempts_per_day: "3" }, "max_attempts_per_day: must be a whole number from 1 to 100"],
      [{ count_voicemail: null }, "count_voicemail: must be true or false"],
      [{ count_voicemail: "yes" }, "count_voicemail: must be true or false"],
      [{ min_seconds_between_attempts: -1 }, "min_seconds_between_attempts: must be a whole number from 0 to 604800; got -1"],
      [{ min_seconds_between_attempts: 604_801 }, "min_seconds_between_attempts: must be a whole number from 0 to 604800; got 604801"],
      [{ eligibility_url: 42 }, "eligibility_url: must be a URL or null"],
      [{ eligibility_url: "not a url" }, 'eligibility_url must be an absolute https:// URL; "not a url" is not a valid URL.'],
      [{ eligibility_url: `https://a.example.com/${"x".repeat(2048)}` }, "eligibility_url: must be at most 2048 characters long"],
      [{ max_attempt: { count: 1, days: 1 } }, "unknown field max_attempt"],
    ];
    for (const [body, sentence] of cases) {
      const res = await putPolicy(t, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.text(), JSON.stringify(body)).toContain(sentence);
    }
    const notJson = await call("/api/v1/contact-policy", { method: "PUT", headers: { ...t.auth, "Content-Type": "text/plain" }, body: "{}" });
    expect(notJson.status).toBe(415);
    expect(await getPolicy(t)).toEqual(before);
  });

  it("refuses eligibility URLs under the webhook URL rules (SSRF), naming the field", async () => {
    const t = await newTenant();
    const refused: [string, string][] = [
      ["http://hooks.example.com/check", "eligibility_url must use https"],
      ["https://10.0.0.8/check", "a private network address"],
      ["https://169.254.169.254/latest/meta-data", "a link-local address"],
      ["https://[::ffff:127.0.0.1]/check", "an IPv4-mapped IPv6 address"],
      ["https://0xa000001/", "points at 10.0.0.1, a private network address"],
      ["https://100.64.1.1/", "a carrier-grade NAT (shared) address"],
      ["https://user:pw@hooks.example.com/", "eligibility_url must not carry credentials"],
      ["ftp://hooks.example.com/", "eligibility_url must use https; got ftp"],
    ];
    for (const [url, sentence] of refused) {
      const res = await putPolicy(t, { eligibility_url: url });
      expect(res.status, url).toBe(400);
      expect(await res.text(), url).toContain(sentence);
    }
    expect((await getPolicy(t)).eligibility_url).toBeNull();
  });

  it("shows the eligibility secret only in the answer that sets a new URL, and stores it sealed", async () => {
    const t = await newTenant();
    const set = await updated(t, { eligibility_url: "https://crm.example.com/eligible" });
    expect(set.eligibility_url).toBe("https://crm.example.com/eligible");
    expect(set.eligibility_secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const read = await getPolicy(t);
    expect("eligibility_secret" in read).toBe(false);
    const stored = await getAccountStub(env, t.accountId).contactPolicy();
    expect(stored.eligibility?.url).toBe("https://crm.example.com/eligible");
    expect(stored.eligibility?.secret).not.toContain(set.eligibility_secret!.slice(6));

    // The same URL again, or another field: the secret stays and is not shown.
    const same = await updated(t, { eligibility_url: "https://crm.example.com/eligible", max_attempts_per_day: 2 });
    expect("eligibility_secret" in same).toBe(false);
    expect("eligibility_secret" in (await updated(t, { count_voicemail: false }))).toBe(false);
    expect((await getAccountStub(env, t.accountId).contactPolicy()).eligibility).toEqual(stored.eligibility);

    const moved = await updated(t, { eligibility_url: "https://crm.example.com/v2/eligible" });
    expect(moved.eligibility_secret).toMatch(/^whsec_/);
    expect(moved.eligibility_secret).not.toBe(set.eligibility_secret);

    const off = await updated(t, { eligibility_url: null });
    expect(off.eligibility_url).toBeNull();
    expect((await getAccountStub(env, t.accountId).contactPolicy()).eligibility).toBeNull();
    expect(off.max_attempts_per_day).toBe(2);
  });

  it("keeps each account's policy to itself and asks for credentials", async () => {
    const [t, other] = await Promise.all([newTenant(), newTenant()]);
    await updated(t, { max_attempts: { count: 3, days: 1 }, eligibility_url: "https://crm.example.com/eligible" });
    expect(await getPolicy(other)).toEqual(OFF);
    await updated(other, { max_attempts_per_day: 1 });
    expect(await getPolicy(t)).toMatchObject({
      max_attempts: { count: 3, days: 1 },
      max_attempts_per_day: null,
      eligibility_url: "https://crm.example.com/eligible",
    });
    expect((await call("/api/v1/contact-policy")).status).toBe(401);
    expect((await call("/api/v1/contact-policy", jsonInit("PUT", { max_attempts_per_day: 1 }))).status).toBe(401);
  });

  it("is reached through the typed client", async () => {
    const t = await newTenant();
    const edgedial = new Edgedial({ apiKey: t.key, baseUrl: BASE, fetch: (request) => exports.default.fetch(request) });
    expect(await edgedial.contactPolicy.get()).toEqual(OFF);
    const set = await edgedial.contactPolicy.update({ max_attempts: { count: 7, days: 7 }, eligibility_url: "https://crm.example.com/eligible" });
    expect(set).toMatchObject({
      max_attempts: { count: 7, days: 7 },
      eligibility_url: "https://crm.example.com/eligible",
      eligibility_secret: expect.stringMatching(/^whsec_/),
    });
    expect(await edgedial.contactPolicy.get()).toEqual({ ...set, eligibility_secret: undefined });
    await expect(edgedial.contactPolicy.update({ max_attempts_per_day: 0 })).rejects.toMatchObject({ status: 400, code: "bad_request" });
  });
});
