import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LISTED_AMONG_SQL, listedAmong, SUPPRESS_LISTED_SQL } from "../src/dnc/check";
import { readDncCsv, readDncNumbers } from "../src/dnc/upload";
import { ADMIN, call, countRows, createCampaign, csvOf, json, jsonInit, lifecycle, newTenant, postCampaign, type Tenant } from "./helpers";
import { allContacts, campaignStub, carriedCalls, runUntil, step, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => {
  restore();
  vi.restoreAllMocks();
});

interface AddResult {
  added: number;
  already_listed: number;
  invalid: { row: number; value: string }[];
}
interface Entry {
  phone_number: string;
  reason: string | null;
  created_at: string;
}

const addJson = async (t: Tenant, body: unknown) => call("/api/v1/dnc", jsonInit("POST", body, t.auth));
const addCsv = async (t: Tenant, csv: string, query = "") =>
  call(`/api/v1/dnc${query}`, { method: "POST", headers: { ...t.auth, "Content-Type": "text/csv" }, body: csv });
const listed = async (t: Tenant, phone: string) => call(`/api/v1/dnc/${encodeURIComponent(phone)}`, { headers: t.auth });
const list = async (t: Tenant, query = "") =>
  json<{ numbers: Entry[]; count: number; total: number; has_next: boolean; next_offset: number | null }>(
    await call(`/api/v1/dnc${query}`, { headers: t.auth }),
  );

describe("upload parsing", () => {
  it("normalises as create does and reports bad numbers by row, keeping the good ones", () => {
    const csv =
      "\ufeff Phone_Number ,note\r\n+1 (415) 555-0100,a\r\n\r\nnot a number,b\r\n0044 20 7946 0958,c\r\n415 555 0101,d\r\n+14155550102,x,overlong\r\n";
    const upload = readDncCsv(csv, undefined);
    expect(upload.count).toBe(2);
    expect(JSON.parse(upload.chunks[0]?.json ?? "[]")).toEqual(["+14155550100", "+442079460958"]);
    // Row 3 is blank; the national number needs default_country; a row wider than the header is refused whole.
    expect(upload.invalid).toEqual([
      { row: 4, value: "not a number" },
      { row: 6, value: "415 555 0101" },
      { row: 7, value: "+14155550102,x,overlong" },
    ]);
    expect(readDncCsv("phone_number\n415 555 0101\n", "US").count).toBe(1);
  });

  it("numbers JSON entries from 1 and reports values of the wrong type", () => {
    const upload = readDncNumbers(["+14155550100", 14155550101, null, { n: 1 }, "x".repeat(100)], "US");
    expect(upload.count).toBe(2);
    expect(upload.invalid).toEqual([
      { row: 3, value: "null" },
      { row: 4, value: '{"n":1}' },
      { row: 5, value: `${"x".repeat(64)}…` },
    ]);
  });

  it("applies the create CSV header rules", () => {
    expect(() => readDncCsv("number\n+14155550100\n", undefined)).toThrow("needs a phone_number column");
    expect(() => readDncCsv("phone_number,PHONE_NUMBER\n+1,+1\n", undefined)).toThrow("twice");
    expect(() => readDncCsv('phone_number\n"+1415\n', undefined)).toThrow("broken quoted field");
    expect(() => readDncCsv("phone_number\n\n", undefined)).toThrow("no numbers");
    expect(() => readDncNumbers([], undefined)).toThrow("empty");
    expect(() => readDncNumbers("+14155550100", undefined)).toThrow("array");
  });

  it("splits large uploads into ~1 MB chunks for D1", () => {
    const numbers = Array.from({ length: 150_000 }, (_, i) => `+1555${String(i).padStart(7, "0")}`);
    const upload = readDncNumbers(numbers, undefined);
    expect(upload.count).toBe(150_000);
    expect(upload.chunks.length).toBeGreaterThan(1);
    for (const chunk of upload.chunks) expect(chunk.json.length).toBeLessThanOrEqual(1_000_000);
    expect(upload.chunks.reduce((n, c) => n + c.count, 0)).toBe(150_000);
  });
});

describe("/api/v1/dnc", () => {
  it("adds JSON numbers, counts repeats as already listed and reports bad ones by position", async () => {
    const t = await newTenant();
    const res = await addJson(t, {
      numbers: ["+14155550100", "(415) 555-0101", "nope", "+14155550100", "+1 415 555 0102"],
      reason: "asked",
      default_country: "US",
    });
    expect(res.status).toBe(200);
    expect(await json<AddResult>(res)).toEqual({ added: 3, already_listed: 1, invalid: [{ row: 3, value: "nope" }] });

    const again = await json<AddResult>(await addJson(t, { numbers: ["+14155550101", "+14155550103"] }));
    expect(again).toEqual({ added: 1, already_listed: 1, invalid: [] });
    // An already-listed number keeps its first reason.
    const entry = await json<Entry>(await listed(t, "+14155550101"));
    expect(entry).toMatchObject({ phone_number: "+14155550101", reason: "asked" });
    expect(Date.parse(entry.created_at)).not.toBeNaN();
    expect((await json<Entry>(await listed(t, "+14155550103"))).reason).toBeNull();
  });

  it("adds a text/csv body with reason and default_country in the query, rows numbered as in a spreadsheet", async () => {
    const t = await newTenant();
    const csv = "name,phone_number\nAda,+14155550200\nBob,bad\n\nCy,415-555-0201\n";
    const result = await json<AddResult>(await addCsv(t, csv, "?reason=complaint&default_country=us"));
    expect(result).toEqual({ added: 2, already_listed: 0, invalid: [{ row: 3, value: "bad" }] });
    expect((await json<Entry>(await listed(t, "+14155550201"))).reason).toBe("complaint");
  });

  it("adds a multipart `file` with its reason field", async () => {
    const t = await newTenant();
    const form = new FormData();
    form.set("file", new File(["phone_number\n+14155550300\n+14155550301\n"], "dnc.csv", { type: "text/csv" }));
    form.set("reason", "legal hold");
    const res = await call("/api/v1/dnc", { method: "POST", headers: t.auth, body: form });
    expect(await json<AddResult>(res)).toEqual({ added: 2, already_listed: 0, invalid: [] });
    expect((await json<Entry>(await listed(t, "+14155550301"))).reason).toBe("legal hold");

    const missing = new FormData();
    missing.set("reason", "x");
    const noFile = await call("/api/v1/dnc", { method: "POST", headers: t.auth, body: missing });
    expect(noFile.status).toBe(400);
    expect(await noFile.text()).toContain("`file`");
  });

  it("refuses malformed uploads with a 4xx that names the problem and adds nothing", async () => {
    const t = await newTenant();
    const cases: [RequestInit, number, string][] = [
      [jsonInit("POST", { numbers: [] }, t.auth), 400, "numbers is empty"],
      [jsonInit("POST", { reason: "x" }, t.auth), 400, "numbers is required"],
      [jsonInit("POST", { numbers: ["+14155550400"], reason: "r".repeat(201) }, t.auth), 400, "reason must be at most 200"],
      [jsonInit("POST", { numbers: ["+14155550400"], reason: 5 }, t.auth), 400, "reason must be a string"],
      [jsonInit("POST", { numbers: ["+14155550400"], default_country: "XX" }, t.auth), 400, "default_country"],
      [jsonInit("POST", ["+14155550400"], t.auth), 400, "must be an object"],
      [{ method: "POST", headers: { ...t.auth, "Content-Type": "application/json" }, body: "{" }, 400, "not valid JSON"],
      [{ method: "POST", headers: { ...t.auth, "Content-Type": "text/csv" }, body: "number\n+14155550400\n" }, 400, "phone_number column"],
      [{ method: "POST", headers: { ...t.auth, "Content-Type": "text/plain" }, body: "+14155550400" }, 415, "text/csv"],
    ];
    for (const [init, status, needle] of cases) {
      const res = await call("/api/v1/dnc", init);
      expect(res.status, needle).toBe(status);
      expect(await res.text(), needle).toContain(needle);
    }
    expect((await list(t)).total).toBe(0);
  });

  it("answers 413 to uploads over the create limit, declared or streamed", async () => {
    const t = await newTenant();
    const declared = await call("/api/v1/dnc", {
      method: "POST",
      headers: { ...t.auth, "Content-Type": "text/csv", "Content-Length": String(11 * 1024 * 1024) },
      body: "phone_number\n+14155550500\n",
    });
    expect(declared.status).toBe(413);
    expect(await declared.text()).toContain("10 MB");

    const line = "+14155550500\n".repeat(1024);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(line);
        controller.enqueue(new TextEncoder().encode("phone_number\n"));
        for (let i = 0; i < 900; i++) controller.enqueue(bytes);
        controller.close();
      },
    });
    const streamed = await call("/api/v1/dnc", {
      method: "POST",
      headers: { ...t.auth, "Content-Type": "text/csv" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    await streamed.text();
    expect((await list(t)).total).toBe(0);
  });

  it("lists in number order with a prefix range filter and the list envelope", async () => {
    const t = await newTenant();
    await addJson(t, { numbers: ["+447700900001", "+14155550601", "+14155550600", "+12125550600", "+4930123456"] });
    const all = await list(t);
    expect(all.numbers.map((n) => n.phone_number)).toEqual(["+12125550600", "+14155550600", "+14155550601", "+447700900001", "+4930123456"]);
    expect(all).toMatchObject({ count: 5, total: 5, has_next: false });

    const sf = await list(t, "?prefix=%2B1415");
    expect(sf.numbers.map((n) => n.phone_number)).toEqual(["+14155550600", "+14155550601"]);
    expect(sf.total).toBe(2);
    // An unencoded + arrives as a space; it is read as the + it was.
    expect((await list(t, "?prefix=+44")).numbers.map((n) => n.phone_number)).toEqual(["+447700900001"]);
    expect((await list(t, "?prefix=%2B4")).total).toBe(2);
    expect((await list(t, "?prefix=%2B1415555060")).total).toBe(2);
    expect((await list(t, "?prefix=%2B19")).total).toBe(0);

    const paged = await list(t, "?limit=2&offset=2");
    expect(paged.numbers.map((n) => n.phone_number)).toEqual(["+14155550601", "+447700900001"]);
    expect(paged).toMatchObject({ has_next: true, next_offset: 4 });

    for (const bad of ["1415", "%2B0", "%2B1-415", "%2B1234567890123456", "abc"]) {
      const res = await call(`/api/v1/dnc?prefix=${bad}`, { headers: t.auth });
      expect(res.status, bad).toBe(400);
      expect(await res.text()).toContain("prefix must be the start of an E.164 number");
    }
  });

  it("gets and deletes one number by its URL-encoded form, normalised; 404 when not listed", async () => {
    const t = await newTenant();
    await addJson(t, { numbers: ["+14155550700"] });
    expect((await listed(t, "+14155550700")).status).toBe(200);
    expect((await call("/api/v1/dnc/+1%20415%20555%200700", { headers: t.auth })).status).toBe(200);
    expect((await call("/api/v1/dnc/4155550700?default_country=US", { headers: t.auth })).status).toBe(200);
    const missing = await listed(t, "+14155550799");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("+14155550799 is not on the do-not-call list.");
    const bad = await call("/api/v1/dnc/hello", { headers: t.auth });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("is not a phone number");

    const removed = await call(`/api/v1/dnc/${encodeURIComponent("+14155550700")}`, { method: "DELETE", headers: t.auth });
    expect(removed.status).toBe(204);
    expect((await listed(t, "+14155550700")).status).toBe(404);
    expect((await call(`/api/v1/dnc/${encodeURIComponent("+14155550700")}`, { method: "DELETE", headers: t.auth })).status).toBe(404);
  });

  it("is served under every API mount and needs credentials", async () => {
    const t = await newTenant();
    await addJson(t, { numbers: ["+14155550800"] });
    for (const prefix of ["/v1", "/hub-api/api/v1"]) expect((await call(`${prefix}/dnc/%2B14155550800`, { headers: t.auth })).status).toBe(200);
    expect((await call("/api/v1/dnc")).status).toBe(401);
  });

  it("keeps each account's list to itself", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await addJson(b, { numbers: ["+15550100001"] });
    expect((await listed(a, "+15550100001")).status).toBe(404);
    expect((await call(`/api/v1/dnc/${encodeURIComponent("+15550100001")}`, { method: "DELETE", headers: a.auth })).status).toBe(404);
    expect((await list(a)).total).toBe(0);
    // The number is new to A's list even though B has it.
    expect(await json<AddResult>(await addJson(a, { numbers: ["+15550100002"] }))).toMatchObject({ added: 1 });
    const campaign = await createCampaign(a, csvOf(3));
    expect(campaign).toMatchObject({ dnc_suppressed: 1, stats: { total: 3, pending: 2, cancelled: 1 } });
    const contacts = await allContacts(a, campaign.id);
    expect(contacts.find((c) => c.phone_number === "+15550100001")).toMatchObject({ status: "pending", outcome: null });
    expect((await listed(b, "+15550100001")).status).toBe(200);
  });

  it("adds 100,000 numbers in one request, then knows them all as already listed", { timeout: 120_000 }, async () => {
    const t = await newTenant();
    const numbers = Array.from({ length: 100_000 }, (_, i) => `+1555${String(i).padStart(7, "0")}`);
    let started = performance.now();
    const first = await json<AddResult>(await addJson(t, { numbers, reason: "bulk" }));
    const addMs = performance.now() - started;
    expect(first).toEqual({ added: 100_000, already_listed: 0, invalid: [] });
    expect(await countRows("SELECT count(*) AS n FROM dnc_numbers WHERE account_id = ?", t.accountId)).toBe(100_000);

    started = performance.now();
    const csv = `phone_number\n${numbers.join("\n")}\n`;
    const again = await json<AddResult>(await addCsv(t, csv));
    const againMs = performance.now() - started;
    expect(again).toEqual({ added: 0, already_listed: 100_000, invalid: [] });
    expect((await list(t, "?prefix=%2B1555001&limit=1")).total).toBe(10_000);
    console.log(`dnc bulk add: 100k new numbers ${addMs.toFixed(0)} ms (JSON), 100k already listed ${againMs.toFixed(0)} ms (CSV)`);
  });
});

describe("a list of 1,000,000 numbers", () => {
  it("takes 1M numbers in batches of 100k and still answers lookups, prefix pages and the 100-number dial check by seeks", { timeout: 300_000 }, async () => {
    const t = await newTenant();
    const batchMs: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const numbers = Array.from({ length: 100_000 }, (_, i) => `+1555${String(batch * 100_000 + i).padStart(7, "0")}`);
      const started = performance.now();
      const result = await json<AddResult>(await addJson(t, { numbers }));
      batchMs.push(performance.now() - started);
      expect(result.added).toBe(100_000);
    }
    expect(await countRows("SELECT count(*) AS n FROM dnc_numbers WHERE account_id = ?", t.accountId)).toBe(1_000_000);
    expect((await listed(t, "+15550999999")).status).toBe(200);
    const page = await list(t, "?prefix=%2B15550123&limit=5");
    expect(page.total).toBe(1000);
    expect(page.numbers[0]?.phone_number).toBe("+15550123000");

    // A tick's batch: 100 numbers, every tenth listed.
    const tick = Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? `+1555${String(i * 9_000).padStart(7, "0")}` : `+1666${String(i).padStart(7, "0")}`));
    const checkMs: number[] = [];
    for (let run = 0; run < 20; run++) {
      const started = performance.now();
      expect((await listedAmong(env.DB, t.accountId, tick)).size).toBe(10);
      checkMs.push(performance.now() - started);
    }
    checkMs.sort((a, b) => a - b);

    // Create against the full list: half of a 100k upload is listed.
    const lines = ["phone_number,n"];
    for (let i = 0; i < 100_000; i++) lines.push(`${i % 2 === 0 ? "+1555" : "+1777"}${String(i * 7).padStart(7, "0")},${i}`);
    const started = performance.now();
    const created = await json<{ dnc_suppressed: number; stats: Record<string, number> }>(await postCampaign(t, lines.join("\n")));
    const createMs = performance.now() - started;
    expect(created).toMatchObject({ dnc_suppressed: 50_000, stats: { total: 100_000, pending: 50_000, cancelled: 50_000 } });
    console.log(
      `dnc 1M: create of 100k contacts (50k listed) ${createMs.toFixed(0)} ms; ` +
        `batches of 100k ${batchMs.map((ms) => ms.toFixed(0)).join(", ")} ms; ` +
        `dial check of 100 numbers median ${checkMs[10]?.toFixed(2)} ms, worst ${checkMs.at(-1)?.toFixed(2)} ms`,
    );
  });
});

describe("suppression at create", () => {
  it("makes listed numbers cancelled/dnc contacts, counted, and never dials them", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    await addJson(t, { numbers: ["+15550100003", "+15550100007", "+15550109999"] });
    const campaign = await createCampaign(t, csvOf(10), { max_concurrent_calls: "5" });
    expect(campaign).toMatchObject({ dnc_suppressed: 2, stats: { total: 10, pending: 8, cancelled: 2 } });
    const stored = await env.DB.prepare("SELECT total, stat_pending, stat_cancelled FROM campaigns WHERE id = ?").bind(campaign.id).first();
    expect(stored).toEqual({ total: 10, stat_pending: 8, stat_cancelled: 2 });
    const before = await allContacts(t, campaign.id);
    expect(before.filter((c) => c.outcome === "dnc").map((c) => [c.phone_number, c.status, c.attempts])).toEqual([
      ["+15550100003", "cancelled", 0],
      ["+15550100007", "cancelled", 0],
    ]);

    expect((await lifecycle(t, campaign.id, "start")).status).toBe(200);
    const [done] = await runUntil(t, [campaign.id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ total: 10, completed: 8, cancelled: 2, pending: 0 });
    const dialled = (await carriedCalls(t)).map((c) => c.to);
    expect(dialled).toHaveLength(8);
    expect(dialled).not.toContain("+15550100003");
    expect(dialled).not.toContain("+15550100007");
    const after = await allContacts(t, campaign.id);
    expect(after.find((c) => c.phone_number === "+15550100007")).toMatchObject({ status: "cancelled", outcome: "dnc", attempts: 0, call_id: null });
  });

  it("suppresses JSON-created contacts too, and a campaign of only listed numbers completes without a dial", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    await addJson(t, { numbers: ["+15550100000", "+15550100001"] });
    const res = await call(
      "/api/v1/campaigns",
      jsonInit(
        "POST",
        {
          name: "All listed",
          agent_id: t.agentId,
          phone_number_id: t.numberId,
          contacts: [{ phone_number: "+15550100000" }, { phone_number: "+15550100001" }],
        },
        t.auth,
      ),
    );
    const campaign = await json<{ id: string; dnc_suppressed: number; stats: Record<string, number> }>(res);
    expect(res.status).toBe(201);
    expect(campaign).toMatchObject({ dnc_suppressed: 2, stats: { total: 2, pending: 0, cancelled: 2 } });
    await lifecycle(t, campaign.id, "start");
    const [done] = await runUntil(t, [campaign.id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ total: 2, cancelled: 2 });
    expect(await carriedCalls(t)).toEqual([]);
  });

  it("reports dnc_suppressed 0 when nothing is listed", async () => {
    const t = await newTenant();
    expect(await createCampaign(t, csvOf(2))).toMatchObject({ dnc_suppressed: 0, stats: { total: 2, pending: 2, cancelled: 0 } });
  });
});

describe("the check just before each dial", () => {
  const phone = (i: number) => `+1555010${String(i).padStart(4, "0")}`;
  const inFlight = (c: { stats: Record<string, number | undefined> }) => (c.stats.originated ?? 0) + (c.stats.connected ?? 0);

  it("listed while paused → resume → never dialled, cancelled/dnc without an attempt", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    const campaign = await createCampaign(t, csvOf(6), { max_concurrent_calls: "2" });
    await lifecycle(t, campaign.id, "start");
    await runUntil(t, [campaign.id], (c) => inFlight(c) === 2);
    expect((await lifecycle(t, campaign.id, "pause")).status).toBe(200);
    expect(await json<AddResult>(await addJson(t, { numbers: [phone(3), phone(5)] }))).toMatchObject({ added: 2 });
    await runUntil(t, [campaign.id], (c) => inFlight(c) === 0);
    expect((await lifecycle(t, campaign.id, "resume")).status).toBe(200);
    const [done] = await runUntil(t, [campaign.id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ total: 6, completed: 4, cancelled: 2, pending: 0 });
    const dialled = (await carriedCalls(t)).map((c) => c.to);
    expect(dialled.sort()).toEqual([phone(0), phone(1), phone(2), phone(4)]);
    const contacts = await allContacts(t, campaign.id);
    for (const listedPhone of [phone(3), phone(5)]) {
      expect(contacts.find((c) => c.phone_number === listedPhone)).toMatchObject({ status: "cancelled", outcome: "dnc", attempts: 0, call_id: null });
    }
    // Each skipped contact is one dial fewer: no attempt was made or counted.
    expect((await campaignStub(campaign.id).inspect(campaign.id)).originations).toHaveLength(4);
  });

  it("listed while running → never dialled after the add returns, even with a tick under way", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    const campaign = await createCampaign(t, csvOf(30), { max_concurrent_calls: "5" });
    await lifecycle(t, campaign.id, "start");
    // The first tick races the add: whichever reads the list first, no listed number may be dialled once the add has returned.
    const listedNow = [0, 1, 2, 7, 12, 20, 29].map(phone);
    const tick = runDurableObjectAlarm(campaignStub(campaign.id));
    const added = await json<AddResult>(await addJson(t, { numbers: listedNow }));
    const carriedWhenAddReturned = new Set((await carriedCalls(t)).map((c) => c.to));
    await tick;
    expect(added.added).toBe(7);
    // Mid-run: more numbers listed while calls are up.
    await step(t, [campaign.id]);
    const listedLater = [9, 10, 25].map(phone);
    await addJson(t, { numbers: listedLater });
    const carriedWhenLaterReturned = new Set((await carriedCalls(t)).map((c) => c.to));

    const [done] = await runUntil(t, [campaign.id], untilStatus("completed"));
    const dialled = (await carriedCalls(t)).map((c) => c.to);
    for (const n of listedNow) if (dialled.includes(n)) expect(carriedWhenAddReturned.has(n), n).toBe(true);
    for (const n of listedLater) if (dialled.includes(n)) expect(carriedWhenLaterReturned.has(n), n).toBe(true);
    const contacts = await allContacts(t, campaign.id);
    const skipped = contacts.filter((c) => c.outcome === "dnc");
    for (const c of skipped) expect(c).toMatchObject({ status: "cancelled", attempts: 0 });
    expect(skipped.length + dialled.length).toBe(30);
    expect(done?.stats).toMatchObject({ total: 30, cancelled: skipped.length, completed: dialled.length });
    // The late ones were still waiting when listed (5 at a time, 35 s calls): none of them was dialled.
    for (const n of [...listedLater, phone(20), phone(29)]) expect(dialled, n).not.toContain(n);
  });

  it("hands the slots of skipped contacts to the next ones at once, even when nothing is in flight", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    const campaign = await createCampaign(t, csvOf(5), { max_concurrent_calls: "2" });
    // Listed after create, before start: the first tick's whole batch is skipped.
    await addJson(t, { numbers: [phone(0), phone(1)] });
    await lifecycle(t, campaign.id, "start");
    const [done] = await runUntil(t, [campaign.id], untilStatus("completed"), 200);
    expect(done?.stats).toMatchObject({ total: 5, completed: 3, cancelled: 2 });
    expect((await carriedCalls(t)).map((c) => c.to).sort()).toEqual([phone(2), phone(3), phone(4)]);
  });

  it("shows operators what the check cost: one timed query per tick batch in the admin dispatch view", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 10 });
    const campaign = await createCampaign(t, csvOf(5), { max_concurrent_calls: "2" });
    await addJson(t, { numbers: [phone(0), phone(1)] });
    await lifecycle(t, campaign.id, "start");
    await runUntil(t, [campaign.id], untilStatus("completed"), 200);
    const view = await json<{ dnc_check: Record<string, unknown> }>(await call(`/admin/v1/campaigns/${campaign.id}/dispatch`, { headers: ADMIN }));
    // Batches: [0, 1] both listed, then [2, 3], then [4] once a slot frees.
    expect(view.dnc_check).toMatchObject({ checks: 3, numbers_checked: 5, listed_found: 2, last: { numbers: 1, listed: 0 } });
    const { total_ms, max_ms, last } = view.dnc_check as { total_ms: number; max_ms: number; last: { ms: number } };
    expect(max_ms).toBeGreaterThanOrEqual(last.ms);
    expect(total_ms).toBeGreaterThanOrEqual(max_ms);
    expect(last.ms).toBeGreaterThanOrEqual(0);
    // Tenant keys cannot read it.
    expect((await call(`/admin/v1/campaigns/${campaign.id}/dispatch`, { headers: t.auth })).status).toBe(401);
  });

  it("an add waits for a tick whose dials passed the check: it returns only after their carrier requests are answered", async () => {
    // A Twilio number whose REST answers are held back until the test releases them. (The wait polls a
    // plain flag: a promise made in the object's context cannot be resolved from the test's.)
    let held = 0;
    let released = false;
    const original = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).hostname !== "api.twilio.com") return original(input, init);
      held++;
      while (!released) await new Promise((r) => setTimeout(r, 2));
      return Response.json({ sid: `CA${crypto.randomUUID().replaceAll("-", "")}`, status: "queued" }, { status: 201 });
    });
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    const provider = await json<{ id: string }>(
      await call(
        "/api/v1/telephony/providers",
        jsonInit("POST", { provider: "twilio", credentials: { account_sid: `AC${"2".repeat(32)}`, auth_token: "t" } }, t.auth),
      ),
    );
    const number = await json<{ id: string }>(
      await call("/api/v1/telephony/numbers", jsonInit("POST", { e164: "+15550008888", credentials_id: provider.id, provider: "twilio" }, t.auth)),
    );
    const campaign = await createCampaign({ ...t, numberId: number.id }, csvOf(3), { max_concurrent_calls: "3" });
    await lifecycle(t, campaign.id, "start");
    const tick = runDurableObjectAlarm(campaignStub(campaign.id));
    for (let i = 0; i < 500 && held < 3; i++) await new Promise((r) => setTimeout(r, 2));
    expect(held).toBe(3);

    // The three dials are past the check and their requests are out: an add of their numbers now must not return first.
    let addReturned = false;
    const add = addJson(t, { numbers: [phone(0), phone(1), phone(2)] }).then(async (res) => {
      addReturned = true;
      return json<AddResult>(res);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(addReturned).toBe(false);
    released = true;
    expect(await add).toMatchObject({ added: 3 });
    await tick;
    const { originations } = await campaignStub(campaign.id).inspect(campaign.id);
    expect(originations).toHaveLength(3);
    vi.restoreAllMocks();
  });
});

describe("listedAmong (the dial-time check)", () => {
  it("returns exactly the listed numbers of the batch, for that account only, in one query", async () => {
    const a = await newTenant();
    const b = await newTenant();
    await addJson(a, { numbers: ["+15550200001", "+15550200003"] });
    await addJson(b, { numbers: ["+15550200002"] });
    let prepared = 0;
    const counting = new Proxy(env.DB, {
      get(target, key) {
        if (key === "prepare") {
          return (sql: string) => {
            prepared++;
            return target.prepare(sql);
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const batch = Array.from({ length: 100 }, (_, i) => `+155502${String(i).padStart(5, "0")}`);
    expect(await listedAmong(counting, a.accountId, batch)).toEqual(new Set(["+15550200001", "+15550200003"]));
    expect(prepared).toBe(1);
    expect(await listedAmong(counting, b.accountId, batch)).toEqual(new Set(["+15550200002"]));
    expect(await listedAmong(counting, a.accountId, [])).toEqual(new Set());
    expect(prepared).toBe(2);
  });
});

describe("query plans against a list of any size", () => {
  const plan = async (sql: string, ...params: unknown[]) =>
    (
      await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...params)
        .all<{ detail: string }>()
    ).results.map((r) => r.detail);

  it("seeks the list's primary key once per number, never scanning the list", async () => {
    const dialCheck = await plan(LISTED_AMONG_SQL, "acct", '["+15550100000"]');
    expect(dialCheck.join("\n")).toMatch(/SEARCH dnc_numbers USING PRIMARY KEY \(account_id=\? AND phone_number=\?\)/);
    const atCreate = await plan(SUPPRESS_LISTED_SQL, "cmp", "acct", "now");
    expect(atCreate.join("\n")).toMatch(/SEARCH d USING PRIMARY KEY \(account_id=\? AND phone_number=\?\)/);
    for (const detail of [...dialCheck, ...atCreate]) expect(detail).not.toMatch(/SCAN (d|dnc_numbers)\b/);
  });
});
