import { type Schema, Validator } from "@cfworker/json-schema";
import { expect } from "vitest";
import { call } from "./helpers";

/** The parts of an OpenAPI 3.1 document the tests read. */
export interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, Record<string, unknown>> };
  security?: Record<string, string[]>[];
}
interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: JsonSchema }> }>;
  security?: Record<string, string[]>[];
  tags?: string[];
}
type JsonSchema = { [key: string]: unknown };

export const HTTP_METHODS = ["get", "post", "put", "patch", "delete"] as const;

export async function fetchDocument(): Promise<OpenApiDoc> {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as OpenApiDoc;
}

/** "/api/v1/campaigns/:id" → "/api/v1/campaigns/{id}" */
export const openApiPath = (honoPath: string) => honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}").replace(/(.)\/$/, "$1");

const API_ALIASES = ["/hub-api/api/v1", "/v1"];
/** The simulator stands in for Twilio's REST API on a local deployment; it is not edgedial's API. */
const UNDOCUMENTED_PREFIXES = ["/simulator"];

/**
 * Every route the app serves (method and path) that the document does not describe, as
 * "METHOD /path". Middleware (method ALL) is not a route. The /v1 and /hub-api aliases must serve
 * exactly what /api/v1 serves, so an alias route without its /api/v1 twin is reported too.
 */
export function undocumentedRoutes(routes: readonly { method: string; path: string }[], doc: OpenApiDoc): string[] {
  const served = new Set(routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`));
  const missing: string[] = [];
  for (const route of served) {
    const [method = "", path = ""] = route.split(" ");
    if (UNDOCUMENTED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) continue;
    const alias = API_ALIASES.find((prefix) => path === prefix || path.startsWith(`${prefix}/`));
    if (alias) {
      if (!served.has(`${method} /api/v1${path.slice(alias.length)}`)) missing.push(`${route} (an alias with no /api/v1 route)`);
      continue;
    }
    if (!doc.paths[path]?.[method.toLowerCase()]) missing.push(route);
  }
  return missing.sort();
}

/** Operations the document lists that the app does not serve (a stale document). */
export function unservedOperations(routes: readonly { method: string; path: string }[], doc: OpenApiDoc): string[] {
  const served = new Set(routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${openApiPath(r.path)}`));
  const stale: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) if (item[method] && !served.has(`${method.toUpperCase()} ${path}`)) stale.push(`${method.toUpperCase()} ${path}`);
  }
  return stale;
}

/** Every `$ref` in the document, with whether it points at something. */
export function references(doc: OpenApiDoc): { ref: string; resolves: boolean }[] {
  const found: { ref: string; resolves: boolean }[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string") found.push({ ref: value, resolves: pointer(doc, value) !== undefined });
        else walk(value);
      }
    }
  };
  walk(doc);
  return found;
}

function pointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  return ref
    .slice(2)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce<unknown>((at, part) => (at && typeof at === "object" ? (at as Record<string, unknown>)[part] : undefined), doc);
}

/**
 * The document made strict for checking responses: `allOf` of objects merged into one object, and
 * every object schema closed (`additionalProperties: false`), so a field the document does not
 * list fails the check instead of passing unnoticed.
 */
export function strictDocument(doc: OpenApiDoc): OpenApiDoc {
  const copy = structuredClone(doc);
  const merge = (node: JsonSchema): JsonSchema => {
    const parts = (node.allOf as JsonSchema[]).map((part) => (typeof part.$ref === "string" ? (pointer(copy, part.$ref) as JsonSchema) : part));
    const merged: JsonSchema = { type: "object", properties: {}, required: [] };
    for (const raw of parts) {
      const part = raw.allOf ? merge(raw) : raw;
      Object.assign(merged.properties as JsonSchema, part.properties ?? {});
      (merged.required as string[]).push(...((part.required as string[] | undefined) ?? []));
    }
    const { allOf: _allOf, ...rest } = node;
    return { ...rest, ...merged };
  };
  const close = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(close);
    if (!node || typeof node !== "object") return node;
    let schema = node as JsonSchema;
    if (Array.isArray(schema.allOf)) schema = merge(schema);
    const out: JsonSchema = {};
    for (const [key, value] of Object.entries(schema)) out[key] = close(value);
    if (out.properties && typeof out.properties === "object" && out.additionalProperties === undefined && !("$ref" in out)) out.additionalProperties = false;
    return out;
  };
  return close(copy) as OpenApiDoc;
}

const escapePointer = (part: string) => part.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Checks one response against the document: its status is listed for the operation, its media
 * type is one the status lists, and its body matches that schema (closed objects: no undocumented
 * field). Returns the body, parsed when JSON.
 */
export async function expectDocumented<T = unknown>(doc: OpenApiDoc, method: string, path: string, res: Response, status: number): Promise<T> {
  const where = `${method.toUpperCase()} ${path} → ${res.status}`;
  if (res.status !== status) expect(`${res.status} ${await res.clone().text()}`, where).toBe(String(status));
  const operation = doc.paths[path]?.[method.toLowerCase()];
  expect(operation, `${method.toUpperCase()} ${path} is not in the document`).toBeDefined();
  const response = operation?.responses[String(res.status)];
  const text = await res.text();
  expect(response, `${where} is not a documented status (body: ${text.slice(0, 200)})`).toBeDefined();
  const content = response?.content;
  if (!content) {
    expect(text, `${where} documents no body`).toBe("");
    return undefined as T;
  }
  const mediaType = (res.headers.get("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
  expect(Object.keys(content), `${where} sent ${mediaType}`).toContain(mediaType);
  const body: unknown = mediaType === "application/json" ? JSON.parse(text) : text;
  const target = `#/paths/${escapePointer(path)}/${method.toLowerCase()}/responses/${res.status}/content/${escapePointer(mediaType)}/schema`;
  const result = validatorFor(doc, target).validate(body);
  expect(
    result.errors.map((e) => `${e.instanceLocation} ${e.error}`),
    `${where} does not match the document`,
  ).toEqual([]);
  checked.add(`${method.toUpperCase()} ${path} ${res.status}`);
  return body as T;
}

const strictDocs = new WeakMap<OpenApiDoc, OpenApiDoc>();
const validators = new Map<string, Validator>();

/** The strict document is the root schema; a `$ref` to the response's schema selects what is checked. */
function validatorFor(doc: OpenApiDoc, target: string): Validator {
  let strict = strictDocs.get(doc);
  if (!strict) {
    strict = strictDocument(doc);
    strictDocs.set(doc, strict);
    validators.clear();
  }
  let validator = validators.get(target);
  if (!validator) {
    expect(pointer(strict, target), `no schema at ${target}`).toBeDefined();
    validator = new Validator({ ...strict, $ref: target } as unknown as Schema, "2020-12", false);
    validators.set(target, validator);
  }
  return validator;
}

/** "METHOD /path status" of every response checked so far in this file. */
export const checked = new Set<string>();
