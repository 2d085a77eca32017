import { createMiddleware } from "hono/factory";

/**
 * Every answer tells browsers not to guess its type: a JSON or text error that echoes input must
 * never be sniffed into HTML.
 */
export const noSniff = createMiddleware(async (c, next) => {
  await next();
  // A WebSocket upgrade's answer carries the socket, which a copied response would lose.
  if (c.res.status === 101) return;
  try {
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  } catch {
    // A response passed through from a Durable Object's fetch has immutable headers: copy it first.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set("X-Content-Type-Options", "nosniff");
  }
});
