/** A request as a fake carrier saw it; the body is read at once, since a request's stream can be read only once. */
interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

export type CarrierReply = (request: SeenRequest) => Response | Promise<Response>;

/** A fetcher to hand an adapter: each request is recorded in `seen` and answered by `reply`. */
export function recordingFetcher(reply: CarrierReply) {
  const seen: SeenRequest[] = [];
  const fetcher = async (input: string | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const entry = { method: request.method, url: request.url, headers: request.headers, body: await request.text() };
    seen.push(entry);
    return reply(entry);
  };
  return { seen, fetcher };
}

/** A carrier's JSON answer. */
export const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
