const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

export type IdPrefix = "cmp" | "ctc" | "agt" | "pn" | "prov" | "key" | "call" | "att" | "whk" | "msg" | "rsv";

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

/** The next id in Crockford order (the random part plus one), for ids made within one millisecond. */
function incrementChars(chars: string): string {
  const digits = [...chars];
  for (let i = digits.length - 1; i >= 0; i--) {
    const next = CROCKFORD.indexOf(digits[i] as string) + 1;
    if (next < 32) {
      digits[i] = CROCKFORD[next] as string;
      return digits.join("");
    }
    digits[i] = CROCKFORD[0] as string;
  }
  return digits.join("");
}

/** Ids from one source that sort in the order they were made, also within a millisecond (ULID's monotonic rule). */
export function monotonicIds(prefix: IdPrefix): (now?: number) => string {
  let lastMs = -1;
  let random = "";
  return (now = Date.now()) => {
    if (now <= lastMs) random = incrementChars(random);
    else {
      lastMs = now;
      random = randomChars(16);
    }
    return `${prefix}_${encodeTime(lastMs, 10)}${random}`;
  };
}

/** A contact's place in its campaign, from its id (`ctc_` + the upload's stem + seq in hex, at least six digits); null when it is not a contact id. */
export function seqOfContactId(contactId: string): number | null {
  const match = /^ctc_[0-9a-z]{18}([0-9a-f]{6,8})$/.exec(contactId);
  return match ? Number.parseInt(match[1] as string, 16) : null;
}
