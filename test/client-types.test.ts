import { describe, expect, expectTypeOf, it } from "vitest";
import type { Campaign, Contact, ContactTransition, Snapshot, Stats } from "../client/index";
import { fetchDocument } from "./openapi-contract";

describe("the client's generated types", () => {
  it("come from the document the service serves: client/openapi.json is that document (update with npm run build:client-types)", async () => {
    const doc = await fetchDocument();
    await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot("../client/openapi.json");
  });

  it("give the stream's hand-written payloads the document's statuses and stats", () => {
    // Stream payloads are not in the document; these fail to compile when the two part ways.
    expectTypeOf<Snapshot["status"]>().toEqualTypeOf<Campaign["status"]>();
    expectTypeOf<Snapshot["stats"]>().toEqualTypeOf<Stats>();
    expectTypeOf<ContactTransition["status"]>().toEqualTypeOf<Contact["status"]>();
  });
});
