/** Idempotency-Key (SPEC "Safe operations"): 1–255 printable ASCII characters. */
const KEY_SHAPE = /^[\x20-\x7E]{1,255}$/;

/** Why a key is refused, or null when it is a valid key. */
export function idempotencyKeyProblem(key: string): string | null {
  if (KEY_SHAPE.test(key)) return null;
  const what = key.length === 0 ? "is empty" : key.length > 255 ? `is ${key.length} characters long` : "holds a character outside printable ASCII";
  return `The Idempotency-Key header ${what}; send 1–255 printable ASCII characters, such as a UUID, fresh for each new request.`;
}

/** The path below the API's mount, so a key names one request whichever of the equivalent mounts served it. */
export function pathBelowMount(pathAndQuery: string, mounts: readonly string[]): string {
  const mount = [...mounts].sort((a, b) => b.length - a.length).find((m) => pathAndQuery.startsWith(`${m}/`) || pathAndQuery.startsWith(`${m}?`));
  return mount ? pathAndQuery.slice(mount.length) : pathAndQuery;
}

const encoder = new TextEncoder();

/** Length-prefixed, so no two different sequences of pieces frame to the same bytes. */
function frame(pieces: Uint8Array[]): Uint8Array {
  const framed: Uint8Array[] = [];
  for (const piece of pieces) framed.push(encoder.encode(`${piece.byteLength}:`), piece);
  const out = new Uint8Array(framed.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const piece of framed) {
    out.set(piece, at);
    at += piece.byteLength;
  }
  return out;
}

/** A multipart form as its fields and file contents in order: the boundary and the framing drop out. */
async function formPieces(contentType: string, body: ArrayBuffer): Promise<Uint8Array[] | null> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "Content-Type": contentType } }).formData();
  } catch {
    return null;
  }
  const pieces: Uint8Array[] = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") pieces.push(encoder.encode("field"), encoder.encode(name), encoder.encode(value));
    else pieces.push(encoder.encode("file"), encoder.encode(name), encoder.encode(value.name), new Uint8Array(await value.arrayBuffer()));
  }
  return pieces;
}

/**
 * What makes two requests "the same" for one key: method, path and query below the mount, the
 * body's media type and its bytes (a multipart form's fields and files instead of its bytes).
 */
export async function requestFingerprint(method: string, path: string, contentType: string, body: ArrayBuffer): Promise<string> {
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  const form = mediaType === "multipart/form-data" ? await formPieces(contentType, body) : null;
  const pieces = [encoder.encode(method.toUpperCase()), encoder.encode(path), encoder.encode(mediaType), ...(form ?? [new Uint8Array(body)])];
  const digest = await crypto.subtle.digest("SHA-256", frame(pieces));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
