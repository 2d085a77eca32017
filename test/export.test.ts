import { env, exports } from "cloudflare:workers";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { ApiError, Edgedial } from "../client/index";
import {
  contactsCsvStream,
  csvField,
  csvHeader,
  csvLine,
  d1ExportPages,
  EXPORT_PAGE_SQL,
  EXPORT_PENDING_PAGE_SQL,
  EXPORT_STATUS_PAGE_SQL,
  type ExportPageReader,
  type ExportRow,
  exportFileName,
  guardFormula,
} from "../src/campaigns/export-csv";
import { BASE, call, createCampaign, csvOf, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";

const FIXED = [
  "row",
  "phone_number",
  "status",
  "outcome",
  "attempts",
  "last_error",
  "call_id",
  "updated_at",
  "disposition",
  "summary",
  "callback_at",
  "transcript_url",
  "recording_url",
  "result_data",
];

const exportCsv = (t: Tenant, id: string, query = "", prefix = "/api/v1") => call(`${prefix}/campaigns/${id}/contacts.csv${query}`, { headers: t.auth });

/** The export parsed back by an independent RFC 4180 reader. */
async function exported(t: Tenant, id: string, query = ""): Promise<string[][]> {
  const res = await exportCsv(t, id, query);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const parsed = Papa.parse<string[]>(text, { header: false, skipEmptyLines: true });
  expect(parsed.errors).toEqual([]);
  return parsed.data;
}

const contact = (over: Partial<Record<"row" | "phone" | "lastError" | "fields", unknown>> = {}): ExportRow => [
  0,
  (over.row as number) ?? 2,
  (over.phone as string) ?? "+14155550100",
  "pending",
  null,
  0,
  (over.lastError as string | null) ?? null,
  null,
  "2030-01-01T00:00:00.000Z",
  JSON.stringify(over.fields ?? {}),
  null,
  null,
];

describe("the row encoder", () => {
  it.each([
    ["plain", "plain"],
    ["Smith, Ann", '"Smith, Ann"'],
    ['said "hi"', '"said ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\rlf", '"cr\rlf"'],
    ["", ""],
  ])("quotes %j per RFC 4180 as %j", (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  it.each([
    ["=SUM(A1:A9)", "'=SUM(A1:A9)"],
    ["+1 555", "'+1 555"],
    ["-2", "'-2"],
    ["@cmd", "'@cmd"],
    ["\tx", "'\tx"],
    ["\rx", "'\rx"],
    ["a=b", "a=b"],
    ["", ""],
  ])("guards %j as %j", (value, expected) => {
    expect(guardFormula(value)).toBe(expected);
  });

  it("writes the fixed columns, then custom cells guarded and quoted in column order; the phone number as it is", () => {
    const line = csvLine(contact({ lastError: "-1, refused", fields: { b: '=HYPERLINK("x")', a: "1,2" } }), ["a", "b", "missing"]);
    expect(line).toBe(`2,+14155550100,pending,,0,"'-1, refused",,2030-01-01T00:00:00.000Z,,,,,,,"1,2","'=HYPERLINK(""x"")",\r\n`);
    expect(csvHeader(["=evil", "note"])).toBe(`${FIXED.join(",")},'=evil,note\r\n`);
  });

  it.each([
    ["Spring promo", undefined, "spring-promo-cmp_1.csv"],
    ['A "quoted"/path\\name; x=1', "failed", "a-quoted-path-name-x-1-cmp_1-failed.csv"],
    ["Café résumé", undefined, "cafe-resume-cmp_1.csv"],
    ["日本語", undefined, "campaign-cmp_1.csv"],
  ] as const)("names the file for %j safely", (name, status, expected) => {
    expect(exportFileName(name, "cmp_1", status)).toBe(expected);
  });
});

describe("GET /campaigns/{id}/contacts.csv", () => {
  it("is a CSV attachment with the fixed columns, then the upload's columns in header order", async () => {
    const t = await newTenant();
    // "2024" is an integer-like key: a JSON object would list it first, the upload does not.
    const csv = "zeta,phone_number,2024,Alpha\nz1,+14155550100,y1,a1\nz2,+14155550101,,a2\n";
    const { id } = await createCampaign(t, csv, { name: 'Q3 "Renewals", EU/West' });
    const res = await exportCsv(t, id);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="q3-renewals-eu-west-${id}.csv"`);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const text = await res.text();
    expect(text.split("\r\n")[0]).toBe(`${FIXED.join(",")},zeta,2024,Alpha`);
    const rows = Papa.parse<string[]>(text, { skipEmptyLines: true }).data;
    expect(rows.slice(1).map((r) => [r[0], r[1], r[2], r[3], r[4], r[5], r[6], ...r.slice(FIXED.length)])).toEqual([
      ["2", "+14155550100", "pending", "", "0", "", "", "z1", "y1", "a1"],
      ["3", "+14155550101", "pending", "", "0", "", "", "z2", "", "a2"],
    ]);
    expect(Date.parse(rows[1]?.[7] ?? "")).not.toBeNaN();
  });

  it("orders a JSON upload's columns by first appearance, even when early contacts lack them", async () => {
    const t = await newTenant();
    const res = await call(
      "/api/v1/campaigns",
      jsonInit(
        "POST",
        {
          name: "JSON",
          agent_id: t.agentId,
          phone_number_id: t.numberId,
          contacts: [
            { phone_number: "+14155550100", plan: "gold" },
            { tier: 2, phone_number: "+14155550101", plan: "silver" },
            { phone_number: "+14155550102", "9": "nine", tier: 3 },
          ],
        },
        t.auth,
      ),
    );
    const { id } = await json<{ id: string }>(res);
    const rows = await exported(t, id);
    expect(rows[0]?.slice(FIXED.length)).toEqual(["plan", "tier", "9"]);
    expect(rows.slice(1).map((r) => r.slice(FIXED.length))).toEqual([
      ["gold", "", ""],
      ["silver", "2", ""],
      ["", "3", "nine"],
    ]);
  });

  it("exports a clone with its source's columns, in the source's order", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, "zeta,phone_number,2024\nz,+14155550100,y\n");
    const cloned = await call(`/api/v1/campaigns/${id}/clone`, { method: "POST", headers: t.auth });
    expect(cloned.status).toBe(201);
    const { id: copy } = await json<{ id: string }>(cloned);
    const rows = await exported(t, copy);
    expect(rows.map((r) => r.slice(FIXED.length))).toEqual([
      ["zeta", "2024"],
      ["z", "y"],
    ]);
  });

  it("keeps columns whose names are object keywords", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, "phone_number,__proto__,constructor,toString\n+14155550100,p,c,s\n");
    const rows = await exported(t, id);
    expect(rows.map((r) => r.slice(FIXED.length))).toEqual([
      ["__proto__", "constructor", "toString"],
      ["p", "c", "s"],
    ]);
    const { contacts } = await json<{ contacts: { custom_fields: Record<string, string> }[] }>(
      await call(`/api/v1/campaigns/${id}/contacts`, { headers: t.auth }),
    );
    expect(JSON.stringify(contacts[0]?.custom_fields)).toBe('{"__proto__":"p","constructor":"c","toString":"s"}');
  });

  it("round-trips commas, quotes and line breaks, and guards formulas but not phone numbers", async () => {
    const t = await newTenant();
    const values = ["Smith, Ann", 'said "hi"', "line one\r\nline two", "=1+2", "+44 20 7946 0958", "-5", "@SUM(A1)", "\tTab", "plain"];
    const lines = ["phone_number,note"];
    values.forEach((v, i) => {
      lines.push(`+1415555${String(100 + i).padStart(4, "0")},"${v.replace(/"/g, '""')}"`);
    });
    const { id } = await createCampaign(t, `${lines.join("\r\n")}\r\n`);
    const rows = await exported(t, id);
    expect(rows.slice(1).map((r) => r[FIXED.length])).toEqual([
      "Smith, Ann",
      'said "hi"',
      "line one\r\nline two",
      "'=1+2",
      "'+44 20 7946 0958",
      "'-5",
      "'@SUM(A1)",
      "'\tTab",
      "plain",
    ]);
    // Phone numbers start with + and are written as they are.
    expect(rows.slice(1).map((r) => r[1])).toEqual(values.map((_, i) => `+1415555${String(100 + i).padStart(4, "0")}`));
  });

  it("keeps one status with ?status=, under every mount", async () => {
    const t = await newTenant();
    // Numbers on the do-not-call list become cancelled / dnc at create: a campaign with two statuses.
    const listed = await call("/api/v1/dnc", jsonInit("POST", { numbers: ["+15550100001", "+15550100003"] }, t.auth));
    expect(listed.status).toBe(200);
    const { id } = await createCampaign(t, csvOf(5));
    const cancelled = await exported(t, id, "?status=cancelled");
    expect(cancelled.slice(1).map((r) => [r[1], r[2], r[3]])).toEqual([
      ["+15550100001", "cancelled", "dnc"],
      ["+15550100003", "cancelled", "dnc"],
    ]);
    const pending = await exported(t, id, "?status=pending");
    expect(pending.slice(1).map((r) => r[1])).toEqual(["+15550100000", "+15550100002", "+15550100004"]);
    expect((await exported(t, id, "?status=completed")).length).toBe(1);
    expect((await exported(t, id)).length).toBe(6);
    const filtered = await exportCsv(t, id, "?status=pending", "/v1");
    expect(filtered.headers.get("Content-Disposition")).toContain(`-${id}-pending.csv"`);
    expect((await filtered.text()).split("\r\n").filter(Boolean)).toHaveLength(4);
  });

  it("refuses a bad status with 400 and another account's campaign with 404, like a missing one", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const { id } = await createCampaign(t, csvOf(2));
    const bad = await exportCsv(t, id, "?status=done");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("status must be one of pending, originated, connected, completed, failed, cancelled");
    const foreign = await exportCsv(other, id);
    expect(foreign.status).toBe(404);
    expect(await foreign.text()).toBe(`Campaign ${id} was not found.`);
    const missing = await exportCsv(t, "cmp_missing");
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
    const anonymous = await call(`/api/v1/campaigns/${id}/contacts.csv`);
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
  });

  it("exports a campaign created before custom_columns with the columns its migration filled in", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, "phone_number,zeta,alpha\n+14155550100,z,a\n");
    // As such a campaign was stored: no column list, and each contact naming its fields.
    await env.DB.prepare("UPDATE campaigns SET custom_columns = '[]' WHERE id = ?").bind(id).run();
    await env.DB.prepare(`UPDATE contacts SET custom_fields = '{"zeta":"z","alpha":"a"}' WHERE campaign_id = ?`).bind(id).run();
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0004_"));
    const backfill = migration?.queries.find((q) => q.includes("UPDATE `campaigns`"));
    expect(backfill).toBeDefined();
    await env.DB.prepare(backfill as string).run();
    expect((await exported(t, id))[0]?.slice(FIXED.length)).toEqual(["zeta", "alpha"]);
  });

  it("reads each page as one index range, never a scan or an OFFSET", async () => {
    const plan = async (sql: string, ...params: unknown[]) =>
      (
        await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...params)
          .all<{ detail: string }>()
      ).results.map((r) => r.detail);
    expect((await plan(EXPORT_PAGE_SQL, "cmp", -1, 10)).join("\n")).toMatch(/SEARCH contacts USING INDEX contacts_campaign_seq \(campaign_id=\? AND seq>\?\)/);
    expect((await plan(EXPORT_STATUS_PAGE_SQL, "cmp", -1, 10, "failed")).join("\n")).toMatch(
      /SEARCH contacts USING INDEX contacts_campaign_settled \(campaign_id=\? AND status=\? AND seq>\?\)/,
    );
    expect((await plan(EXPORT_PENDING_PAGE_SQL, "cmp", -1, 10)).join("\n")).toMatch(
      /SEARCH contacts USING INDEX contacts_campaign_seq \(campaign_id=\? AND seq>\?\)/,
    );
    for (const sql of [EXPORT_PAGE_SQL, EXPORT_STATUS_PAGE_SQL, EXPORT_PENDING_PAGE_SQL]) expect(sql).not.toMatch(/OFFSET/i);
  });
});

describe("a 100k-contact export", () => {
  it("streams every contact in order while holding at most one page", { timeout: 120_000 }, async () => {
    const t = await newTenant();
    const lines = ["phone_number,first_name,last_name,city,plan,ref,note"];
    for (let i = 0; i < 100_000; i++) lines.push(`+1555${String(i).padStart(7, "0")},First${i},Last${i},City,gold,R${i},n`);
    const { id } = await createCampaign(t, lines.join("\n"));

    // Through the route: every contact arrives, in CSV order, as a stream of many chunks.
    const started = Date.now();
    const res = await exportCsv(t, id);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let chunks = 0;
    let tail = "";
    let lineCount = 0;
    let firstData = "";
    let lastData = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      const parts = (tail + decoder.decode(value, { stream: true })).split("\r\n");
      tail = parts.pop() ?? "";
      for (const line of parts) {
        if (lineCount === 1) firstData = line;
        lastData = line;
        lineCount++;
      }
    }
    const elapsedMs = Date.now() - started;
    expect(tail).toBe("");
    expect(lineCount).toBe(100_001);
    expect(firstData).toMatch(/^2,\+15550000000,pending,,0,,,[^,]+,,,,,,,First0,Last0,City,gold,R0,n$/);
    expect(lastData).toMatch(/^100001,\+15550099999,pending,,0,,,[^,]+,,,,,,,First99999,Last99999,City,gold,R99999,n$/);
    expect(chunks).toBeGreaterThanOrEqual(40);
    console.log(`export of 100k contacts through the route: ${elapsedMs} ms, ${chunks} chunks`);

    // The same stream over an instrumented reader: rows read from D1 but not yet taken by the consumer.
    const pageSize = 2_500;
    const d1 = d1ExportPages(env.DB, id, undefined);
    let fetched = 0;
    let consumed = 0;
    let pages = 0;
    let mostHeld = 0;
    let headerSeen = false;
    const counting: ExportPageReader = async (after, limit) => {
      const page = await d1(after, limit);
      pages++;
      fetched += page.length;
      mostHeld = Math.max(mostHeld, fetched - consumed);
      return page;
    };
    const stream = contactsCsvStream(counting, ["first_name", "last_name", "city", "plan", "ref", "note"], pageSize).getReader();
    for (;;) {
      const { done, value } = await stream.read();
      if (done) break;
      // Line breaks per chunk: this data has none inside cells. The first chunk also carries the header.
      let breaks = 0;
      for (const byte of value) if (byte === 0x0a) breaks++;
      consumed += headerSeen ? breaks : breaks - 1;
      headerSeen = true;
      // Give the stream every chance to read ahead before the next read.
      await new Promise((r) => setTimeout(r, 0));
      mostHeld = Math.max(mostHeld, fetched - consumed);
    }
    expect(consumed).toBe(100_000);
    expect(pages).toBe(41); // 40 full pages, then the empty one that ends the stream
    // The stream read one page ahead of the consumer at most: memory is one page, whatever the campaign's size.
    expect(mostHeld).toBeLessThanOrEqual(pageSize);
    console.log(`instrumented export: ${pages} pages of ${pageSize}; most rows held unconsumed: ${mostHeld}`);
  });
});

describe("client campaigns.exportContacts", () => {
  it("returns the CSV as a stream, with ?status=, and maps errors to ApiError", async () => {
    const t = await newTenant();
    const edgedial = new Edgedial({ apiKey: t.key, baseUrl: BASE, fetch: (request) => exports.default.fetch(request) });
    const { id } = await createCampaign(t, csvOf(3));
    const stream = await edgedial.campaigns.exportContacts(id);
    expect(stream).toBeInstanceOf(ReadableStream);
    const text = await new Response(stream).text();
    expect(text.split("\r\n").filter(Boolean)).toHaveLength(4);
    expect(text.startsWith(`${FIXED.join(",")},first_name\r\n`)).toBe(true);
    expect((await lifecycle(t, id, "stop")).status).toBe(200);
    const cancelled = await new Response(await edgedial.campaigns.exportContacts(id, { status: "cancelled" })).text();
    expect(cancelled.split("\r\n").filter(Boolean)).toHaveLength(4);
    const pending = await new Response(await edgedial.campaigns.exportContacts(id, { status: "pending" })).text();
    expect(pending.split("\r\n").filter(Boolean)).toHaveLength(1);
    const error = await edgedial.campaigns.exportContacts("cmp_missing").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found" });
  });
});
