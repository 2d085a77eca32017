import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { CarrierReply } from "../campaign-object/stub";
import { getCampaignStub } from "../campaign-object/stub";
import { callbackPathMacMatches, DOCUMENT_STAGES, isDocumentStage } from "../carriers/callback-urls";
import { publicBase } from "../carriers/registry";
import type { CarrierKind, SignedCallback } from "../carriers/types";
import type { AppEnv } from "../env";
import { PUBLIC_ACCESS } from "../http/openapi";

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

/** A status callback, the answer URL, or one of the documents a held call is moved to (its stage). */
type Target = "callback" | "answer" | "stage";

/** Hands the request to the campaign's object, which checks the carrier's signature before anything else. */
async function forward(c: Context<AppEnv>, kind: CarrierKind, target: Target) {
  const campaignId = c.req.param("campaignId") ?? "";
  const attemptId = c.req.param("attemptId") ?? "";
  if (target === "stage" && !isDocumentStage(c.req.param("stage") ?? "")) return c.text(`The stage must be one of ${DOCUMENT_STAGES.join(", ")}.`, 404);
  const stub = getCampaignStub(c.env, campaignId);
  const callback = await signedCallback(c);
  const result: CarrierReply =
    target !== "callback" ? await stub.answer(campaignId, attemptId, kind, callback) : await stub.handleCallback(campaignId, attemptId, kind, callback);
  return c.body(result.body, result.status as 200, { "Content-Type": result.contentType ?? "text/plain; charset=utf-8" });
}

/** Vobiz signs only the URL's base and a nonce, so its path carries a MAC of campaign and attempt, checked first. */
async function forwardVobiz(c: Context<AppEnv>, target: Target) {
  const { campaignId, attemptId, mac } = c.req.param() as { campaignId: string; attemptId: string; mac: string };
  if (!(await callbackPathMacMatches(c.env, campaignId, attemptId, mac))) return c.text("The callback path is not valid.", 403);
  return forward(c, "vobiz", target);
}

const METHODS = ["post", "get"] as const;

const pathParams = {
  campaignId: z.string().openapi({ param: { description: "The campaign the call belongs to." } }),
  attemptId: z.string().openapi({ param: { description: "The dial attempt the carrier is reporting on." } }),
};
const vobizParams = { ...pathParams, mac: z.string().openapi({ param: { description: "HMAC of campaign and attempt, checked before anything else." } }) };
const stageParam = {
  stage: z.enum(DOCUMENT_STAGES).openapi({
    param: { description: "The document a call held for its machine verdict is moved to: the agent, the voicemail message, or the agent after the hold." },
  }),
};

const plainText = (description: string) => ({ description, content: { "text/plain": { schema: z.string() } } });
const refused = plainText("The carrier's signature (or the Vobiz path MAC) is not valid, or the request is a replay; nothing changes.");

const carrierResponses = {
  callback: {
    200: plainText("Recorded (a callback for a deleted campaign or an unknown attempt is acknowledged and ignored)."),
    400: plainText("The callback carries no call id or call status."),
    403: refused,
  },
  stage: {
    200: {
      description: "The agent's stream, the voicemail message, or (after a hold a verdict already ended) an empty document, in Plivo XML or VobizXML.",
      content: { "application/xml": { schema: z.string() } },
    },
    403: refused,
    404: plainText("No such campaign, attempt or stage."),
  },
  answer: {
    200: {
      description: "The carrier's own call document (TwiML, Plivo XML or VobizXML) that streams the call to the agent's stream_url.",
      content: { "application/xml": { schema: z.string() } },
    },
    403: refused,
    404: plainText("No such campaign or attempt."),
  },
};

/** One carrier route, accepted as POST and GET alike. */
function carrierRoute(method: (typeof METHODS)[number], carrier: CarrierKind, target: Target) {
  const suffix = { callback: "", answer: "/answer", stage: "/answer/{stage}" }[target];
  const vobiz = carrier === "vobiz";
  const params = { ...(vobiz ? vobizParams : pathParams), ...(target === "stage" ? stageParam : {}) };
  return createRoute({
    method,
    path: vobiz ? `/${carrier}/{campaignId}/{attemptId}/{mac}${suffix}` : `/${carrier}/{campaignId}/{attemptId}${suffix}`,
    tags: ["Carrier webhooks"],
    security: PUBLIC_ACCESS,
    summary: `${carrier} ${{ callback: "status callback", answer: "answer URL", stage: "held call's document" }[target]}`,
    description:
      "Called by the carrier, not by API clients: its signature is the authentication. Signed form fields (POST) or query (GET), as the carrier sends them.",
    request: { params: z.object(params) },
    responses: carrierResponses[target],
  });
}

/**
 * Public carrier webhooks: the carrier's signature is the authentication. GET is accepted where a
 * carrier is set to use it. The campaign's object answers with the carrier's own status and
 * document, so each route is described here and served as is rather than through typed responses.
 */
export const carrierCallbackRoutes = new OpenAPIHono<AppEnv>();
const serve = (route: ReturnType<typeof carrierRoute>, handler: (c: Context<AppEnv>) => Promise<Response>) => {
  carrierCallbackRoutes.openAPIRegistry.registerPath(route);
  carrierCallbackRoutes.on(route.method.toUpperCase(), route.getRoutingPath(), handler);
};
for (const method of METHODS) {
  for (const target of ["callback", "answer"] as const) serve(carrierRoute(method, "twilio", target), (c) => forward(c, "twilio", target));
  // Only Plivo and Vobiz hold a call for a late machine verdict; Twilio's answer already carries it.
  for (const target of ["callback", "answer", "stage"] as const) {
    serve(carrierRoute(method, "plivo", target), (c) => forward(c, "plivo", target));
    serve(carrierRoute(method, "vobiz", target), (c) => forwardVobiz(c, target));
  }
}
