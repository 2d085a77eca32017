import { describe, expect, it } from "vitest";
import { call, createCampaign, json, jsonInit, lifecycle, newTenant } from "./helpers";

const BOOKMARK = "x-d1-bookmark";

describe("D1 session bookmarks", () => {
  it("returns a bookmark on writes and on reads that carry one, and a read that carries it sees the write", async () => {
    const t = await newTenant();
    // A read with no bookmark reads the primary without a session: nothing to hand back.
    const list = await call("/api/v1/agents", { headers: t.auth });
    expect(list.status).toBe(200);
    expect(list.headers.get(BOOKMARK)).toBeNull();
    await list.body?.cancel();
    // Asked for a session that may read anywhere, the read gets that session's bookmark.
    const anywhere = await call("/api/v1/agents", { headers: { ...t.auth, [BOOKMARK]: "first-unconstrained" } });
    expect(anywhere.status).toBe(200);
    expect(anywhere.headers.get(BOOKMARK)).toBeTruthy();
    await anywhere.body?.cancel();

    const created = await call("/api/v1/agents", jsonInit("POST", { name: "Bookmarked", status: "draft" }, t.auth));
    expect(created.status).toBe(201);
    const bookmark = created.headers.get(BOOKMARK);
    expect(bookmark).toBeTruthy();
    const { id } = await json<{ id: string }>(created);

    const read = await call(`/api/v1/agents/${id}`, { headers: { ...t.auth, [BOOKMARK]: bookmark as string } });
    expect(read.status).toBe(200);
    expect(await json(read)).toMatchObject({ id, name: "Bookmarked" });
    // The session moves on from the bookmark it was given, never back.
    expect(read.headers.get(BOOKMARK)! >= (bookmark as string)).toBe(true);
  });

  it("carries a campaign object's own D1 write: a lifecycle answer's bookmark reads the new status", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t);
    const started = await lifecycle(t, id, "start");
    expect(started.status).toBe(200);
    expect(await json(started)).toMatchObject({ status: "running" });
    const bookmark = started.headers.get(BOOKMARK) as string;
    expect(bookmark).toBeTruthy();
    const read = await call(`/api/v1/campaigns/${id}`, { headers: { ...t.auth, [BOOKMARK]: bookmark } });
    expect(await json(read)).toMatchObject({ status: "running" });

    const stopped = await lifecycle(t, id, "stop");
    const afterStop = await call(`/api/v1/campaigns/${id}`, { headers: { ...t.auth, [BOOKMARK]: stopped.headers.get(BOOKMARK) as string } });
    await stopped.body?.cancel();
    expect(await json(afterStop)).toMatchObject({ status: "completed", stats: { pending: 0, cancelled: 3 } });

    const deleted = await call(`/api/v1/campaigns/${id}`, { method: "DELETE", headers: t.auth });
    expect(deleted.status).toBe(204);
    const deletedBookmark = deleted.headers.get(BOOKMARK) as string;
    expect(deletedBookmark).toBeTruthy();
    const gone = await call(`/api/v1/campaigns/${id}`, { headers: { ...t.auth, [BOOKMARK]: deletedBookmark } });
    expect(gone.status).toBe(404);
    await gone.body?.cancel();
  });

  it("refuses a header that cannot be a bookmark with 400, and changes nothing", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/agents", jsonInit("POST", { name: "Never" }, { ...t.auth, [BOOKMARK]: "<not a bookmark>" }));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(BOOKMARK);
    const list = await json<{ agents: { name: string }[] }>(await call("/api/v1/agents", { headers: t.auth }));
    expect(list.agents.map((a) => a.name)).not.toContain("Never");
  });
});
