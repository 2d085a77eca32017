import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { getAccountStub } from "../accounts/stub";
import { pushContactPolicy } from "../contact-policy/ledger-stub";
import {
  type ContactPolicy,
  changedContactPolicy,
  checkEligibilityUrl,
  contactPolicyInputSchema,
  contactPolicySchema,
  contactPolicyView,
} from "../contact-policy/policy";
import { nowIso } from "../db/client";
import type { AppEnv, Env } from "../env";
import { encryptSecret } from "../http/crypto";
import { badRequest } from "../http/errors";
import { errors, json, jsonBody, requireJsonBody, TENANT_ERRORS, validationHook } from "../http/openapi";
import { newWebhookSecret } from "../outbox/signing";
import { urlPolicyFor } from "../outbox/url-policy";

const tags = ["Contact policy"];

const updatedPolicySchema = contactPolicySchema
  .extend({
    eligibility_secret: z
      .string()
      .optional()
      .describe("`whsec_…`, only in the answer of the PUT that set a new `eligibility_url`: keep it to verify the checks, it is never shown again."),
  })
  .openapi("UpdatedContactPolicy");

/**
 * The eligibility check after the PUT: unchanged (undefined), cleared, kept with its secret when
 * the URL is the same, or a new URL with a new secret (returned once, stored sealed).
 */
async function resolvedEligibility(
  env: Env,
  current: ContactPolicy,
  raw: string | null | undefined,
): Promise<{ eligibility: ContactPolicy["eligibility"] | undefined; newSecret: string | null }> {
  if (raw === undefined) return { eligibility: undefined, newSecret: null };
  if (raw === null) return { eligibility: null, newSecret: null };
  const check = checkEligibilityUrl(raw, urlPolicyFor(env));
  if (!check.ok) throw badRequest(check.reason);
  if (current.eligibility?.url === check.url) return { eligibility: current.eligibility, newSecret: null };
  const secret = newWebhookSecret();
  return { eligibility: { url: check.url, secret: await encryptSecret(secret, env.SECRETS_KEY) }, newSecret: secret };
}

export const contactPolicyRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "The account's contact policy",
      description: "The rules every campaign of the account obeys when it dials (docs/contact-policy.md). The eligibility secret is never shown here.",
      responses: {
        200: json(contactPolicySchema, "The policy; every rule null and count_voicemail true until the account sets one."),
        ...errors(TENANT_ERRORS),
      },
    }),
    async (c) => c.json(contactPolicyView(await getAccountStub(c.env, c.var.caller.accountId).contactPolicy()), 200),
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/",
      tags,
      summary: "Change the account's contact policy",
      description: "Only the fields given change; `null` clears a rule. A change applies from the next dial of every campaign of the account.",
      middleware: requireJsonBody,
      request: { body: jsonBody(contactPolicyInputSchema) },
      responses: { 200: json(updatedPolicySchema, "The policy as it now is."), ...errors([...TENANT_ERRORS, 415]) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { eligibility_url, ...rules } = body;
      const accountId = c.var.caller.accountId;
      const account = getAccountStub(c.env, accountId);
      const current = await account.contactPolicy();
      // Nothing to change: updated_at keeps saying when the policy last changed.
      if (Object.keys(body).length === 0) return c.json(contactPolicyView(current), 200);
      const { eligibility, newSecret } = await resolvedEligibility(c.env, current, eligibility_url);
      const policy = changedContactPolicy(current, rules, eligibility, nowIso());
      await account.setContactPolicy(policy);
      await pushContactPolicy(c.env, accountId, policy);
      return c.json({ ...contactPolicyView(policy), ...(newSecret && { eligibility_secret: newSecret }) }, 200);
    },
  );
