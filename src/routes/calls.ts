import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { parseCallId } from "../call-results/call-id";
import { callResultSchema, resolveCallback } from "../call-results/result-input";
import { getCampaignStub } from "../campaign-object/stub";
import { contactSchema } from "../campaigns/campaign-schemas";
import { waitOutDialsInProgress } from "../dnc/dial-fence";
import type { AppEnv } from "../env";
import { badRequest, conflict, notFound } from "../http/errors";
import { errors, json, jsonBody, requireJsonBody, TENANT_ERRORS, TENANT_SECURITY, validationHook } from "../http/openapi";

function refusalError(refusal: { reason: "not_found" | "conflict" | "invalid"; message: string }, callId: string) {
  if (refusal.reason === "not_found") return notFound("Call", callId);
  return refusal.reason === "invalid" ? badRequest(refusal.message) : conflict(refusal.message);
}

const callApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

export const callRoutes = callApp.openapi(
  createRoute({
    method: "post",
    path: "/{call_id}/result",
    tags: ["Call results"],
    summary: "Report what happened on a call",
    description:
      "For the agent on the call (with the call's `result_url`, whose `token` opens this one call's result for 48 hours) or the customer's backend (with an API key or session). " +
      "Stored with its effects before the answer returns: an `opt_out` lists the number on the account's do-not-call list, so no campaign dials it again; a callback makes the contact pending again for that time, moved into its calling window, without using a retry (at most 5 per contact). " +
      "A later result for the same call replaces the earlier one; the contact's status and outcome still come from the carrier.",
    security: [...TENANT_SECURITY, { callToken: [] }],
    middleware: requireJsonBody,
    request: {
      params: z.object({ call_id: z.string().openapi({ param: { description: "The call's id, `call_…`, as the answer document passed it." } }) }),
      query: z.object({ token: z.string().optional().openapi({ description: "The call's result token, as in its result_url." }) }),
      body: jsonBody(callResultSchema),
    },
    responses: {
      200: json(contactSchema, "The contact with its result."),
      ...errors([...TENANT_ERRORS, 404, 409, 415], {
        400: "A field is invalid (named), or the disposition is not one the campaign declares.",
        401: "No credentials, or a result token that is not this call's or has expired.",
        404: "No such call in the caller's account, or its 48 hours for a result have passed.",
        409: "Not the contact's latest call; a 6th callback; a callback for a finished campaign.",
      }),
    },
  }),
  async (c) => {
    const { call_id: callId } = c.req.valid("param");
    const input = c.req.valid("json");
    const campaignId = parseCallId(callId)?.campaignId;
    if (!campaignId) throw notFound("Call", callId);
    const callbackAt = resolveCallback(input, Date.now());
    // The campaign object checks the call is the caller's and the disposition one it declares: no D1 read on this path.
    const { accountId } = c.var.caller;
    const result = await getCampaignStub(c.env, campaignId).reportResult(campaignId, callId, accountId, input, callbackAt);
    if (!result.ok) throw refusalError(result, callId);
    // The campaign listed the number and waited out its own dials; the account's other campaigns are fenced here, before the answer.
    if (input.opt_out) await waitOutDialsInProgress(c.env, accountId);
    // The object's contact view is the API's (contactWebhookView); its looser types only cover rows from before `row` was kept.
    return c.json(result.contact as unknown as z.output<typeof contactSchema>, 200);
  },
);
