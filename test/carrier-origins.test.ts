import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { carrierAdapter } from "../src/carriers/registry";
import type { OriginateRequest } from "../src/carriers/types";
import type { Env } from "../src/env";
import { encryptSecret } from "../src/http/crypto";
import { jsonResponse, recordingFetcher } from "./carrier-fakes";

const OWN_ORIGIN = "http://127.0.0.1:8787";

const REQUEST: OriginateRequest = {
  to: "+15550107701",
  from: "+15550001000",
  statusCallbackUrl: `${OWN_ORIGIN}/webhooks/x/cmp_1/att_1`,
  answerUrl: `${OWN_ORIGIN}/webhooks/x/cmp_1/att_1/answer`,
  ringTimeoutSeconds: 30,
  timeLimitSeconds: 3600,
};

/**
 * An adapter as a campaign builds one, with its carrier's REST origin set to a path of this Worker's own
 * origin: requests there reach the loopback, which records them, and a request to the default origin would not.
 */
async function adapterWith(provider: string, settings: Partial<Env>, credentials: Record<string, string>) {
  const testEnv: Env = { ...env, PUBLIC_BASE_URL: OWN_ORIGIN, SECRETS_KEY: "origin-test-secret", ...settings };
  const { seen, fetcher } = recordingFetcher(() => jsonResponse(201, { request_uuid: "req-1", sid: "CA1", status: "queued" }));
  const loopback = { fetch: (request: Request) => fetcher(request) };
  const sealed = await encryptSecret(JSON.stringify(credentials), testEnv.SECRETS_KEY);
  return { seen, adapter: await carrierAdapter(testEnv, provider, sealed, loopback) };
}

describe("carrier REST origins", () => {
  const cases: [provider: string, settings: Partial<Env>, credentials: Record<string, string>, url: string][] = [
    ["plivo", { PLIVO_API_BASE: `${OWN_ORIGIN}/plivo-eu` }, { auth_id: "MAXXXX", auth_token: "tok" }, `${OWN_ORIGIN}/plivo-eu/v1/Account/MAXXXX/Call/`],
    [
      "vobiz",
      { VOBIZ_API_BASE: `${OWN_ORIGIN}/vobiz-proxy/` },
      { auth_id: "MA_XXXX", auth_token: "tok" },
      `${OWN_ORIGIN}/vobiz-proxy/api/v1/Account/MA_XXXX/Call/`,
    ],
    [
      "twilio",
      { TWILIO_API_BASE: `${OWN_ORIGIN}/twilio-edge` },
      { account_sid: "ACXXXX", auth_token: "tok" },
      `${OWN_ORIGIN}/twilio-edge/2010-04-01/Accounts/ACXXXX/Calls.json`,
    ],
  ];

  it.each(cases)("sends %s's REST requests to the origin its setting names", async (provider, settings, credentials, url) => {
    const { seen, adapter } = await adapterWith(provider, settings, credentials);
    await adapter.originate(REQUEST);
    expect(seen.map((request) => `${request.method} ${request.url}`)).toEqual([`POST ${url}`]);
  });
});
