import { type Hook, type OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError, badRequest, quoted, shortened } from "./errors";

/**
 * The pieces every route definition shares: the error wire format per status, the list envelope,
 * paging parameters and the validation hook. Route files describe their own inputs and outputs
 * with these, and the OpenAPI document is generated from those same definitions.
 */

const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe("snake_case code, one per status: bad_request, unauthorized, forbidden, not_found, conflict, …"),
      message: z.string().describe("One sentence saying what is wrong and how to fix it."),
    }),
  })
  .openapi("Error", { description: "Sent instead of the plain sentence when the request's `Accept` prefers `application/json`." });

const ERROR_MEANING = {
  400: "The request is invalid; the sentence names the field and how to fix it.",
  401: "Missing, invalid, revoked or expired credentials.",
  403: "The credentials are valid but not allowed here.",
  404: "No such resource in the caller's account.",
  409: "The resource's state does not allow this now.",
  413: "The body is larger than 10 MB.",
  415: "The body's Content-Type is not one this operation takes.",
  503: "The deployment is missing a setting this request needs.",
} as const;

export type ErrorStatus = keyof typeof ERROR_MEANING;

const errorResponse = (description: string) => ({
  description,
  content: {
    "text/plain": { schema: z.string().describe("One sentence saying what is wrong and how to fix it.") },
    "application/json": { schema: errorBodySchema },
  },
});

/** Error responses by status; a route passes its own sentence where the generic one would be vague. */
export function errors(statuses: readonly ErrorStatus[], specific: Partial<Record<ErrorStatus, string>> = {}) {
  return Object.fromEntries(statuses.map((status) => [status, errorResponse(specific[status] ?? ERROR_MEANING[status])])) as Record<
    ErrorStatus,
    ReturnType<typeof errorResponse>
  >;
}

/** What any authenticated tenant route can answer before it runs (see requireTenant). */
export const TENANT_ERRORS = [400, 401, 403, 503] as const satisfies readonly ErrorStatus[];
export const ADMIN_ERRORS = [401, 503] as const satisfies readonly ErrorStatus[];

export const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { "application/json": { schema } } });
export const noContent = (description: string) => ({ description });

/** `{"<key>": [...], count, total, limit, offset, has_next, has_prev, next_offset, prev_offset}` (SPEC "Conventions"). */
export function listEnvelopeSchema<K extends string, S extends z.ZodType>(key: K, item: S, refId: string) {
  return z
    .object({
      [key]: z.array(item),
      count: z.int().describe("Items in this page."),
      total: z.int().describe("Items matching, across all pages."),
      limit: z.int(),
      offset: z.int(),
      has_next: z.boolean(),
      has_prev: z.boolean(),
      next_offset: z.int().nullable().describe("null on the last page."),
      prev_offset: z.int().nullable().describe("null on the first page."),
    } as { [P in K]: z.ZodArray<S> } & {
      count: z.ZodInt;
      total: z.ZodInt;
      limit: z.ZodInt;
      offset: z.ZodInt;
      has_next: z.ZodBoolean;
      has_prev: z.ZodBoolean;
      next_offset: z.ZodNullable<z.ZodInt>;
      prev_offset: z.ZodNullable<z.ZodInt>;
    })
    .openapi(refId);
}

/**
 * A whole number from a query string, a form field or JSON, its problems named in one sentence;
 * absent or empty means "use the default".
 */
export function wholeNumber(name: string, min: number, max: number) {
  const fromText = (raw: unknown) => {
    if (raw === "" || raw === null) return undefined;
    return typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw.trim()) : raw;
  };
  const range = (issue: { input?: unknown }) => `${name} must be from ${min} to ${max}; got ${shortened(String(issue.input))}`;
  return z
    .preprocess(
      fromText,
      z
        .int({ error: (issue) => `${name} must be a whole number from ${min} to ${max}; got ${quoted(issue.input)}` })
        .min(min, { error: range })
        .max(max, { error: range })
        .optional(),
    )
    .optional()
    .openapi({ type: "integer", minimum: min, maximum: max });
}

/** `?limit=&offset=` for a list; the defaults are what the list answers without them. */
export function pageQuery(defaults: { limit: number; maxLimit: number }) {
  return {
    limit: wholeNumber("limit", 1, defaults.maxLimit).openapi({ default: defaults.limit }),
    offset: wholeNumber("offset", 0, Number.MAX_SAFE_INTEGER).openapi({ default: 0 }),
  };
}

/**
 * A list's query that pages with `limit` and `offset`, or with `page` (0-based, pages of the
 * default limit) instead; `extra` adds the list's filters. Both ways at once is a 400.
 */
export function pagedListQuery<E extends z.ZodRawShape>(defaults: { limit: number; maxLimit: number }, extra: E) {
  return z
    .object({
      ...pageQuery(defaults),
      page: wholeNumber("page", 0, 1_000_000).openapi({ description: `0-based page of ${defaults.limit}, instead of limit and offset.` }),
      ...extra,
    })
    .refine((query) => {
      // The generic extra shape hides these three members from the inferred type; they are always there.
      const { page, limit, offset } = query as PageChoice;
      return page === undefined || (limit === undefined && offset === undefined);
    }, "Use either page, or limit and offset, not both");
}

interface PageChoice {
  limit?: number;
  offset?: number;
  page?: number;
}

/** The page a pagedListQuery asks for. */
export function pageOfQuery(query: PageChoice, defaultLimit: number) {
  return query.page === undefined
    ? { limit: query.limit ?? defaultLimit, offset: query.offset ?? 0 }
    : { limit: defaultLimit, offset: query.page * defaultLimit };
}

/** `?status=` and the like: one of a closed set, naming the set when the value is not in it. */
export const enumQuery = <const T extends readonly [string, ...string[]]>(name: string, values: T) =>
  z
    .preprocess(
      (raw) => (raw === "" ? undefined : raw),
      z.enum(values, { error: (issue) => `${name} must be one of ${values.join(", ")}; got ${quoted(issue.input)}` }).optional(),
    )
    .optional();

export const idParam = (description: string) => z.object({ id: z.string().openapi({ param: { description } }) });

const describeIssue = (issue: z.core.$ZodIssue) => {
  const path = issue.path.join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
};

/** Validation failures flow through the one error type: a JSON body names its fields, query and path sentences name themselves. */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (result.success) return;
  const issues = result.error.issues.slice(0, 5);
  if (result.target === "json") throw badRequest(`Invalid request body: ${issues.map(describeIssue).join("; ")}.`);
  throw badRequest(`${issues.map((issue) => issue.message).join("; ")}.`);
};

const isJson = (c: Context) => /^application\/json\b/i.test(c.req.header("Content-Type") ?? "");

/**
 * Runs before a JSON body's validator: another media type is a 415 (the validator would read it as
 * `{}`), and unreadable JSON is our 400 rather than the validator's own exception.
 */
export const requireJsonBody = createMiddleware<AppEnv>(async (c, next) => {
  if (!isJson(c)) throw new ApiError("unsupported_media_type", "Send the body as JSON with `Content-Type: application/json`.");
  try {
    await c.req.json();
  } catch {
    throw badRequest("The request body is not valid JSON.");
  }
  await next();
});

export const jsonBody = <S extends z.ZodType>(schema: S, description?: string) => ({
  required: true,
  ...(description && { description }),
  content: { "application/json": { schema } },
});

/** Who may call: the document's default is the tenant pair; routes outside the tenant API say theirs. */
type SecurityRequirement = Record<string, string[]>;
export const TENANT_SECURITY: SecurityRequirement[] = [{ apiKey: [] }, { session: [], accountId: [] }];
export const EVENTS_SECURITY: SecurityRequirement[] = [...TENANT_SECURITY, { eventsToken: [] }];
export const ADMIN_SECURITY: SecurityRequirement[] = [{ adminToken: [] }];
export const PUBLIC_ACCESS: SecurityRequirement[] = [];

/**
 * Validates what a hand parser read (multipart fields, a JSON body read within the upload limit)
 * against the route's own schema; each message there is a sentence naming its field.
 */
export function parseFields<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(`${parsed.error.issues[0]?.message ?? "The request body is invalid"}.`);
  return parsed.data;
}

/**
 * A route whose body a bounded hand parser reads (uploads with streaming limits, several media
 * types): the document gets the body schemas given here, and no validator reads the stream before
 * the parser does. The parser validates with the same schemas (parseFields).
 */
export function handParsedBody<R extends RouteConfig>(app: OpenAPIHono<AppEnv>, route: R): R {
  const { middleware: _middleware, hide: _hide, ...documented } = route;
  app.openAPIRegistry.registerPath(documented);
  return { ...route, hide: true, request: { ...route.request, body: undefined } };
}

/** A CSV upload as a multipart file part (or the field's text). */
export const csvFileSchema = z
  .custom<File | string>((value) => value instanceof File || typeof value === "string")
  .openapi({ type: "string", format: "binary" });
