import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Edgedial } from "../client/index";
import { BASE, call, campaignForm, countRows, createCampaign, json, jsonInit, newTenant, postCampaign, type Tenant } from "./helpers";

interface View {
  id: string;
  calling_window: { start: string; end: string; days: string[]; timezone: string } | null;
}
interface ContactRow {
  row: number;
  phone_number: string;
  timezone: string | null;
  custom_fields: Record<string, string>;
}

const contactsOf = async (t: Tenant, id: string) =>
  (await json<{ contacts: ContactRow[] }>(await call(`/api/v1/campaigns/${id}/contacts`, { headers: t.auth }))).contacts;

async function expectRefused(t: Tenant, res: Response, needle: string | RegExp) {
  const text = await res.text();
  expect(res.status, text).toBe(400);
  if (typeof needle === "string") expect(text).toContain(needle);
  else expect(text).toMatch(needle);
  expect(await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId)).toBe(0);
  expect(await countRows("SELECT count(*) AS n FROM contacts WHERE account_id = ?", t.accountId)).toBe(0);
}

describe("calling window on create (multipart)", () => {
  it("stores the window and shows it, with days as a list; contacts get their zone", async () => {
    const t = await newTenant();
    const csv = [
      "phone_number, TimeZone ,first_name",
      "+12125550100,,Ann", // New York by its number
      "+14155550100,Europe/London,Bob", // the column wins over the number
      "+12082990000,,Cy", // Boise or Los Angeles: no single zone
      "+15550100000,america/chicago,Di", // unknown area code, placed by the column (case-insensitive)
    ].join("\n");
    const created = await createCampaign(t, csv, { calling_window_start: "09:00", calling_window_end: "20:00", calling_days: "mon,tue,wed,thu,fri" });
    const expected = { start: "09:00", end: "20:00", days: ["mon", "tue", "wed", "thu", "fri"], timezone: "recipient" };
    expect((created as unknown as View).calling_window).toEqual(expected);
    const fetched = await json<View>(await call(`/api/v1/campaigns/${created.id}`, { headers: t.auth }));
    expect(fetched.calling_window).toEqual(expected);
    const listed = await json<{ campaigns: View[] }>(await call("/api/v1/campaigns", { headers: t.auth }));
    expect(listed.campaigns[0]?.calling_window).toEqual(expected);

    const contacts = await contactsOf(t, created.id);
    expect(contacts.map((c) => [c.row, c.timezone])).toEqual([
      [2, "America/New_York"],
      [3, "Europe/London"],
      [4, null],
      [5, "America/Chicago"],
    ]);
    expect(contacts[0]?.custom_fields).toEqual({ first_name: "Ann" }); // timezone is not a custom field
  });

  it("has calling_window null without one, and still shows each number's zone", async () => {
    const t = await newTenant();
    const created = await createCampaign(t, "phone_number\n+12125550100\n+15550100000\n");
    expect((created as unknown as View).calling_window).toBeNull();
    expect((await contactsOf(t, created.id)).map((c) => c.timezone)).toEqual(["America/New_York", null]);
  });

  it.each([
    [{ calling_window_start: "09:00" }, "calling_window_end is missing"],
    [{ calling_window_start: "9am", calling_window_end: "17:00" }, "calling_window_start must be a 24-hour time"],
    [{ calling_window_start: "18:00", calling_window_end: "08:00" }, "calling_window_start (18:00) must be before calling_window_end (08:00)"],
    [{ calling_window_start: "09:00", calling_window_end: "17:00", calling_days: "mon,someday" }, 'calling_days has an unknown day "someday"'],
    [{ calling_window_start: "09:00", calling_window_end: "17:00", calling_timezone: "Atlantis/Capital" }, 'calling_timezone "Atlantis/Capital"'],
    [{ calling_days: "sat" }, "calling_days needs calling_window_start and calling_window_end"],
  ])("refuses %j with 400 naming the field, writing nothing", async (fields, needle) => {
    const t = await newTenant();
    await expectRefused(t, await postCampaign(t, "phone_number\n+12125550100\n", fields), needle);
  });

  it("names the rows whose timezone is unknown (first 20), writing nothing", async () => {
    const t = await newTenant();
    const lines = ["phone_number,timezone"];
    for (let i = 0; i < 30; i++) lines.push(`+1212555${String(i).padStart(4, "0")},${i % 3 === 0 ? "Mars/Base" : "America/Denver"}`);
    const res = await postCampaign(t, lines.join("\n"));
    await expectRefused(t, res, /^10 rows have an unknown time zone in the timezone column: row 2 \("Mars\/Base"\), row 5 \("Mars\/Base"\)/);
  });

  it("names the rows that could never be called inside the window, writing nothing", async () => {
    const t = await newTenant();
    const res = await postCampaign(t, "phone_number\n+12125550100\n+15550100000\n+80012345678\n", {
      calling_window_start: "09:00",
      calling_window_end: "17:00",
    });
    await expectRefused(
      t,
      res,
      /^2 contacts could never be called inside the calling window 09:00–17:00: row 3 \(\+15550100000: .*\), row 4 \(\+80012345678: no time zone/,
    );
  });

  it("answers the refusal in the JSON error format when asked", async () => {
    const t = await newTenant();
    const form = campaignForm(t, "phone_number\n+12125550100\n", { calling_window_start: "25:00", calling_window_end: "26:00" });
    const res = await call("/api/v1/campaigns", { method: "POST", headers: { ...t.auth, Accept: "application/json" }, body: form });
    expect(res.status).toBe(400);
    const body = await json<{ error: { code: string; message: string } }>(res);
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toContain("calling_window_start");
  });
});

describe("calling window on create (JSON)", () => {
  it("accepts days as a list and an explicit zone; a contact's own timezone still wins", async () => {
    const t = await newTenant();
    const res = await call(
      "/api/v1/campaigns",
      jsonInit(
        "POST",
        {
          name: "Tokyo hours",
          agent_id: t.agentId,
          phone_number_id: t.numberId,
          calling_window_start: "10:00",
          calling_window_end: "18:30",
          calling_days: ["sat", "mon"],
          calling_timezone: "Asia/Tokyo",
          contacts: [{ phone_number: "+12125550100", tier: 1 }, { phone_number: "+14155550100", Timezone: "Europe/Paris" }, { phone_number: "+15550100000" }],
        },
        t.auth,
      ),
    );
    expect(res.status).toBe(201);
    const view = await json<View>(res);
    expect(view.calling_window).toEqual({ start: "10:00", end: "18:30", days: ["mon", "sat"], timezone: "Asia/Tokyo" });
    const contacts = await contactsOf(t, view.id);
    expect(contacts.map((c) => [c.timezone, c.custom_fields])).toEqual([
      ["Asia/Tokyo", { tier: "1" }],
      ["Europe/Paris", {}],
      ["Asia/Tokyo", {}], // the explicit zone places a number whose own zone cannot be told
    ]);
  });

  it("refuses a bad zone in a JSON contact, naming its position", async () => {
    const t = await newTenant();
    const res = await call(
      "/api/v1/campaigns",
      jsonInit(
        "POST",
        { name: "x", agent_id: t.agentId, phone_number_id: t.numberId, contacts: [{ phone_number: "+12125550100", timezone: "EST+5" }] },
        t.auth,
      ),
    );
    await expectRefused(t, res, '1 row has an unknown time zone in the timezone column: row 1 ("EST+5")');
  });

  it("refuses a calling_timezone given as an offset", async () => {
    const t = await newTenant();
    const res = await call(
      "/api/v1/campaigns",
      jsonInit(
        "POST",
        {
          name: "x",
          agent_id: t.agentId,
          phone_number_id: t.numberId,
          calling_window_start: "09:00",
          calling_window_end: "17:00",
          calling_timezone: "+02:00",
          contacts: [{ phone_number: "+12125550100" }],
        },
        t.auth,
      ),
    );
    await expectRefused(t, res, "calling_timezone");
  });
});

describe("client", () => {
  it("campaigns.create passes the window fields with a CSV and with contact objects", async () => {
    const t = await newTenant();
    const edgedial = new Edgedial({ apiKey: t.key, baseUrl: BASE, fetch: (request: Request) => exports.default.fetch(request) });
    const base = { agent_id: t.agentId, phone_number_id: t.numberId, calling_window_start: "09:00", calling_window_end: "20:00" };
    const fromCsv = await edgedial.campaigns.create({
      ...base,
      name: "CSV",
      calling_days: ["mon", "fri"],
      contacts: "phone_number,timezone\n+12125550100,Asia/Tokyo\n",
    });
    expect(fromCsv.calling_window).toEqual({ start: "09:00", end: "20:00", days: ["mon", "fri"], timezone: "recipient" });
    expect((await edgedial.campaigns.listContacts(fromCsv.id)).items[0]?.timezone).toBe("Asia/Tokyo");
    const fromObjects = await edgedial.campaigns.create({
      ...base,
      name: "Objects",
      calling_days: "sat,sun",
      calling_timezone: "Europe/Madrid",
      contacts: [{ phone_number: "+12125550100" }],
    });
    expect(fromObjects.calling_window).toEqual({ start: "09:00", end: "20:00", days: ["sat", "sun"], timezone: "Europe/Madrid" });
    expect((await edgedial.campaigns.listContacts(fromObjects.id)).items[0]?.timezone).toBe("Europe/Madrid");
  });
});

describe("clone", () => {
  const clone = (t: Tenant, id: string, body: Record<string, unknown>) => call(`/api/v1/campaigns/${id}/clone`, jsonInit("POST", body, t.auth));
  const csv = "phone_number,timezone\n+12125550100,Asia/Tokyo\n+14155550100,\n";

  it("keeps the source's window and each contact's own zone", async () => {
    const t = await newTenant();
    const source = await createCampaign(t, csv, { calling_window_start: "09:00", calling_window_end: "20:00", calling_days: "mon,tue" });
    const res = await clone(t, source.id, {});
    expect(res.status).toBe(201);
    const copy = await json<View>(res);
    expect(copy.calling_window).toEqual({ start: "09:00", end: "20:00", days: ["mon", "tue"], timezone: "recipient" });
    expect((await contactsOf(t, copy.id)).map((c) => c.timezone)).toEqual(["Asia/Tokyo", "America/Los_Angeles"]);
  });

  it("changes the fields it is given: a new calling_timezone reaches contacts without a zone of their own", async () => {
    const t = await newTenant();
    const source = await createCampaign(t, csv, { calling_window_start: "09:00", calling_window_end: "20:00", calling_timezone: "Europe/Paris" });
    expect((await contactsOf(t, source.id)).map((c) => c.timezone)).toEqual(["Asia/Tokyo", "Europe/Paris"]);
    const copy = await json<View>(await clone(t, source.id, { calling_timezone: "Europe/Lisbon", calling_days: ["sat"] }));
    expect(copy.calling_window).toEqual({ start: "09:00", end: "20:00", days: ["sat"], timezone: "Europe/Lisbon" });
    expect((await contactsOf(t, copy.id)).map((c) => c.timezone)).toEqual(["Asia/Tokyo", "Europe/Lisbon"]);
  });

  it("copies without a window when start and end are given empty", async () => {
    const t = await newTenant();
    const source = await createCampaign(t, csv, { calling_window_start: "09:00", calling_window_end: "20:00" });
    const copy = await json<View>(await clone(t, source.id, { calling_window_start: "", calling_window_end: "" }));
    expect(copy.calling_window).toBeNull();
  });

  it("refuses a bad window field with 400 naming it, creating nothing", async () => {
    const t = await newTenant();
    const source = await createCampaign(t, csv, { calling_window_start: "09:00", calling_window_end: "20:00" });
    const res = await clone(t, source.id, { calling_window_end: "08:00" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("calling_window_start (09:00) must be before calling_window_end (08:00)");
    expect(await countRows("SELECT count(*) AS n FROM campaigns WHERE account_id = ?", t.accountId)).toBe(1);
  });
});
