import { ApiError } from "./errors";

/** The upload limit for the contacts file itself (SPEC: 10 MB ≈ 100k rows). */
export const MAX_CSV_BYTES = 10 * 1024 * 1024;
/** Form fields and multipart framing ride on top of the file. */
const MAX_REQUEST_BYTES = MAX_CSV_BYTES + 64 * 1024;

export const uploadTooLarge = (what: string) =>
  new ApiError("payload_too_large", `${what} is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB; split it into several requests.`);

/**
 * The request with its body bounded by the upload limit: a declared Content-Length over it is
 * refused unread, and a body without one is read up to the limit and no further.
 */
export async function boundedRequest(request: Request, tooLarge: () => Error): Promise<Request> {
  const declared = Number(request.headers.get("Content-Length") ?? Number.NaN);
  if (declared > MAX_REQUEST_BYTES) throw tooLarge();
  if (!Number.isNaN(declared)) return request;
  const reader = request.body?.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_REQUEST_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    parts.push(value);
  }
  return new Request(request.url, { method: request.method, headers: request.headers, body: new Blob(parts) });
}
