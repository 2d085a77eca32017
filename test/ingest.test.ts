import { env } from "cloudflare:workers";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/http/errors";
import { readCsvTable } from "../src/uploads/csv-table";
import { contactTuples, ingestCsv } from "../src/uploads/ingest";
import { normalisePhone } from "../src/uploads/phone";
import { call, campaignForm, countRows, createCampaign, csvOf, json, jsonInit, newTenant, postCampaign, type Tenant } from "./helpers";

describe("normalisePhone", () => {
  it.each([
    ["+1 (415) 555-0100", undefined, "+14155550100"],
    ["+1.415.555.0100", undefined, "+14155550100"],
    ["0044 20 7946 0958", undefined, "+442079460958"],
    ["+44 (0)20 7946 0958", undefined, "+442079460958"],
    ["(415) 555-0100", "US", "+14155550100"],
    ["020 7946 0958", "GB", "+442079460958"],
    ["415 555 0100", undefined, null],
    ["+1 555", undefined, null],
    ["call me", "US", null],
    ["", "US", null],
    ["+0123456789", undefined, null],
  ] as const)("%s (%s) → %s", (raw, country, expected) => {
    expect(normalisePhone(raw, country)).toBe(expected);
  });
});

function ingestError(text: string): string {
  try {
    ingestCsv(text, undefined);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as ApiError).message;
  }
  throw new Error("expected ingest to fail");
}

describe("ingestCsv", () => {
  it("tolerates BOM, CRLF, quoted fields with commas, quotes and newlines, and blank lines", () => {
    const text = '\uFEFF Phone_Number ,name,note\r\n+14155550100,"Smith, Ann","said ""hi""\r\nthen left"\r\n\r\n+14155550101,Bob,\r\n';
    const result = ingestCsv(text, undefined);
    expect(result.count).toBe(2);
    expect(contactTuples(result.chunks[0] ?? { json: "{}", count: 0 })).toEqual([
      [2, "+14155550100", ["Smith, Ann", 'said "hi"\r\nthen left']],
      [4, "+14155550101", ["Bob", ""]],
    ]);
    expect(result.columns).toEqual(["name", "note"]);
  });

  it("dials a repeated number once, first row wins", () => {
    const result = ingestCsv("phone_number,n\n+14155550100,first\n+1 415 555 0100,second\n+14155550101,x\n", undefined);
    expect(result.count).toBe(2);
    expect(result.duplicatesSkipped).toBe(1);
    expect(result.chunks[0]?.json).toContain("first");
    expect(result.chunks[0]?.json).not.toContain("second");
  });

  it("splits large uploads into chunks under the D1 value limit, counting every contact", () => {
    const result = ingestCsv(csvOf(30_000), undefined);
    expect(result.chunks.length).toBeGreaterThan(1);
    for (const chunk of result.chunks) expect(chunk.json.length).toBeLessThan(1_000_100);
    expect(result.chunks.reduce((n, c) => n + c.count, 0)).toBe(30_000);
    expect(result.chunks.reduce((n, c) => n + contactTuples(c).length, 0)).toBe(30_000);
  });

  it.each([
    ["name,phone\nA,+14155550100\n", "needs a phone_number column"],
    ["phone_number,Name,name\n+14155550100,a,b\n", 'header "name" twice'],
    ["phone_number,,x\n+14155550100,a,b\n", "column 2 has no header"],
    ["phone_number;name\n+14155550100;a\n", "semicolon"],
    ["phone_number,name\n+14155550100,a,extra\n", "more fields than the header"],
    ['phone_number,name\n+14155550100,"open\n', "broken quoted field"],
    ["phone_number\n", "no contacts"],
    ["", "empty"],
  ])("refuses %j", (text, needle) => {
    expect(ingestError(text)).toContain(needle);
  });

  it("names the first 20 offending rows and counts the rest", () => {
    const lines = ["phone_number"];
    for (let i = 0; i < 25; i++) lines.push(i % 2 ? "+14155550100" : `bad${i}`);
    const message = ingestError(lines.join("\n"));
    expect(message).toMatch(/^13 phone numbers could not be read: row 2 \("bad0"\), row 4 \("bad2"\)/);
    expect(message).toContain("row 26");
    expect(message).not.toContain("default_country) and");
  });
});

async function expect400(t: Tenant, fields: Record<string, string>, needle: string, csv = csvOf(2)) {
  const res = await postCampaign(t, csv, fields);
  const text = await res.text();
  expect(res.status, text).toBe(400);
  expect(text).toContain(needle);
}

describe("POST /campaigns", () => {
  it("creates a draft from a CSV with stats, row numbers and custom fields", async () => {
    const t = await newTenant();
    const res = await postCampaign(t, "phone_number,first_name,plan\n+14155550100,Ann,gold\n+14155550101,Bob,\n+14155550100,Dup,x\n");
    expect(res.status).toBe(201);
    const campaign = await json<Record<string, unknown>>(res);
    expect(campaign).toMatchObject({
      name: "Test campaign",
      status: "draft",
      status_reason: null,
      agent_id: t.agentId,
      phone_number_id: t.numberId,
      max_concurrent_calls: 5,
      retries_per_contact: 0,
      retry_delay_seconds: 300,
      scheduled_at: null,
      started_at: null,
      completed_at: null,
      created_by: expect.stringMatching(/^key_/),
      duplicates_skipped: 1,
      stats: { total: 2, pending: 2, originated: 0, connected: 0, completed: 0, failed: 0, cancelled: 0 },
    });
    expect(campaign.id).toMatch(/^cmp_/);
    const contacts = await json<{ contacts: Record<string, unknown>[] }>(await call(`/api/v1/campaigns/${campaign.id}/contacts`, { headers: t.auth }));
    expect(contacts.contacts.map((c) => [c.row, c.phone_number, c.custom_fields, c.status, c.attempts])).toEqual([
      [2, "+14155550100", { first_name: "Ann", plan: "gold" }, "pending", 0],
      [3, "+14155550101", { first_name: "Bob", plan: "" }, "pending", 0],
    ]);
    expect(contacts.contacts[0]).toMatchObject({ outcome: null, last_error: null, call_id: null, next_attempt_at: null, campaign_id: campaign.id });
    expect(contacts.contacts[0]?.id).toMatch(/^ctc_/);
  });

  it("accepts JSON with a contacts array and default_country", async () => {
    const t = await newTenant();
    const res = await call(
      "/api/v1/campaigns",
      jsonInit(
        "POST",
        {
          name: "JSON",
          agent_id: t.agentId,
          phone_number_id: t.numberId,
          max_concurrent_calls: 3,
          default_country: "gb",
          contacts: [{ phone_number: "020 7946 0958", tier: 2 }, { phone_number: "+14155550100" }],
        },
        t.auth,
      ),
    );
    expect(res.status).toBe(201);
    const campaign = await json<{ id: string; max_concurrent_calls: number; default_country: string }>(res);
    expect(campaign).toMatchObject({ max_concurrent_calls: 3, default_country: "GB" });
    const { contacts } = await json<{ contacts: Record<string, unknown>[] }>(await call(`/api/v1/campaigns/${campaign.id}/contacts`, { headers: t.auth }));
    expect(contacts[0]).toMatchObject({ row: 1, phone_number: "+442079460958", custom_fields: { tier: "2" } });
  });

  it("creates under every mount", async () => {
    const t = await newTenant();
    for (const prefix of ["/api/v1", "/hub-api/api/v1", "/v1"]) {
      const res = await postCampaign(t, csvOf(1), {}, prefix);
      expect(res.status, prefix).toBe(201);
      const { id } = await json<{ id: string }>(res);
      const got = await call(`${prefix}/campaigns/${id}`, { headers: t.auth });
      expect(got.status).toBe(200);
      await got.body?.cancel();
    }
  });

  it("is scheduled when created with scheduled_at", async () => {
    const t = await newTenant();
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const campaign = await createCampaign(t, csvOf(1), { scheduled_at: at });
    expect(campaign).toMatchObject({ status: "scheduled", scheduled_at: at });
  });

  it.each([
    [{ max_concurrent_calls: "0" }, "max_concurrent_calls"],
    [{ max_concurrent_calls: "101" }, "max_concurrent_calls"],
    [{ max_concurrent_calls: "abc" }, "max_concurrent_calls"],
    [{ max_concurrent_calls: "2.5" }, "max_concurrent_calls"],
    [{ retries_per_contact: "6" }, "retries_per_contact"],
    [{ retry_delay_seconds: "59" }, "retry_delay_seconds"],
    [{ scheduled_at: "2001-01-01T00:00:00Z" }, "in the past"],
    [{ scheduled_at: "tomorrow" }, "RFC 3339"],
    [{ default_country: "XX" }, "default_country"],
    [{ name: "" }, "name is required"],
    [{ agent_id: "agt_missing" }, "agent_id"],
    [{ phone_number_id: "pn_missing" }, "phone_number_id"],
  ])("refuses %j with 400 naming the field", async (fields, needle) => {
    await expect400(await newTenant(), fields, needle);
  });

  it("refuses a number that is not outbound_enabled", async () => {
    const t = await newTenant();
    await call(`/api/v1/telephony/numbers/${t.numberId}`, jsonInit("PATCH", { outbound_enabled: false }, t.auth));
    await expect400(t, {}, "outbound");
  });

  it("refuses another account's agent (400)", async () => {
    const t = await newTenant();
    const other = await newTenant();
    await expect400(t, { agent_id: other.agentId }, "agent_id");
  });

  it("writes nothing when a number is bad, and names the lines", async () => {
    const t = await newTenant();
    const res = await postCampaign(t, "phone_number,name\n+14155550100,ok\n12,bad\n+14155550101,ok\nnope,bad\n");
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('row 3 ("12")');
    expect(text).toContain('row 5 ("nope")');
    expect(await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId)).toBe(0);
    expect(await countRows("SELECT count(*) AS n FROM contacts WHERE account_id = ?", t.accountId)).toBe(0);
  });

  it("refuses CSV problems with 400: missing phone_number, duplicate header, no file", async () => {
    const t = await newTenant();
    await expect400(t, {}, "phone_number column", "name\nAnn\n");
    await expect400(t, {}, "twice", "phone_number,PHONE_NUMBER\n+14155550100,+14155550101\n");
    const form = campaignForm(t, "");
    form.delete("contacts");
    const res = await call("/api/v1/campaigns", { method: "POST", headers: t.auth, body: form });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("contacts is required");
  });

  it("answers 413 to a body over 10 MB before parsing it", async () => {
    const t = await newTenant();
    const big = `phone_number\n${"+14155550100\n".repeat(850_000)}`;
    expect(big.length).toBeGreaterThan(10 * 1024 * 1024);
    const res = await postCampaign(t, big);
    expect(res.status).toBe(413);
    await res.body?.cancel();
    expect(await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId)).toBe(0);
  });

  it("answers 413 to an oversize body sent without Content-Length", async () => {
    const t = await newTenant();
    const chunk = new TextEncoder().encode(`${"+14155550100\n".repeat(80_000)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > 11 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await call("/api/v1/campaigns", { method: "POST", headers: { ...t.auth, "Content-Type": "multipart/form-data; boundary=x" }, body });
    expect(res.status).toBe(413);
    await res.body?.cancel();
  });

  it("answers 415 to other content types", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/campaigns", { method: "POST", headers: { ...t.auth, "Content-Type": "text/csv" }, body: csvOf(1) });
    expect(res.status).toBe(415);
    await res.body?.cancel();
  });

  it("ingests 100k rows, 7 columns, in one request", async () => {
    const t = await newTenant();
    const lines = ["phone_number,first_name,last_name,city,plan,ref,note"];
    for (let i = 0; i < 100_000; i++) lines.push(`+1555${String(i).padStart(7, "0")},First${i},Last${i},City,gold,R${i},n`);
    const campaign = await createCampaign(t, lines.join("\n"));
    expect(campaign.stats.total).toBe(100_000);
    expect(await countRows("SELECT count(*) AS n FROM contacts WHERE campaign_id = ?", campaign.id)).toBe(100_000);
    const last = await env.DB.prepare("SELECT row, seq, phone_number FROM contacts WHERE campaign_id = ? ORDER BY seq DESC LIMIT 1").bind(campaign.id).first();
    expect(last).toEqual({ row: 100_001, seq: 99_999, phone_number: "+15550099999" });
  });
});

describe("readCsvTable", () => {
  const papaRows = (text: string) => Papa.parse<string[]>(text.replace(/^\uFEFF/, ""), { header: false, delimiter: ",", skipEmptyLines: false }).data;
  const tableRows = (text: string) => {
    const table = readCsvTable(text);
    return Array.from({ length: table.rowCount }, (_, i) => table.row(i));
  };

  it.each([
    "phone_number,name\n+14155550100,Ann\n+14155550101,Bob\n",
    "phone_number,name\n+14155550100,Ann\n\n+14155550101,\n",
    "phone_number\n+14155550100",
    "\uFEFFphone_number,a,b\n+14155550100,,x,extra\n,\n",
    'phone_number,note\n+14155550100,"quoted, with comma"\n',
    "phone_number,note\r\n+14155550100,crlf\r\n",
  ])("reads %j row for row as papaparse does", (text) => {
    expect(tableRows(text)).toEqual(papaRows(text));
  });
});
