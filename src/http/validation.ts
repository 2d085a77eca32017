import type { Context } from "hono";
import type { z } from "zod";
import type { Page } from "../db/queries";
import { ApiError, badRequest } from "./errors";

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Parses a JSON body against a schema; any problem is a 400 naming the field. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new ApiError("unsupported_media_type", "Send the body as JSON with `Content-Type: application/json`.");
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest("The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw badRequest(`Invalid request body: ${parsed.error.issues.slice(0, 5).map(describeIssue).join("; ")}.`);
  return parsed.data;
}

export function listEnvelope<K extends string, T>(key: K, items: T[], total: number, { limit, offset }: Page) {
  const hasNext = offset + items.length < total;
  const hasPrev = offset > 0;
  return {
    [key]: items,
    count: items.length,
    total,
    limit,
    offset,
    has_next: hasNext,
    has_prev: hasPrev,
    next_offset: hasNext ? offset + limit : null,
    prev_offset: hasPrev ? Math.max(0, offset - limit) : null,
  } as { [P in K]: T[] } & {
    count: number;
    total: number;
    limit: number;
    offset: number;
    has_next: boolean;
    has_prev: boolean;
    next_offset: number | null;
    prev_offset: number | null;
  };
}
