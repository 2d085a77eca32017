import { describe, expect, it } from "vitest";
import { prefersJson } from "../src/http/errors";
import { call, lifecycle, newTenant } from "./helpers";

describe("error wire format", () => {
  it("is one plain-text sentence by default", async () => {
    const t = await newTenant();
    const res = await lifecycle(t, "cmp_missing", "start");
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("Campaign cmp_missing was not found.");
  });

  it("is {error:{code,message}} when Accept prefers JSON", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/campaigns/cmp_missing", { headers: { ...t.auth, Accept: "application/json" } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "Campaign cmp_missing was not found." } });
    const unauth = await call("/api/v1/campaigns", { headers: { Accept: "application/json" } });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get("WWW-Authenticate")).toContain("Bearer");
    expect(await unauth.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("answers unknown routes with 404 in the same format", async () => {
    const res = await call("/nothing-here", { headers: { Accept: "application/json" } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });

  it.each([
    ["application/json", true],
    ["text/plain", false],
    ["*/*", false],
    ["", false],
    ["text/plain;q=0.5, application/json", true],
    ["application/json;q=0.2, text/plain;q=0.9", false],
    ["application/*", true],
    ["text/html, application/json;q=0.9, */*;q=0.8", true],
  ])("prefersJson(%j) is %s", (accept, expected) => {
    expect(prefersJson(accept)).toBe(expected);
  });
});
