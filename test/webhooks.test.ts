import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callbackPathMac, callbackUrls } from "../src/carriers/callback-urls";
import { call, createCampaign, json, jsonInit, newTenant, type Tenant } from "./helpers";
import { campaignStub } from "./sim";

/** A tenant whose number is on Vobiz. */
async function vobizTenant(): Promise<Tenant> {
  const t = await newTenant();
  const provider = await json<{ id: string }>(
    await call("/api/v1/telephony/providers", jsonInit("POST", { provider: "vobiz", credentials: { auth_id: "MA_VOBIZ", auth_token: "vobiz-token" } }, t.auth)),
  );
  const number = await json<{ id: string }>(
    await call("/api/v1/telephony/numbers", jsonInit("POST", { e164: "+15550008888", credentials_id: provider.id, provider: "vobiz" }, t.auth)),
  );
  return { ...t, providerId: provider.id, numberId: number.id };
}

/** Whether the campaign's object has handled anything: the first request it handles loads the campaign from D1. */
const objectTouched = (campaignId: string) =>
  runInDurableObject(campaignStub(campaignId), (_, state) => Number(state.storage.sql.exec("SELECT count(*) AS n FROM campaign_state").one().n) > 0);

const hangup = { CallUUID: "c1", RequestUUID: "r1", CallStatus: "completed", Event: "Hangup" };

describe("callback URLs", () => {
  it("gives Twilio and Plivo the attempt's path, and Vobiz the path with its MAC", async () => {
    const twilio = await callbackUrls(env, "twilio", "cmp_a", "att_b");
    expect(twilio).toEqual({
      statusCallbackUrl: "http://127.0.0.1:8787/webhooks/twilio/cmp_a/att_b",
      answerUrl: "http://127.0.0.1:8787/webhooks/twilio/cmp_a/att_b/answer",
    });
    expect((await callbackUrls(env, "plivo", "cmp_a", "att_b")).answerUrl).toBe("http://127.0.0.1:8787/webhooks/plivo/cmp_a/att_b/answer");
    const mac = await callbackPathMac(env, "cmp_a", "att_b");
    expect(mac).toMatch(/^[0-9a-f]{32}$/);
    expect(await callbackPathMac(env, "cmp_a", "att_c")).not.toBe(mac);
    expect(await callbackUrls(env, "vobiz", "cmp_a", "att_b")).toEqual({
      statusCallbackUrl: `http://127.0.0.1:8787/webhooks/vobiz/cmp_a/att_b/${mac}`,
      answerUrl: `http://127.0.0.1:8787/webhooks/vobiz/cmp_a/att_b/${mac}/answer`,
    });
  });
});

describe("Vobiz callback path MAC", () => {
  it("refuses a wrong MAC with 403 before the campaign's object hears of it", async () => {
    const t = await vobizTenant();
    const { id } = await createCampaign(t);
    const good = await callbackPathMac(env, id, "att_1");
    const wrong = [
      `${good.slice(0, 31)}${good.endsWith("0") ? "1" : "0"}`,
      good.slice(0, 31),
      `${good}0`,
      await callbackPathMac(env, id, "att_2"),
      await callbackPathMac(env, "cmp_other", "att_1"),
    ];
    for (const mac of wrong) {
      for (const suffix of ["", "/answer"]) {
        const res = await call(`/webhooks/vobiz/${id}/att_1/${mac}${suffix}`, { method: "POST", body: new URLSearchParams(hangup) });
        expect(res.status, `${mac}${suffix}`).toBe(403);
        expect(await res.text()).toBe("The callback path is not valid.");
      }
    }
    // Without its MAC segment the path is not a webhook at all.
    const missing = await call(`/webhooks/vobiz/${id}/att_1`, { method: "POST", body: new URLSearchParams(hangup) });
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
    expect(await objectTouched(id)).toBe(false);

    // The right MAC is forwarded: the object loads its campaign and acknowledges an attempt it does not know.
    const res = await call(`/webhooks/vobiz/${id}/att_1/${good}`, { method: "GET" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("unknown attempt");
    expect(await objectTouched(id)).toBe(true);
  });
});
