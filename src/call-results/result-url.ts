import { publicBase } from "../carriers/registry";
import type { Env } from "../env";
import { CALL_TOKEN_TTL_MS, mintCallToken } from "./call-token";

/** The result URL the agent gets for one call: under PUBLIC_BASE_URL, its token valid 48 h after the dial. */
export async function resultUrl(env: Env, callId: string, accountId: string, dialledAt: number): Promise<string> {
  const token = await mintCallToken(env, callId, accountId, dialledAt + CALL_TOKEN_TTL_MS);
  return `${publicBase(env)}/api/v1/calls/${callId}/result?token=${token}`;
}

/** The carrier's answering-machine verdict in the agent's three words. */
export function answeredByWord(verdict: string | null | undefined): "human" | "machine" | "unknown" {
  if (!verdict) return "unknown";
  if (verdict === "human") return "human";
  return verdict.startsWith("machine") || verdict === "fax" ? "machine" : "unknown";
}
