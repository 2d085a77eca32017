import { type Context, Hono } from "hono";
import { getCampaignStub } from "../campaigns/campaign-do";
import type { WebhookResult } from "../campaigns/carrier-webhooks";
import { callbackPathMacMatches } from "../carriers/callback-urls";
import { publicBase } from "../carriers/registry";
import type { CarrierKind, SignedCallback } from "../carriers/types";
import type { AppEnv } from "../env";

/** The URL the carrier was given and signed: our public origin, not whatever host the request came through. */
async function signedCallback(c: Context<AppEnv>): Promise<SignedCallback> {
  const url = new URL(c.req.url);
  const method = c.req.method === "GET" ? "GET" : "POST";
  const form = method === "POST" ? await c.req.formData().catch(() => new FormData()) : new FormData();
  const headers: Record<string, string> = {};
  c.req.raw.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return {
    url: `${publicBase(c.env)}${url.pathname}${url.search}`,
    method,
    headers,
    params: [...form.entries()].map(([k, v]) => [k, String(v)] as [string, string]),
  };
}

type Target = "callback" | "answer";

/** Hands the request to the campaign's object, which checks the carrier's signature before anything else. */
async function forward(c: Context<AppEnv>, kind: CarrierKind, target: Target) {
  const campaignId = c.req.param("campaignId") ?? "";
  const attemptId = c.req.param("attemptId") ?? "";
  const stub = getCampaignStub(c.env, campaignId);
  const callback = await signedCallback(c);
  const result: WebhookResult =
    target === "answer" ? await stub.answer(campaignId, attemptId, kind, callback) : await stub.handleCallback(campaignId, attemptId, kind, callback);
  return c.body(result.body, result.status as 200, { "Content-Type": result.contentType ?? "text/plain; charset=utf-8" });
}

/** Vobiz signs only the URL's base and a nonce, so its path carries a MAC of campaign and attempt, checked first. */
async function forwardVobiz(c: Context<AppEnv>, target: Target) {
  const { campaignId, attemptId, mac } = c.req.param() as { campaignId: string; attemptId: string; mac: string };
  if (!(await callbackPathMacMatches(c.env, campaignId, attemptId, mac))) return c.text("The callback path is not valid.", 403);
  return forward(c, "vobiz", target);
}

const METHODS = ["POST", "GET"];

/** Public carrier webhooks: the carrier's signature is the authentication. GET is accepted where a carrier is set to use it. */
export const webhookRoutes = new Hono<AppEnv>()
  .on(METHODS, "/twilio/:campaignId/:attemptId", (c) => forward(c, "twilio", "callback"))
  .on(METHODS, "/twilio/:campaignId/:attemptId/answer", (c) => forward(c, "twilio", "answer"))
  .on(METHODS, "/plivo/:campaignId/:attemptId", (c) => forward(c, "plivo", "callback"))
  .on(METHODS, "/plivo/:campaignId/:attemptId/answer", (c) => forward(c, "plivo", "answer"))
  .on(METHODS, "/vobiz/:campaignId/:attemptId/:mac", (c) => forwardVobiz(c, "callback"))
  .on(METHODS, "/vobiz/:campaignId/:attemptId/:mac/answer", (c) => forwardVobiz(c, "answer"));
