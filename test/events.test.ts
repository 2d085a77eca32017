import { describe, expect, it } from "vitest";
import { call, createCampaign, csvOf, lifecycle, newTenant } from "./helpers";

/** Reads an SSE body until `done(text)` holds or the stream closes. */
async function readUntil(res: Response, done: (text: string) => boolean): Promise<{ text: string; closed: boolean }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { value, done: closed } = await reader.read();
    if (closed) return { text, closed: true };
    text += decoder.decode(value, { stream: true });
    if (done(text)) {
      await reader.cancel();
      return { text, closed: false };
    }
  }
}

const dataOf = (frame: string) =>
  JSON.parse(
    frame
      .split("\n")
      .find((l) => l.startsWith("data: "))
      ?.slice(6) ?? "null",
  );

describe("GET /campaigns/{id}/events", () => {
  it("ends at once on a terminal campaign with the final snapshot", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(3));
    await lifecycle(t, id, "stop");
    const res = await call(`/api/v1/campaigns/${id}/events`, { headers: t.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/event-stream");
    const { text, closed } = await readUntil(res, () => false);
    expect(closed).toBe(true);
    const frames = text.split("\n\n").filter(Boolean);
    expect(frames[0]).toBe("retry: 3000");
    expect(frames[1]?.startsWith("event: end\ndata: {")).toBe(true);
    expect(dataOf(frames[1] ?? "")).toMatchObject({ campaign_id: id, status: "completed", stats: { total: 3, cancelled: 3, pending: 0 }, in_flight: 0 });
    expect(frames).toHaveLength(2);
  });

  it("sends a snapshot at once, then `end` and closes when the campaign stops", async () => {
    const t = await newTenant();
    const { id } = await createCampaign(t, csvOf(2));
    await lifecycle(t, id, "start");
    const res = await call(`/api/v1/campaigns/${id}/events`, { headers: t.auth });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes('"status":"running"')) text += decoder.decode((await reader.read()).value);
    expect(text).toMatch(/^retry: 3000\n\ndata: \{.*\}\n\n$/);
    expect(dataOf(text.split("\n\n")[1] ?? "")).toMatchObject({ status: "running", stats: { pending: 2 } });
    await lifecycle(t, id, "stop");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toMatch(/event: end\ndata: \{[^\n]*"status":"completed"[^\n]*\}\n\n$/);
  });

  it("answers 404 for an unknown campaign", async () => {
    const t = await newTenant();
    const res = await call("/api/v1/campaigns/cmp_nope/events", { headers: t.auth });
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });
});
