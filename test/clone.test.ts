import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { CONTACT_DATA_COLUMNS } from "../src/campaigns/clone";
import { call, countRows, createCampaign, csvOf, json, jsonInit, lifecycle, newTenant, postCampaign, type Tenant } from "./helpers";
import { allContacts, type ContactView, campaignStub, carriedCalls, runUntil, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

interface Clone {
  id: string;
  name: string;
  status: string;
  agent_id: string;
  max_concurrent_calls: number;
  retries_per_contact: number;
  retry_delay_seconds: number;
  default_country: string | null;
  scheduled_at: string | null;
  source_campaign_id: string | null;
  dnc_suppressed: number;
  stats: Record<string, number>;
}

const clone = (t: Tenant, id: string, body?: unknown) =>
  call(`/api/v1/campaigns/${id}/clone`, body === undefined ? { method: "POST", headers: t.auth } : jsonInit("POST", body, t.auth));

async function cloned(t: Tenant, id: string, body?: unknown): Promise<Clone> {
  const res = await clone(t, id, body);
  if (res.status !== 201) throw new Error(`clone failed: ${res.status} ${await res.text()}`);
  return json<Clone>(res);
}

/** The simulator's outcome digits (SPEC table), each with custom fields worth keeping exactly. */
const OUTCOME_DIGITS = ["00", "70", "05", "80", "75", "90", "85", "95", "98", "79", "89", "31"];
const outcomeCsv = () =>
  [
    "phone_number,name,note",
    ...OUTCOME_DIGITS.map((d, i) => `+155501001${d},Person ${d},"=cell, with ""quotes"" ${i}"`),
    // A blank line between rows: the row numbers keep the gap.
    "",
    "+1555010019 9,Tail,",
  ].join("\n");

describe("clone", () => {
  it("copies exactly the failed contacts whose outcome was busy or no_answer, with their custom fields, rows and CSV order", async () => {
    restore = useSimulatedTime();
    const t = await newTenant({ calls_per_minute: 1_000_000, concurrent_max: 20 });
    const source = await createCampaign(t, outcomeCsv(), { max_concurrent_calls: "20", name: "Spring drive" });
    await lifecycle(t, source.id, "start");
    await runUntil(t, [source.id], untilStatus("completed"));
    const sourceContacts = await allContacts(t, source.id);
    const expected = sourceContacts.filter((c) => c.status === "failed" && (c.outcome === "busy" || c.outcome === "no_answer"));
    expect(expected.map((c) => c.phone_number.slice(-2))).toEqual(["70", "80", "75", "85", "79", "89"]);
    const carriedBefore = (await carriedCalls(t)).length;

    const copy = await cloned(t, source.id, { statuses: ["failed"], outcomes: ["busy", "no_answer"] });
    expect(copy).toMatchObject({
      name: "Spring drive (copy)",
      status: "draft",
      source_campaign_id: source.id,
      dnc_suppressed: 0,
      stats: { total: 6, pending: 6, originated: 0, connected: 0, completed: 0, failed: 0, cancelled: 0 },
    });
    const copied = await allContacts(t, copy.id);
    expect(copied.map((c) => [c.row, c.phone_number, c.custom_fields])).toEqual(expected.map((c) => [c.row, c.phone_number, c.custom_fields]));
    expect(copied[0]?.custom_fields).toEqual({ name: "Person 70", note: '=cell, with "quotes" 1' });
    for (const c of copied) {
      expect(c).toMatchObject({ status: "pending", attempts: 0, outcome: null, last_error: null, call_id: null, next_attempt_at: null });
    }
    // Dense positions: offset paging is a seek on the copy just as on an upload.
    const page = await json<{ contacts: ContactView[] }>(await call(`/api/v1/campaigns/${copy.id}/contacts?limit=2&offset=4`, { headers: t.auth }));
    expect(page.contacts.map((c) => c.phone_number)).toEqual(expected.slice(4).map((c) => c.phone_number));
    const view = await json<Clone>(await call(`/api/v1/campaigns/${copy.id}`, { headers: t.auth }));
    expect(view.source_campaign_id).toBe(source.id);
    expect((await json<Clone>(await call(`/api/v1/campaigns/${source.id}`, { headers: t.auth }))).source_campaign_id).toBeNull();
    expect((await carriedCalls(t)).length).toBe(carriedBefore);

    // Each filter alone, and no filter at all.
    expect((await cloned(t, source.id, { statuses: ["failed"] })).stats.total).toBe(8);
    expect((await cloned(t, source.id, { outcomes: ["voicemail", "answered"] })).stats.total).toBe(5);
    const everything = await cloned(t, source.id);
    expect(everything.stats.total).toBe(13);
    expect((await allContacts(t, everything.id)).map((c) => c.row)).toEqual(sourceContacts.map((c) => c.row));
    expect((await allContacts(t, everything.id)).at(-1)).toMatchObject({ row: 15, phone_number: "+15550100199", custom_fields: { name: "Tail", note: "" } });

    // The copy dials like any campaign.
    await lifecycle(t, copy.id, "start");
    const [done] = await runUntil(t, [copy.id], untilStatus("completed"));
    expect(done?.stats).toMatchObject({ total: 6, failed: 6 });
  });

  it("refuses empty, unknown or unmatched selections and unknown fields with a 400 that names them, creating nothing", async () => {
    const t = await newTenant();
    const source = await createCampaign(t, csvOf(3));
    const cases: [unknown, string][] = [
      [{ statuses: [] }, "statuses is empty"],
      [{ outcomes: [] }, "outcomes is empty"],
      [{ statuses: ["failed", "lost", "gone"] }, 'statuses has unknown values "lost", "gone"; use pending, originated'],
      [{ outcomes: ["busy", "engaged"] }, 'outcomes has unknown value "engaged"; use answered'],
      [{ statuses: "failed" }, "statuses must be an array"],
      [{ statuses: ["failed"] }, `No contact of campaign ${source.id} has status failed; nothing was created.`],
      [{ statuses: ["pending"], outcomes: ["busy"] }, "has status pending and outcome busy"],
      [{ contacts: [] }, 'Clone does not take "contacts"'],
      [{ max_concurrent_calls: 0 }, "max_concurrent_calls must be from 1 to 100"],
      [{ retries_per_contact: "two" }, "retries_per_contact must be a whole number"],
      [{ retry_delay_seconds: 10 }, "retry_delay_seconds must be from 60"],
      [{ scheduled_at: "2001-01-01T00:00:00Z" }, "scheduled_at 2001-01-01T00:00:00Z is in the past"],
      [{ default_country: "ZZ" }, "default_country must be an ISO 3166"],
      [{ name: "   " }, "name is required"],
      [{ name: { first: "x" } }, "name must be a string or number"],
      [{ agent_id: "agt_missing" }, "agent_id agt_missing is not an agent of this account"],
    ];
    for (const [body, needle] of cases) {
      const res = await clone(t, source.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.text(), JSON.stringify(body)).toContain(needle);
    }
    const other = await newTenant();
    const foreign = await clone(t, source.id, { phone_number_id: other.numberId });
    expect(foreign.status).toBe(400);
    await foreign.text();
    const notJson = await call(`/api/v1/campaigns/${source.id}/clone`, { method: "POST", headers: { ...t.auth, "Content-Type": "text/plain" }, body: "x" });
    expect(notJson.status).toBe(415);
    await notJson.text();
    expect(await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId)).toBe(1);
    expect(await countRows("SELECT count(*) AS n FROM contacts WHERE account_id = ?", t.accountId)).toBe(3);
  });

  it("is 404 for another account's campaign or an unknown id", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const source = await createCampaign(a, csvOf(2));
    for (const res of [await clone(b, source.id), await clone(a, "cmp_missing")]) {
      expect(res.status).toBe(404);
      await res.text();
    }
    expect(await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", b.accountId)).toBe(0);
  });

  it("applies overrides validated as at create, keeps the rest of the source's settings, and arms a scheduled clone", async () => {
    const t = await newTenant();
    const source = await createCampaign(t, csvOf(4), {
      max_concurrent_calls: "7",
      retries_per_contact: "2",
      retry_delay_seconds: "600",
      default_country: "GB",
    });
    const inherited = await cloned(t, source.id, { name: "Again" });
    expect(inherited).toMatchObject({
      name: "Again",
      agent_id: t.agentId,
      max_concurrent_calls: 7,
      retries_per_contact: 2,
      retry_delay_seconds: 600,
      default_country: "GB",
    });

    const agent = await json<{ id: string }>(await call("/api/v1/agents", jsonInit("POST", { name: "Second", status: "active" }, t.auth)));
    const at = new Date(Date.now() + 3_600_000);
    const overridden = await cloned(t, source.id, {
      agent_id: agent.id,
      max_concurrent_calls: "3",
      retries_per_contact: 0,
      retry_delay_seconds: 120,
      default_country: "us",
      scheduled_at: at.toISOString(),
    });
    expect(overridden).toMatchObject({
      name: "Test campaign (copy)",
      status: "scheduled",
      agent_id: agent.id,
      max_concurrent_calls: 3,
      retries_per_contact: 0,
      retry_delay_seconds: 120,
      default_country: "US",
      scheduled_at: at.toISOString(),
      stats: { total: 4, pending: 4 },
    });
    expect((await campaignStub(overridden.id).inspect(overridden.id)).alarm).toBe(at.getTime());
    // scheduled_at never carries over: a clone of a scheduled campaign is a draft unless told otherwise.
    expect((await cloned(t, overridden.id)).status).toBe("draft");
  });

  it("copies from a running campaign, and suppresses numbers listed since the source was made", async () => {
    const t = await newTenant();
    const source = await createCampaign(t, csvOf(5));
    await lifecycle(t, source.id, "start");
    await call("/api/v1/dnc", jsonInit("POST", { numbers: ["+15550100001", "+15550100004"] }, t.auth));
    const copy = await cloned(t, source.id, { statuses: ["pending"] });
    expect(copy).toMatchObject({ status: "draft", dnc_suppressed: 2, stats: { total: 5, pending: 3, cancelled: 2 } });
    const stored = await env.DB.prepare("SELECT total, stat_pending, stat_cancelled FROM campaigns WHERE id = ?").bind(copy.id).first();
    expect(stored).toEqual({ total: 5, stat_pending: 3, stat_cancelled: 2 });
    const contacts = await allContacts(t, copy.id);
    expect(contacts.filter((c) => c.outcome === "dnc").map((c) => [c.phone_number, c.status])).toEqual([
      ["+15550100001", "cancelled"],
      ["+15550100004", "cancelled"],
    ]);
  });

  it("copies every column that describes the person and none that records dialling", () => {
    // A new contact column must be placed: data (copied, e.g. a time zone) or dialling state (DIALLING_COLUMNS in src/campaigns/clone.ts).
    expect([...CONTACT_DATA_COLUMNS].sort()).toEqual(["custom_fields", "phone_number", "row", "timezone"]);
  });

  it("clones a 100,000-contact campaign in one request", { timeout: 180_000 }, async () => {
    const t = await newTenant();
    const lines = ["phone_number,first,tier"];
    for (let i = 0; i < 100_000; i++) lines.push(`+1555${String(i).padStart(7, "0")},First${i},${i % 3 === 0 ? "gold" : "std"}`);
    const created = await postCampaign(t, lines.join("\n"));
    expect(created.status).toBe(201);
    const source = await json<{ id: string }>(created);

    const started = performance.now();
    const copy = await cloned(t, source.id);
    const cloneMs = performance.now() - started;
    expect(copy.stats).toMatchObject({ total: 100_000, pending: 100_000 });
    expect(await countRows("SELECT count(*) AS n FROM contacts WHERE campaign_id = ?", copy.id)).toBe(100_000);
    const last = await env.DB.prepare("SELECT seq, row, phone_number, custom_fields FROM contacts WHERE campaign_id = ? ORDER BY seq DESC LIMIT 1")
      .bind(copy.id)
      .first();
    expect(last).toEqual({ seq: 99_999, row: 100_001, phone_number: "+15550099999", custom_fields: '["First99999","gold"]' });
    const distinctIds = await countRows("SELECT count(DISTINCT id) AS n FROM contacts WHERE campaign_id = ?", copy.id);
    expect(distinctIds).toBe(100_000);
    console.log(`clone: 100k contacts copied in ${cloneMs.toFixed(0)} ms`);
  });
});
