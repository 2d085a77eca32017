import { env } from "cloudflare:workers";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { fieldCells, fieldsObject, fieldsObjectText } from "../src/db/custom-fields";
import { call, createCampaign, json, jsonInit, newTenant, type Tenant } from "./helpers";

/** The export's fixed columns (eight of the contact, six of its result) before the upload's own. */
const EXPORT_FIXED_COLUMNS = 14;

describe("reading stored custom fields", () => {
  const columns = ["first", "plan", "__proto__"];
  it.each([
    // Expected fields as JSON text: an object literal cannot hold an own "__proto__" key.
    ["values in column order", '["Ann","gold","p"]', '{"first":"Ann","plan":"gold","__proto__":"p"}', ["Ann", "gold", "p"]],
    ["a JSON contact without some keys (null)", '["Ann",null,null]', '{"first":"Ann"}', ["Ann", "", ""]],
    ["empty cells", '["","",""]', '{"first":"","plan":"","__proto__":""}', ["", "", ""]],
    ["fewer values than columns", '["Ann"]', '{"first":"Ann"}', ["Ann", "", ""]],
    ["named fields stored before values were", '{"plan":"gold","first":"Ann"}', '{"plan":"gold","first":"Ann"}', ["Ann", "gold", ""]],
    ["named fields with a non-string value", '{"first":"Ann","plan":7}', '{"first":"Ann","plan":7}', ["Ann", "", ""]],
  ])("%s", (_, stored, named, cells) => {
    const fields = fieldsObject(stored, columns);
    expect(JSON.stringify(fields)).toBe(named);
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(fieldCells(stored, columns)).toEqual(cells);
    expect(fieldsObjectText(stored, columns)).toBe(named);
  });

  it("hands named fields on as they were stored", () => {
    expect(fieldsObjectText('{"a":"1"}', ["b"])).toBe('{"a":"1"}');
  });
});

type ListedContact = { row: number; phone_number: string; custom_fields: Record<string, string> };
const listed = async (t: Tenant, id: string) =>
  (await json<{ contacts: ListedContact[] }>(await call(`/api/v1/campaigns/${id}/contacts`, { headers: t.auth }))).contacts;
const exportedRows = async (t: Tenant, id: string) =>
  Papa.parse<string[]>(await (await call(`/api/v1/campaigns/${id}/contacts.csv`, { headers: t.auth })).text(), { skipEmptyLines: true }).data;

describe("custom fields through the API", () => {
  it("stores a CSV contact's values once per column and shows them named, in upload order", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, "zeta,phone_number,alpha,2024\nz1,+14155550100,a1,y1\nz2,+14155550101,,y2\n");
    const stored = await env.DB.prepare("SELECT custom_fields FROM contacts WHERE campaign_id = ? ORDER BY seq").bind(id).all<{ custom_fields: string }>();
    expect(stored.results.map((r) => r.custom_fields)).toEqual(['["z1","a1","y1"]', '["z2","","y2"]']);
    const contacts = await listed(t, id);
    expect(contacts.map((c) => Object.entries(c.custom_fields))).toEqual([
      [
        ["2024", "y1"],
        ["zeta", "z1"],
        ["alpha", "a1"],
      ],
      [
        ["2024", "y2"],
        ["zeta", "z2"],
        ["alpha", ""],
      ],
    ]);
    expect((await exportedRows(t, id)).map((r) => r.slice(EXPORT_FIXED_COLUMNS))).toEqual([
      ["zeta", "alpha", "2024"],
      ["z1", "a1", "y1"],
      ["z2", "", "y2"],
    ]);
  });

  it("keeps which keys each JSON contact had: absent keys stay absent, and export as empty cells", async () => {
    const t = await newTenant();
    const res = await call(
      "/api/v1/campaigns",
      jsonInit(
        "POST",
        {
          name: "ragged",
          agent_id: t.agentId,
          phone_number_id: t.numberId,
          contacts: [
            { phone_number: "+14155550100", tier: "gold" },
            { phone_number: "+14155550101", city: "Lisbon", tier: "" },
            { phone_number: "+14155550102" },
          ],
        },
        t.auth,
      ),
    );
    expect(res.status).toBe(201);
    const { id } = await json<{ id: string }>(res);
    expect((await listed(t, id)).map((c) => c.custom_fields)).toEqual([{ tier: "gold" }, { city: "Lisbon", tier: "" }, {}]);
    expect((await exportedRows(t, id)).map((r) => r.slice(EXPORT_FIXED_COLUMNS))).toEqual([
      ["tier", "city"],
      ["gold", ""],
      ["", "Lisbon"],
      ["", ""],
    ]);
  });

  it("reads contacts stored with named fields the same way (list and export)", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, "phone_number,first,plan\n+14155550100,Ann,gold\n");
    await env.DB.prepare("UPDATE contacts SET custom_fields = ? WHERE campaign_id = ?").bind('{"first":"Ann","plan":"gold"}', id).run();
    expect((await listed(t, id))[0]?.custom_fields).toEqual({ first: "Ann", plan: "gold" });
    expect((await exportedRows(t, id))[1]?.slice(EXPORT_FIXED_COLUMNS)).toEqual(["Ann", "gold"]);
  });
});
