import { env, exports } from "cloudflare:workers";
import { parsePhoneNumberFromString } from "libphonenumber-js";
import { afterEach, describe, expect, it } from "vitest";
import { Edgedial, type Preflight } from "../client/index";
import { DEFAULT_ASSUMPTIONS, type EstimateInput, estimateDialling } from "../src/campaigns/estimate";
import { countListed, LISTED_AMONG_SQL } from "../src/dnc/check";
import { RegionTally } from "../src/uploads/number-country";
import { BASE, call, campaignForm, countRows, createCampaign, csvOf, json, jsonInit, lifecycle, newTenant, postCampaign, type Tenant } from "./helpers";
import { runUntil, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

const preflightForm = (t: Tenant, csv: string, fields: Record<string, string> = {}, query = "") =>
  call(`/api/v1/campaigns/preflight${query}`, { method: "POST", headers: t.auth, body: campaignForm(t, csv, fields) });

async function preflight(t: Tenant, csv: string, fields: Record<string, string> = {}, query = ""): Promise<Preflight> {
  const res = await preflightForm(t, csv, fields, query);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Preflight;
}

const phoneReason = (national = true) =>
  `The phone number could not be read; write it in international form such as +14155550100.${national ? " National numbers need default_country (e.g. US)." : ""}`;

/** What the account holds, to show a preflight changed nothing. */
const footprint = async (t: Tenant) => ({
  campaigns: await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId),
  contacts: await countRows("SELECT count(*) AS n FROM contacts WHERE account_id = ?", t.accountId),
  dnc: await countRows("SELECT count(*) AS n FROM dnc_numbers WHERE account_id = ?", t.accountId),
});

describe("POST /campaigns/preflight: create's own reading of the body", () => {
  it("lists every bad row as create numbers it, while create refuses with its first problem", async () => {
    const t = await newTenant();
    const csv = "phone_number,name\n+14155550100,ok\n12,bad\n\n nope ,bad\n+14155550101,a,b\n+1 415 555 0100,dup\n+14155550102,ok\n";
    const report = await preflight(t, csv);
    expect(report).toMatchObject({ ok: false, contacts: 2, duplicates_skipped: 1, errors_total: 3 });
    expect(report.errors).toEqual([
      { row: 3, value: "12", reason: phoneReason() },
      { row: 5, value: " nope ", reason: phoneReason() },
      { row: 6, value: "+14155550101,a,b", reason: "The row has more fields than the header (2); quote values that contain commas." },
    ]);
    // Create refuses with the rows that cannot be trusted first, then with the numbers: the same rows.
    const refused = await postCampaign(t, csv);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toBe("1 row has more fields than the header (2): rows 6. Quote values that contain commas. Nothing was created.");
    const withoutOverlong = csv.replace("+14155550101,a,b\n", "");
    const refusedNumbers = await postCampaign(t, withoutOverlong);
    expect(await refusedNumbers.text()).toContain('2 phone numbers could not be read: row 3 ("12"), row 5 (" nope ")');
    expect((await preflight(t, withoutOverlong)).errors.map((e) => e.row)).toEqual([3, 5]);
  });

  it("numbers JSON contacts from 1 and gives each malformed item create's sentence", async () => {
    const t = await newTenant();
    const body = {
      name: "JSON",
      agent_id: t.agentId,
      phone_number_id: t.numberId,
      contacts: [{ phone_number: "+14155550100" }, "x", { name: "no number" }, { phone_number: "bad" }, { phone_number: "+14155550101", tags: ["a"] }],
    };
    const res = await call("/api/v1/campaigns/preflight", jsonInit("POST", body, t.auth));
    const report = await json<Preflight>(res);
    expect(report.errors).toEqual([
      { row: 2, value: '"x"', reason: "contacts[1] must be an object with a phone_number." },
      { row: 3, value: '{"name":"no number"}', reason: "contacts[2] has no phone_number." },
      { row: 4, value: "bad", reason: phoneReason() },
      { row: 5, value: '{"phone_number":"+14155550101","tags":["a"]}', reason: "contacts[4].tags must be a string, number or boolean." },
    ]);
    const refused = await call("/api/v1/campaigns", jsonInit("POST", body, t.auth));
    expect(await refused.text()).toBe("contacts[1] must be an object with a phone_number.");
  });

  it.each([
    ["name,phone\nA,+14155550100\n", 'The CSV needs a phone_number column; found "name", "phone".'],
    ["phone_number,PHONE_NUMBER\n+14155550100,+14155550101\n", 'The CSV has the header "PHONE_NUMBER" twice (columns 1 and 2); header names must be unique.'],
    ["phone_number\n", "The contacts list has no contacts; add at least one row with a phone_number."],
  ])("reports a problem of the whole file %j once, with row null and create's message", async (csv, reason) => {
    const t = await newTenant();
    const report = await preflight(t, csv);
    expect(report).toMatchObject({ ok: false, contacts: 0, errors: [{ row: null, value: null, reason }], errors_total: 1 });
    expect(await (await postCampaign(t, csv)).text()).toBe(reason);
  });

  it("reports bad form fields as entries with row null and the value sent, not as a 400", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const form = campaignForm(t, csvOf(2), {
      max_concurrent_calls: "0",
      retry_delay_seconds: "5",
      scheduled_at: "2001-01-01T00:00:00Z",
      default_country: "XX",
      agent_id: other.agentId,
      calling_window_start: "25:00",
      calling_window_end: "18:00",
    });
    form.delete("contacts");
    const res = await call("/api/v1/campaigns/preflight", { method: "POST", headers: t.auth, body: form });
    expect(res.status).toBe(200);
    const report = await json<Preflight>(res);
    expect(report.ok).toBe(false);
    const byValue = Object.fromEntries(report.errors.map((e) => [e.value ?? "(none)", e]));
    expect(report.errors.every((e) => e.row === null)).toBe(true);
    expect(byValue["0"]?.reason).toBe("max_concurrent_calls must be from 1 to 100; got 0.");
    expect(byValue["5"]?.reason).toContain("retry_delay_seconds");
    expect(byValue["2001-01-01T00:00:00Z"]?.reason).toContain("in the past");
    expect(byValue.XX?.reason).toContain("default_country");
    expect(byValue[other.agentId]?.reason).toBe(`agent_id ${other.agentId} is not an agent of this account.`);
    expect(report.errors.some((e) => e.reason.includes("calling_window_start"))).toBe(true);
    expect(report.errors.at(-1)).toEqual({ row: null, value: null, reason: "contacts is required: attach the CSV file as the `contacts` form field." });
    // Each reason is create's 400 for that field alone.
    const alone = await postCampaign(t, csvOf(2), { max_concurrent_calls: "0" });
    expect(await alone.text()).toBe(byValue["0"]?.reason);
  });

  it("keeps 413 and 415 as errors: they are the request, not a field", async () => {
    const t = await newTenant();
    const wrongType = await call("/api/v1/campaigns/preflight", { method: "POST", headers: { ...t.auth, "Content-Type": "text/csv" }, body: csvOf(1) });
    expect(wrongType.status).toBe(415);
    await wrongType.body?.cancel();
    const big = `phone_number\n${"+14155550100\n".repeat(850_000)}`;
    const tooBig = await preflightForm(t, big);
    expect(tooBig.status).toBe(413);
    await tooBig.body?.cancel();
    const badAssumption = await preflightForm(t, csvOf(1), {}, "?answer_rate=2");
    expect(badAssumption.status).toBe(400);
    expect(await badAssumption.text()).toBe('answer_rate must be a number from 0 to 1; got "2".');
  });

  it("counts what create writes: contacts, repeats, do-not-call numbers, and regions", async () => {
    const t = await newTenant();
    const listed = await call("/api/v1/dnc", jsonInit("POST", { numbers: ["+14165550100", "+442079460958", "+19995550000"] }, t.auth));
    expect(listed.status).toBe(200);
    const csv = [
      "phone_number,name",
      "+14155550100,us",
      "+1 (416) 555-0100,ca",
      "+12685550100,ag",
      "+442079460958,gb",
      "+447781123456,gg",
      "+15550100000,fictional",
      "+14155550100,repeat",
      "+4930123456,de",
    ].join("\n");
    const report = await preflight(t, csv);
    expect(report).toMatchObject({ ok: true, contacts: 7, duplicates_skipped: 1, dnc_suppressed: 2, errors: [], errors_total: 0 });
    expect(report.countries).toEqual({ AG: 1, CA: 1, DE: 1, GB: 1, GG: 1, US: 1, ZZ: 1 });
    expect(report.estimate.dials).toBe(5); // the listed two are never dialled; no retries
    const created = await createCampaign(t, csv);
    expect(created).toMatchObject({ duplicates_skipped: 1, stats: { total: 7, cancelled: 2, pending: 5 } });
    expect((created as unknown as { dnc_suppressed: number }).dnc_suppressed).toBe(2);
  });

  it("writes nothing, whether the body is good or bad, under every mount", async () => {
    const t = await newTenant();
    await call("/api/v1/dnc", jsonInit("POST", { numbers: ["+15550100001"] }, t.auth));
    const before = await footprint(t);
    expect(before).toEqual({ campaigns: 0, contacts: 0, dnc: 1 });
    for (const prefix of ["/api/v1", "/v1", "/hub-api/api/v1"]) {
      const good = await call(`${prefix}/campaigns/preflight`, { method: "POST", headers: t.auth, body: campaignForm(t, csvOf(50)) });
      expect((await json<Preflight>(good)).ok).toBe(true);
    }
    await preflight(t, "phone_number\nbad\n", { max_concurrent_calls: "0" });
    await call("/api/v1/campaigns/preflight", jsonInit("POST", { name: "x", agent_id: t.agentId, phone_number_id: t.numberId, contacts: [{}] }, t.auth));
    expect(await footprint(t)).toEqual(before);
  });

  it("needs credentials like create", async () => {
    const t = await newTenant();
    const anonymous = await call("/api/v1/campaigns/preflight", { method: "POST", body: campaignForm(t, csvOf(1)) });
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
  });

  it("reads 100k contacts in one request and still writes nothing", { timeout: 120_000 }, async () => {
    const t = await newTenant();
    const lines = ["phone_number,first_name,last_name,city,plan,ref,note"];
    for (let i = 0; i < 100_000; i++)
      lines.push(`+1 (415) ${String(i).padStart(7, "0").slice(0, 3)}-${String(i).padStart(7, "0").slice(3)},F${i},L${i},City,gold,R${i},n`);
    const started = Date.now();
    const report = await preflight(t, lines.join("\n"));
    const elapsed = Date.now() - started;
    expect(report).toMatchObject({ ok: true, contacts: 100_000, errors: [] });
    expect(Object.values(report.countries).reduce((a, b) => a + b, 0)).toBe(100_000);
    expect(await footprint(t)).toEqual({ campaigns: 0, contacts: 0, dnc: 0 });
    console.log(`preflight of 100k contacts: ${elapsed} ms`);
  });
});

describe("the do-not-call count", () => {
  it("seeks the list once per number and counts across batches", async () => {
    const t = await newTenant();
    await call("/api/v1/dnc", jsonInit("POST", { numbers: ["+15550000007", "+15550060000", "+15550119999"] }, t.auth));
    const phones = Array.from({ length: 120_000 }, (_, i) => `+1555${String(i).padStart(7, "0")}`);
    expect(await countListed(env.DB, t.accountId, phones)).toBe(3);
    expect(await countListed(env.DB, t.accountId, [])).toBe(0);
    const plan = (await env.DB.prepare(`EXPLAIN QUERY PLAN SELECT count(*) AS n FROM (${LISTED_AMONG_SQL})`).bind("a", "[]").all<{ detail: string }>()).results;
    expect(plan.map((r) => r.detail).join("\n")).toMatch(/SEARCH dnc_numbers USING PRIMARY KEY \(account_id=\? AND phone_number=\?\)/);
  });
});

describe("regions of numbers", () => {
  it("agrees with libphonenumber for valid numbers, shared calling codes included", () => {
    const numbers = [
      "+14155550100",
      "+12125550100",
      "+14165550100",
      "+16045550100",
      "+12685550100",
      "+18765550100",
      "+17875550100",
      "+442079460958",
      "+447781123456",
      "+441534123456",
      "+447624123456",
      "+79161234567",
      "+77012345678",
      "+390669812345",
      "+390212345678",
      "+61212345678",
      "+33123456789",
      "+4930123456",
      "+919876543210",
      "+5511987654321",
    ];
    for (const number of numbers) {
      const tally = new RegionTally();
      tally.add(number);
      expect(Object.keys(tally.toJSON()), number).toEqual([parsePhoneNumberFromString(number)?.country]);
    }
  });

  it("counts numbers no region claims as ZZ, and orders the largest first", () => {
    const tally = new RegionTally();
    for (const number of ["+80012345678", "+15550100000", "+15550100001", "+14155550100", "+33123456789", "+33123456788", "+33123456787"]) tally.add(number);
    expect(Object.entries(tally.toJSON())).toEqual([
      ["FR", 3],
      ["ZZ", 3],
      ["US", 1],
    ]);
  });
});

describe("the forecast (pure)", () => {
  const base: EstimateInput = {
    contacts: 100,
    maxConcurrentCalls: 10,
    retriesPerContact: 0,
    retryDelaySeconds: 300,
    limits: { concurrent_max: 10, calls_per_minute: 1_000_000, daily_calls_max: 10_000, daily_minutes_max: 100_000 },
    usedToday: { calls: 0, talkSeconds: 0 },
    startAt: Date.UTC(2030, 0, 7, 12),
    window: null,
    assumptions: DEFAULT_ASSUMPTIONS,
  };
  const perDial = 0.74 * 38 + 0.26 * 13;

  it("runs as many lines as allowed, each held an average dial, and drains half a call", () => {
    const estimate = estimateDialling(base);
    expect(estimate).toMatchObject({ dials: 100, dials_max: 100, concurrency: 10, limited_by: "concurrency", talk_minutes: Math.ceil((100 * 0.74 * 38) / 60) });
    expect(estimate.duration_seconds).toBe(Math.round((100 * perDial) / 10 + perDial / 2));
    expect(estimateDialling({ ...base, limits: { ...base.limits, concurrent_max: 4 } }).concurrency).toBe(4);
  });

  it("follows calls_per_minute when it is the tighter limit, paced over 61 s", () => {
    const estimate = estimateDialling({ ...base, limits: { ...base.limits, calls_per_minute: 12 } });
    expect(estimate.limited_by).toBe("calls_per_minute");
    expect(estimate.duration_seconds).toBe(Math.round((100 * 61) / 12 + perDial));
  });

  it("counts retries by the retry share and adds the last retries' delays", () => {
    expect(estimateDialling({ ...base, contacts: 0 })).toMatchObject({ dials: 0, duration_seconds: 0 });
    const estimate = estimateDialling({ ...base, retriesPerContact: 2, retryDelaySeconds: 3600, assumptions: { ...DEFAULT_ASSUMPTIONS, retry_share: 0.5 } });
    expect(estimate).toMatchObject({ dials: 200, dials_max: 300, limited_by: "retries" });
    expect(estimate.duration_seconds).toBeGreaterThan(2 * 3600);
  });

  it.each([
    ["concurrent_max", { concurrent_max: 0 }, "concurrency"],
    ["calls_per_minute", { calls_per_minute: 0 }, "calls_per_minute"],
    ["daily_calls_max", { daily_calls_max: 0 }, "daily_calls_max"],
    ["daily_minutes_max", { daily_minutes_max: 0 }, "daily_minutes_max"],
  ])("never finishes with %s 0, and says so", (_name, caps, limit) => {
    expect(estimateDialling({ ...base, limits: { ...base.limits, ...caps } })).toMatchObject({ finishes_at: null, duration_seconds: null, limited_by: limit });
  });

  it("waits for the next UTC day when a daily cap is spent", () => {
    const lateEvening = Date.UTC(2030, 0, 7, 23, 0);
    const estimate = estimateDialling({
      ...base,
      startAt: lateEvening,
      limits: { ...base.limits, daily_calls_max: 60 },
      usedToday: { calls: 30, talkSeconds: 0 },
    });
    expect(estimate.limited_by).toBe("daily_calls_max");
    // 30 dials fit today, 60 the next day, the last 10 the day after.
    expect(estimate.finishes_at?.slice(0, 10)).toBe("2030-01-09");
  });

  it("dials only while the calling window is open in the contacts' zones", () => {
    const window = { start: 9 * 60, end: 10 * 60, days: 0b111_1111, timezone: "UTC" };
    const estimate = estimateDialling({ ...base, contacts: 1000, startAt: Date.UTC(2030, 0, 7, 8, 30), window: { window, zones: ["UTC"] } });
    // 1000 dials at 10 lines need ~53 min of open window: 09:00 to about 09:53 the same day.
    expect(estimate.limited_by).toBe("calling_window");
    expect(estimate.finishes_at?.slice(0, 13)).toBe("2030-01-07T09");
    const twoDays = estimateDialling({ ...base, contacts: 2000, startAt: Date.UTC(2030, 0, 7, 8, 30), window: { window, zones: ["UTC"] } });
    expect(twoDays.finishes_at?.slice(0, 13)).toBe("2030-01-08T09");
    expect(estimateDialling({ ...base, window: { window, zones: [] } })).toMatchObject({ finishes_at: null, limited_by: "calling_window" });
  });

  it("takes the caller's assumptions from the query and names them in the response", async () => {
    const t = await newTenant({ calls_per_minute: 60 });
    const report = await preflight(t, csvOf(10), {}, "?answer_rate=0.5&average_call_seconds=120&unanswered_call_seconds=20&retry_share=0.1");
    expect(report.estimate.assumptions).toMatchObject({
      answer_rate: 0.5,
      average_call_seconds: 120,
      unanswered_call_seconds: 20,
      retry_share: 0.1,
      start: "now",
    });
    expect(report.estimate.talk_minutes).toBe(Math.ceil((10 * 0.5 * 120) / 60));
  });
});

/** Numbers whose last two digits run 0, 37, 74, 11, …: every simulator outcome once per hundred, in a spread order. */
function spreadCsv(count: number): string {
  const lines = ["phone_number"];
  for (let i = 0; i < count; i++) lines.push(`+1555020${String(Math.floor(i / 100) * 100 + ((37 * i) % 100)).padStart(4, "0")}`);
  return lines.join("\n");
}

describe("the forecast against a simulated campaign", () => {
  it.each([
    ["lines and retries", { calls_per_minute: 1_000_000 }, { max_concurrent_calls: "4", retries_per_contact: "1", retry_delay_seconds: "60" }, undefined],
    ["calls_per_minute", { calls_per_minute: 12, concurrent_max: 20 }, { max_concurrent_calls: "10" }, undefined],
    ["a daily cap", { calls_per_minute: 1_000_000, daily_calls_max: 60 }, { max_concurrent_calls: "10" }, Date.UTC(2030, 0, 7, 12)],
    [
      "a calling window",
      { calls_per_minute: 1_000_000 },
      { max_concurrent_calls: "4", calling_window_start: "09:00", calling_window_end: "10:00", calling_timezone: "UTC" },
      Date.UTC(2030, 0, 7, 8, 30),
    ],
  ] as const)("finishes within a fifth of the forecast: %s", { timeout: 180_000 }, async (_case, caps, fields, start) => {
    restore = useSimulatedTime(start ?? Date.now());
    const t = await newTenant({ concurrent_max: 10, ...caps });
    const csv = spreadCsv(100);
    const { estimate } = await preflight(t, csv, fields);
    const { id } = await createCampaign(t, csv, fields);
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    await runUntil(t, [id], untilStatus("completed"), 20_000);
    const view = await json<{ started_at: string; completed_at: string }>(await call(`/api/v1/campaigns/${id}`, { headers: t.auth }));
    const actual = (Date.parse(view.completed_at) - Date.parse(view.started_at)) / 1000;
    const forecast = estimate.duration_seconds as number;
    console.log(`forecast ${forecast} s (${estimate.limited_by}) against ${actual} s simulated: ${((forecast / actual - 1) * 100).toFixed(1)}%`);
    expect(forecast / actual).toBeGreaterThanOrEqual(0.8);
    expect(forecast / actual).toBeLessThanOrEqual(1.2);
  });
});

describe("client campaigns.preflight", () => {
  it("sends create's body and returns the report, with assumptions as overrides", async () => {
    const t = await newTenant({ calls_per_minute: 60 });
    const edgedial = new Edgedial({ apiKey: t.key, baseUrl: BASE, fetch: (request) => exports.default.fetch(request) });
    const fields = { name: "Client", agent_id: t.agentId, phone_number_id: t.numberId };
    const fromCsv = await edgedial.campaigns.preflight({ ...fields, contacts: `${csvOf(3)}nope\n` });
    expect(fromCsv).toMatchObject({ ok: false, contacts: 3, errors: [{ row: 5, value: "nope" }] });
    const fromObjects = await edgedial.campaigns.preflight({ ...fields, contacts: [{ phone_number: "+14155550100" }] }, { answer_rate: 0.3 });
    expect(fromObjects).toMatchObject({ ok: true, contacts: 1, countries: { US: 1 }, estimate: { assumptions: { answer_rate: 0.3 } } });
    expect(await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId)).toBe(0);
  });
});
