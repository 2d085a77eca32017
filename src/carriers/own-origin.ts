import type { Env } from "../env";
import { meterOwnOriginRequest } from "../usage/meter";

type AppFetch = (request: Request, env: Env) => Response | Promise<Response>;

/** What fetcherFor needs of a way to reach this Worker's own origin. */
export interface OwnOrigin {
  fetch(request: Request): Promise<Response>;
}

let appFetch: AppFetch | undefined;

/** The Worker entry hands over its app once, at start (the app imports the objects, so they cannot import it). */
export function serveOwnOrigin(fetch: AppFetch) {
  appFetch = fetch;
}

/**
 * How a Durable Object reaches this Worker's own origin (the simulator's REST API, the callbacks
 * it sends): the Worker's app, run inside the object's own invocation, with the same Request,
 * URL and signature. A loopback service-binding request would be an invocation of its own that
 * the runtime cuts short once its caller has read the response; `wrangler dev` reports each one
 * so cut as an error ("the destination execution context for this tail session was canceled").
 */
export function ownOrigin(env: Env): OwnOrigin | undefined {
  const app = appFetch;
  return (
    app && {
      fetch: async (request) => {
        meterOwnOriginRequest(request, env);
        return app(request, env);
      },
    }
  );
}
