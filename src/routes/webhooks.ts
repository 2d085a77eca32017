import { type Context, Hono } from "hono";
import { getCampaignStub } from "../campaigns/campaign-do";
import { publicBase } from "../carriers/registry";
import type { SignedCallback } from "../carriers/types";
import type { AppEnv } from "../env";

/** The URL the carrier was given and signed: our public origin, not whatever host the request came through. */
async function signedCallback(c: Context<AppEnv>): Promise<SignedCallback> {
  const url = new URL(c.req.url);
  const form = await c.req.formData().catch(() => new FormData());
  const params = [...form.entries()].map(([k, v]) => [k, String(v)] as [string, string]);
  return {
    url: `${publicBase(c.env)}${url.pathname}${url.search}`,
    method: "POST",
    headers: { "x-twilio-signature": c.req.header("X-Twilio-Signature") ?? "" },
    params,
  };
}

/** Public carrier webhooks: the carrier's signature is the authentication, checked by the campaign's object. */
export const webhookRoutes = new Hono<AppEnv>()
  .post("/twilio/:campaignId/:attemptId", async (c) => {
    const { campaignId, attemptId } = c.req.param();
    const result = await getCampaignStub(c.env, campaignId).handleCallback(campaignId, attemptId, await signedCallback(c));
    return c.text(result.body, result.status as 200);
  })
  .post("/twilio/:campaignId/:attemptId/answer", async (c) => {
    const { campaignId, attemptId } = c.req.param();
    const result = await getCampaignStub(c.env, campaignId).answer(campaignId, attemptId, await signedCallback(c));
    return c.body(result.body, result.status as 200, { "Content-Type": result.contentType ?? "text/plain; charset=utf-8" });
  });
