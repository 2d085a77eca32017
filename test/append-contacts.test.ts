import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { Edgedial } from "../client/index";
import { appendRefusal, MAX_CAMPAIGN_CONTACTS } from "../src/campaign-object/append-rules";
import { BASE, call, countRows, createCampaign, csvOf, json, jsonInit, lifecycle, newTenant, type Tenant } from "./helpers";
import { allContacts, campaignStub, carriedCalls, getCampaign, runUntil, step, untilStatus, useSimulatedTime } from "./sim";

let restore: () => void = () => undefined;
afterEach(() => restore());

type Appended = { added: number; duplicates_skipped: number; dnc_suppressed: number; total: number };

const appendCsv = (t: Tenant, id: string, csv: string) =>
  call(`/api/v1/campaigns/${id}/contacts`, { method: "POST", headers: { ...t.auth, "Content-Type": "text/csv" }, body: csv });
const appendForm = (t: Tenant, id: string, csv: string) => {
  const form = new FormData();
  form.set("contacts", new File([csv], "more.csv", { type: "text/csv" }));
  return call(`/api/v1/campaigns/${id}/contacts`, { method: "POST", headers: t.auth, body: form });
};
const appendJson = (t: Tenant, id: string, contacts: unknown[]) => call(`/api/v1/campaigns/${id}/contacts`, jsonInit("POST", { contacts }, t.auth));
const contactCount = (id: string) => countRows("SELECT count(*) AS n FROM contacts WHERE campaign_id = ?", id);

describe("appendRefusal", () => {
  it.each([
    ["draft", 0, 1, null],
    ["scheduled", 10, 5, null],
    ["paused", 10, 5, null],
    ["running", MAX_CAMPAIGN_CONTACTS - 1, 1, null],
    ["running", MAX_CAMPAIGN_CONTACTS - 1, 2, "too_many"],
    ["completed", 0, 1, "finished"],
    ["failed", 0, 1, "finished"],
  ] as const)("%s holding %d, adding %d → %s", (status, total, adding, reason) => {
    expect(appendRefusal(status, total, adding)?.reason ?? null).toBe(reason);
  });
});

describe("POST /campaigns/{id}/contacts", () => {
  it("adds new numbers after the others, skips numbers already there or repeated, and suppresses listed ones", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(3));
    await call("/api/v1/dnc", jsonInit("POST", { numbers: ["+15550100011"] }, t.auth));
    const csv = "first_name,phone_number\nAgain,+15550100002\nNew,+15550100010\nListed,+15550100011\nTwice,+1 555 010 0010\n";
    const res = await appendCsv(t, id, csv);
    expect(res.status).toBe(200);
    expect(await json<Appended>(res)).toEqual({ added: 2, duplicates_skipped: 2, dnc_suppressed: 1, total: 5 });

    const contacts = await allContacts(t, id);
    expect(contacts.map((c) => [c.phone_number, c.row, c.status, c.outcome, c.custom_fields.first_name])).toEqual([
      ["+15550100000", 2, "pending", null, "Person 0"],
      ["+15550100001", 3, "pending", null, "Person 1"],
      ["+15550100002", 4, "pending", null, "Person 2"],
      ["+15550100010", 3, "pending", null, "New"],
      ["+15550100011", 4, "cancelled", "dnc", "Listed"],
    ]);
    expect(new Set(contacts.map((c) => c.id)).size).toBe(5);
    const view = await getCampaign(t, id);
    expect(view.stats).toMatchObject({ total: 5, pending: 4, cancelled: 1 });
  });

  it("takes a multipart form and JSON too, with the columns in any order and any case", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(1));
    expect(await json<Appended>(await appendForm(t, id, "First_Name,phone_number\nForm,+15550100020\n"))).toMatchObject({ added: 1, total: 2 });
    const res = await appendJson(t, id, [{ phone_number: "+15550100021", FIRST_NAME: "Json", expires_at: "2099-01-01T00:00:00Z" }]);
    expect(await json<Appended>(res)).toMatchObject({ added: 1, total: 3 });
    const contacts = await allContacts(t, id);
    expect(contacts.map((c) => c.custom_fields)).toEqual([{ first_name: "Person 0" }, { first_name: "Form" }, { first_name: "Json" }]);
    expect((contacts[2] as unknown as { expires_at: string }).expires_at).toBe("2099-01-01T00:00:00.000Z");
  });

  it("refuses a new or a missing column, naming it, and writes nothing", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(2));
    const added = await appendCsv(t, id, "phone_number,first_name,plan\n+15550100030,A,gold\n");
    expect(added.status).toBe(400);
    expect(await added.text()).toMatch(/"plan" is not among them/);
    const missing = await appendCsv(t, id, "phone_number\n+15550100030\n");
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(/"first_name" is missing/);
    const jsonExtra = await appendJson(t, id, [{ phone_number: "+15550100030", first_name: "A", plan: "gold" }]);
    expect(jsonExtra.status).toBe(400);
    expect(await jsonExtra.text()).toMatch(/"plan"/);
    expect(await contactCount(id)).toBe(2);
  });

  it("is atomic: one bad row names its row and adds nothing", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(2));
    const res = await appendCsv(t, id, "phone_number,first_name\n+15550100040,A\nnot a number,B\n+15550100041,C\n");
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/row 3 .*Nothing was added\./);
    expect(await contactCount(id)).toBe(2);
    expect((await getCampaign(t, id)).stats).toMatchObject({ total: 2, pending: 2 });
  });

  it("appends to draft, scheduled, paused and running campaigns, and refuses completed ones and unknown ids", async () => {
    const t = await newTenant({ concurrent_max: 100 });
    const draft = await createCampaign(t, csvOf(1));
    const scheduled = await createCampaign(t, csvOf(1), { scheduled_at: new Date(Date.now() + 86_400_000).toISOString() });
    const paused = await createCampaign(t, csvOf(1));
    expect((await lifecycle(t, paused.id, "start")).status).toBe(200);
    expect((await lifecycle(t, paused.id, "pause")).status).toBe(200);
    const running = await createCampaign(t, csvOf(1));
    expect((await lifecycle(t, running.id, "start")).status).toBe(200);
    for (const { id } of [draft, scheduled, paused, running]) {
      const res = await appendCsv(t, id, "phone_number,first_name\n+15550100050,Added\n");
      expect(res.status, id).toBe(200);
      expect(await json<Appended>(res)).toEqual({ added: 1, duplicates_skipped: 0, dnc_suppressed: 0, total: 2 });
    }
    // Running (calls_per_minute 0: nothing dials) still counts the new contact as pending.
    expect((await getCampaign(t, running.id)).stats).toMatchObject({ total: 2, pending: 2 });

    const stopped = await createCampaign(t, csvOf(1));
    expect((await lifecycle(t, stopped.id, "stop")).status).toBe(200);
    const refused = await appendCsv(t, stopped.id, "phone_number,first_name\n+15550100050,Added\n");
    expect(refused.status).toBe(409);
    expect(await refused.text()).toMatch(/completed, so it takes no more contacts/);
    expect(await contactCount(stopped.id)).toBe(1);
    expect((await appendCsv(t, "cmp_nothing", "phone_number,first_name\n+15550100050,A\n")).status).toBe(404);
  });

  it("holds at most 1,000,000 contacts: an upload past it is refused whole", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(1));
    // The limit is checked against the stored total: a total near it stands in for a million rows.
    await env.DB.prepare("UPDATE campaigns SET total = ? WHERE id = ?")
      .bind(MAX_CAMPAIGN_CONTACTS - 2, id)
      .run();
    const over = await appendCsv(t, id, "phone_number,first_name\n+15550100060,A\n+15550100061,B\n+15550100062,C\n");
    expect(over.status).toBe(409);
    expect(await over.text()).toMatch(/at most 1,000,000/);
    expect(await contactCount(id)).toBe(1);
    const fits = await appendCsv(t, id, "phone_number,first_name\n+15550100060,A\n+15550100061,B\n");
    expect(await json<Appended>(fits)).toMatchObject({ added: 2, total: MAX_CAMPAIGN_CONTACTS });
  });

  it("refuses custom fields over 64 KB per contact at create and append, naming the row", async () => {
    const t = await newTenant();
    const big = "x".repeat(70 * 1024);
    const create = await call("/api/v1/campaigns", {
      method: "POST",
      headers: t.auth,
      body: (() => {
        const form = new FormData();
        form.set("name", "Big");
        form.set("agent_id", t.agentId);
        form.set("phone_number_id", t.numberId);
        form.set("contacts", new File([`phone_number,note\n+15550100070,small\n+15550100071,${big}\n`], "c.csv"));
        return form;
      })(),
    });
    expect(create.status).toBe(400);
    expect(await create.text()).toMatch(/custom fields over 64 KB as JSON: row 3/);
    const { id } = await createCampaign(t, csvOf(1));
    const res = await appendJson(t, id, [{ phone_number: "+15550100072", first_name: big }]);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/row 1/);
    expect(await contactCount(id)).toBe(1);
  });
});

describe("appending to a running campaign (simulated time)", () => {
  it("dials the appended contacts after the existing ones, and does not complete while its last call is up", async () => {
    restore = useSimulatedTime(Date.now() + 7 * 86_400_000);
    const t = await newTenant({ calls_per_minute: 1_000_000 });
    // 99: a long answered call keeps the campaign's only contact in flight.
    const { id } = await createCampaign(t, "phone_number,first_name\n+15550100099,Long\n+15550100001,Short\n", { max_concurrent_calls: "1" });
    expect((await lifecycle(t, id, "start")).status).toBe(200);
    await runUntil(t, [id], (c) => c.stats.pending === 0 && (c.stats.originated ?? 0) + (c.stats.connected ?? 0) === 1);
    const res = await appendCsv(t, id, "phone_number,first_name\n+15550100002,Later\n+15550100003,Last\n");
    expect(await json<Appended>(res)).toMatchObject({ added: 2, total: 4 });
    await runUntil(t, [id], untilStatus("completed"));
    const calls = await carriedCalls(t);
    expect(calls.map((c) => c.to)).toEqual(["+15550100099", "+15550100001", "+15550100002", "+15550100003"]);
    expect((await getCampaign(t, id)).stats).toMatchObject({ total: 4, completed: 4, pending: 0 });
    // Completed now: it takes no more.
    expect((await appendCsv(t, id, "phone_number,first_name\n+15550100004,Too late\n")).status).toBe(409);
    const inspect = await campaignStub(id).inspect(id);
    expect(inspect.stats.completed).toBe(4);
    await step(t, [id]);
  });
});

describe("the client", () => {
  it("appends CSV text and objects, and cancels a contact", async () => {
    const t = await newTenant();
    const edgedial = new Edgedial({ apiKey: t.key, baseUrl: BASE, fetch: (request: Request) => exports.default.fetch(request) });
    const { id } = await createCampaign(t, csvOf(1));
    expect(await edgedial.campaigns.appendContacts(id, { contacts: "phone_number,first_name\n+15550100080,Text\n" })).toEqual({
      added: 1,
      duplicates_skipped: 0,
      dnc_suppressed: 0,
      total: 2,
    });
    const appended = await edgedial.campaigns.appendContacts(id, {
      contacts: [
        { phone_number: "+15550100080", first_name: "Again" },
        { phone_number: "+15550100081", first_name: "Obj" },
      ],
    });
    expect(appended).toMatchObject({ added: 1, duplicates_skipped: 1, total: 3 });
    await expect(edgedial.campaigns.appendContacts(id, { contacts: "phone_number\n+15550100082\n" })).rejects.toMatchObject({ status: 400 });
    const last = (await edgedial.campaigns.listContacts(id)).items.at(-1);
    expect(await edgedial.campaigns.cancelContact(id, last?.id as string)).toMatchObject({ status: "cancelled", outcome: "canceled" });
  });
});
