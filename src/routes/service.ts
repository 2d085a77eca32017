import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { publicBase } from "../carriers/registry";
import type { AppEnv } from "../env";
import { PUBLIC_ACCESS } from "../http/openapi";
import type { OpenApiDocument } from "../openapi/document";
import referencePage from "../openapi/reference.html";

const tags = ["Service"];

/** sha256-… source of each inline block, so the page's policy allows exactly its own script and style. */
async function inlineHashes(tag: "script" | "style"): Promise<string> {
  const blocks = [...referencePage.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, "g"))].map((match) => match[1] ?? "");
  const hashes = await Promise.all(
    blocks.map(async (block) => {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(block)));
      return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
    }),
  );
  return hashes.join(" ");
}

let pagePolicy: Promise<string> | undefined;
/** The page may run only its own inline script and style and talk only to this origin: no third-party request can load. */
const contentSecurityPolicy = () =>
  (pagePolicy ??= Promise.all([inlineHashes("script"), inlineHashes("style")]).then(
    ([scripts, styles]) =>
      `default-src 'none'; script-src ${scripts}; style-src ${styles}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  ));

const documentSchema = z
  .looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) })
  .openapi("OpenApiDocument", { description: "This document (OpenAPI 3.1)." });

/** Health and the API's own reference: GET /healthz, GET /openapi.json and the interactive GET /docs. */
export function serviceRoutes(document: (publicOrigin: string) => OpenApiDocument) {
  return new OpenAPIHono<AppEnv>()
    .openapi(
      createRoute({
        method: "get",
        path: "/healthz",
        tags,
        security: PUBLIC_ACCESS,
        summary: "Health check",
        responses: { 200: { description: "Serving.", content: { "application/json": { schema: z.object({ ok: z.literal(true) }).openapi("Health") } } } },
      }),
      (c) => c.json({ ok: true as const }, 200),
    )
    .openapi(
      createRoute({
        method: "get",
        path: "/openapi.json",
        tags,
        security: PUBLIC_ACCESS,
        summary: "This API's OpenAPI 3.1 document",
        description: "Generated from the route definitions the Worker serves and validates with.",
        responses: { 200: { description: "The document.", content: { "application/json": { schema: documentSchema } } } },
      }),
      (c) => c.json(document(publicBase(c.env)) as z.infer<typeof documentSchema>, 200),
    )
    .openapi(
      createRoute({
        method: "get",
        path: "/docs",
        tags,
        security: PUBLIC_ACCESS,
        summary: "Interactive API reference",
        description: "Lists every operation and schema of /openapi.json and sends requests with your key, from this origin only.",
        responses: { 200: { description: "The reference page.", content: { "text/html": { schema: z.string() } } } },
      }),
      async (c) =>
        c.html(referencePage, 200, {
          "Content-Security-Policy": await contentSecurityPolicy(),
          "X-Content-Type-Options": "nosniff",
          "Referrer-Policy": "no-referrer",
        }),
    );
}
