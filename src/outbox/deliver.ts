import type { FetchLike } from "../carriers/types";
import type { DeliveryEndpoint } from "./endpoint-cache";
import { DELIVERY_TIMEOUT_MS, type DeliveryOutcome, outcomeOfError, outcomeOfResponse } from "./schedule";
import { webhookHeaders } from "./signing";

/**
 * One signed POST of one message to one endpoint. The URL was checked again under the deployment's
 * current policy when the endpoint was read (it may have changed since the endpoint was saved);
 * redirects are answers, never followed.
 */
export async function sendSigned(fetch: FetchLike, endpoint: DeliveryEndpoint, messageId: string, body: string): Promise<DeliveryOutcome> {
  const check = endpoint.target;
  if (!check.ok) return { ok: false, statusCode: null, error: check.reason };
  // A cleared timer, not AbortSignal.timeout: that one stays armed after the answer and keeps the object awake.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("The receiver did not answer in time.", "TimeoutError")), DELIVERY_TIMEOUT_MS);
  try {
    const headers = await webhookHeaders(endpoint.key, messageId, Date.now(), body);
    const response = await fetch(check.url.href, { method: "POST", headers, body, redirect: "manual", signal: controller.signal });
    // The answer's body is not needed: only its status counts.
    await response.body?.cancel().catch(() => undefined);
    return outcomeOfResponse(response.status, response.headers.get("Location"));
  } catch (error) {
    return outcomeOfError(error);
  } finally {
    clearTimeout(timer);
  }
}
