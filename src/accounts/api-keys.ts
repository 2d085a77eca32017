import { database, nowIso } from "../db/client";
import { apiKeys } from "../db/schema";
import type { Env } from "../env";
import { API_KEY_PREFIX } from "../http/auth";
import { hashApiKey } from "../http/crypto";
import { newId, randomSecret } from "../ids";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export const apiKeyView = (row: ApiKeyRow) => ({
  id: row.id,
  name: row.name,
  last8: row.last8,
  created_at: row.createdAt,
  expires_at: row.expiresAt,
});

/** Mints a key; the plaintext is returned once and only its keyed hash is stored. */
export async function mintApiKey(env: Env, accountId: string, name: string, expiresAt: string | null) {
  const key = `${API_KEY_PREFIX}${accountId}_${randomSecret(40)}`;
  const row: ApiKeyRow = {
    id: newId("key"),
    accountId,
    name,
    hash: await hashApiKey(key, env.API_KEY_PEPPER),
    last8: key.slice(-8),
    createdAt: nowIso(),
    expiresAt,
    revokedAt: null,
  };
  await database(env).insert(apiKeys).values(row);
  return { ...apiKeyView(row), key };
}
