const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

export type IdPrefix = "cmp" | "ctc" | "agt" | "pn" | "prov" | "key" | "call" | "att";

function encodeTime(ms: number, length: number): string {
  let out = "";
  let rest = ms;
  for (let i = 0; i < length; i++) {
    out = CROCKFORD[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function randomChars(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += CROCKFORD[b & 31];
  return out;
}

/** Time-sortable opaque id: 10 chars of milliseconds then 16 random chars (ULID layout). */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${encodeTime(now, 10)}${randomChars(16)}`;
}

/** A per-upload stem for contact ids; the SQL appends the contact's position. */
export function contactIdStem(now = Date.now()): string {
  return `${encodeTime(now, 10)}${randomChars(8)}`;
}

export function randomSecret(length = 32): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  while (out.length < length) {
    // 62 symbols: dropping bytes >= 248 keeps every symbol equally likely.
    for (const b of crypto.getRandomValues(new Uint8Array(length))) {
      if (b < 248 && out.length < length) out += alphabet[b % 62];
    }
  }
  return out;
}
