/** What the expiry stage reads of a contact: its expiry (epoch ms) or null for none. */
export interface Expiring {
  expires_at: number | null;
}

/** A contact is no longer dialled from the instant its expires_at comes. */
const hasExpired = (contact: Expiring, now: number): boolean => contact.expires_at !== null && contact.expires_at <= now;

/** The due contacts split into those that may still be dialled (in their order) and those whose expiry has come. */
export function splitExpired<T extends Expiring>(contacts: readonly T[], now: number): { live: T[]; expired: T[] } {
  const live: T[] = [];
  const expired: T[] = [];
  for (const contact of contacts) (hasExpired(contact, now) ? expired : live).push(contact);
  return { live, expired };
}
