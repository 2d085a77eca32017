import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FLUSH_CONTACTS_SQL, PENDING_PAGE_SQL } from "../src/campaign-object/d1-sync";
import { RECOUNT_SQL, SUPPRESS_LISTED_SQL } from "../src/dnc/check";
import { call, createCampaign, csvOf, json, jsonInit, newTenant } from "./helpers";

const plan = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>()
  ).results
    .map((r) => r.detail)
    .join("\n");

type StoredContact = { id: string; seq: number; status: string; outcome: string | null; custom_fields: string; updated_at: string };
const stored = async (campaignId: string) =>
  (
    await env.DB.prepare("SELECT id, seq, status, outcome, custom_fields, updated_at FROM contacts WHERE campaign_id = ? ORDER BY seq")
      .bind(campaignId)
      .all<StoredContact>()
  ).results;

describe("contact queries seek, never walk a campaign", () => {
  it("flushes changed contacts by walking the changes and seeking each (campaign_id, seq)", async () => {
    const flush = await plan(FLUSH_CONTACTS_SQL, "now", "[]");
    expect(flush).toMatch(/SCAN u VIRTUAL TABLE/);
    expect(flush).toMatch(/SEARCH contacts USING (COVERING )?INDEX contacts_campaign_seq \(campaign_id=\? AND seq=\?\)/);
    expect(flush.indexOf("SCAN u")).toBeLessThan(flush.indexOf("SEARCH contacts"));
  });

  it("reads pending contacts along (campaign_id, seq) after the cursor", async () => {
    expect(await plan(PENDING_PAGE_SQL, "cmp", -1, 500)).toMatch(/SEARCH contacts USING INDEX contacts_campaign_seq \(campaign_id=\? AND seq>\?\)/);
  });

  it("recounts a new campaign from the key's last seq and the settled-status index", async () => {
    const text = await plan(RECOUNT_SQL, "cmp");
    expect(text).toMatch(/COVERING INDEX contacts_campaign_settled \(campaign_id=\? AND status=\?\)/);
    expect(text).not.toMatch(/SCAN contacts/);
    // The first EXISTS names no column of the contact, so an empty list is found once, not per contact.
    expect(SUPPRESS_LISTED_SQL).toMatch(/EXISTS \(SELECT 1 FROM dnc_numbers WHERE account_id = \?2\)/);
  });

  it("changes only the named campaign's contact when two campaigns share a seq", async () => {
    const t = await newTenant();
    const a = await createCampaign(t, csvOf(3));
    const b = await createCampaign(t, csvOf(3, 100));
    const before = await stored(b.id);
    const rows = [{ k: a.id, q: 1, s: "failed", a: 1, o: "busy", e: "busy", c: "CA1", n: null, r: null, d: null, b: 0 }];
    const result = await env.DB.prepare(FLUSH_CONTACTS_SQL).bind("2026-11-22T00:00:00.000Z", JSON.stringify(rows)).run();
    expect(result.meta.changes).toBe(1);
    expect((await stored(a.id)).map((c) => c.status)).toEqual(["pending", "failed", "pending"]);
    expect(await stored(b.id)).toEqual(before);
  });
});

describe("the settled-status index", () => {
  it("holds no pending contact, and lists each settled status from it", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(4));
    await env.DB.prepare("UPDATE contacts SET status = 'failed' WHERE campaign_id = ? AND seq IN (1, 3)").bind(id).run();
    const inIndex = await env.DB.prepare(
      "SELECT count(*) AS n FROM contacts INDEXED BY contacts_campaign_settled WHERE campaign_id = ? AND status = 'failed' AND status <> 'pending'",
    )
      .bind(id)
      .first<{ n: number }>();
    expect(inIndex?.n).toBe(2);
    // INDEXED BY refuses a query the partial index cannot answer: pending contacts are not in it.
    await expect(
      env.DB.prepare("SELECT count(*) FROM contacts INDEXED BY contacts_campaign_settled WHERE campaign_id = ? AND status = 'pending'").bind(id).first(),
    ).rejects.toThrow(/no query solution/);
    const failed = await json<{ contacts: { phone_number: string }[] }>(await call(`/api/v1/campaigns/${id}/contacts?status=failed`, { headers: t.auth }));
    const pending = await json<{ contacts: { phone_number: string }[] }>(await call(`/api/v1/campaigns/${id}/contacts?status=pending`, { headers: t.auth }));
    expect(failed.contacts).toHaveLength(2);
    expect(pending.contacts).toHaveLength(2);
    expect([...failed.contacts, ...pending.contacts].map((c) => c.phone_number).sort()).toHaveLength(4);
  });
});

describe("migration 0005", () => {
  it("rebuilds contacts keeping every id, field and status, and both indexes", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, "phone_number,name\n+14155550100,Ada\n+14155550101,Grace\n+14155550102,Lin\n");
    await call(`/api/v1/dnc`, jsonInit("POST", { numbers: ["+14155550102"] }, t.auth));
    await env.DB.prepare("UPDATE contacts SET status = 'completed', outcome = 'answered' WHERE campaign_id = ? AND seq = 0").bind(id).run();
    const before = await stored(id);
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0005_"));
    expect(migration).toBeDefined();
    // Run again on the rebuilt table: the same columns, so it must copy everything across once more.
    for (const query of migration?.queries ?? []) await env.DB.prepare(query).run();
    expect(await stored(id)).toEqual(before);
    const indexes = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contacts' ORDER BY name").all<{ name: string }>();
    expect(indexes.results.map((r) => r.name)).toEqual(["contacts_campaign_seq", "contacts_campaign_settled"]);
    await expect(
      env.DB.prepare(
        "INSERT INTO contacts (id, campaign_id, account_id, seq, row, phone_number, status, created_at, updated_at) VALUES ('x', ?, 'a', 0, 2, '+1', 'pending', 'n', 'n')",
      )
        .bind(id)
        .run(),
    ).rejects.toThrow(/UNIQUE/);
  });
});
