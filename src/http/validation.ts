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

/** A whole number within [min, max] from a query string or form field, or a 400 naming it. */
export function parseIntegerField(name: string, raw: string | undefined | null, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw === null || raw === "") return fallback;
  const text = String(raw).trim();
  if (!/^-?\d+$/.test(text)) throw badRequest(`${name} must be a whole number from ${min} to ${max}; got "${raw}".`);
  const value = Number(text);
  if (value < min || value > max) throw badRequest(`${name} must be from ${min} to ${max}; got ${value}.`);
  return value;
}

export function parsePage(c: Context, defaults: { limit: number; maxLimit: number; pageSize?: number }): Page {
  const q = (name: string) => c.req.query(name);
  const page = q("page");
  if (page !== undefined && defaults.pageSize) {
    if (q("offset") !== undefined || q("limit") !== undefined) throw badRequest("Use either page, or limit and offset, not both.");
    const index = parseIntegerField("page", page, 0, 1_000_000, 0);
    return { limit: defaults.pageSize, offset: index * defaults.pageSize };
  }
  return {
    limit: parseIntegerField("limit", q("limit"), 1, defaults.maxLimit, defaults.limit),
    offset: parseIntegerField("offset", q("offset"), 0, Number.MAX_SAFE_INTEGER, 0),
  };
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

export function parseEnum<T extends string>(name: string, raw: string | undefined, values: readonly T[]): T | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!(values as readonly string[]).includes(raw)) throw badRequest(`${name} must be one of ${values.join(", ")}; got "${raw}".`);
  return raw as T;
}
