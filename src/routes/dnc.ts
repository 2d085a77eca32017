import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { CountryCode } from "libphonenumber-js";
import { nowIso } from "../db/client";
import { waitOutDialsInProgress } from "../dnc/dial-fence";
import { addNumbers, findNumber, listNumbers, removeNumber } from "../dnc/store";
import { type DncUpload, readDncCsv, readDncNumbers } from "../dnc/upload";
import type { AppEnv } from "../env";
import { uploadTooLarge } from "../http/body";
import { ApiError, badRequest, quoted, shortened } from "../http/errors";
import {
  csvFileSchema,
  errors,
  handParsedBody,
  json,
  listEnvelopeSchema,
  noContent,
  pageQuery,
  parseFields,
  TENANT_ERRORS,
  validationHook,
} from "../http/openapi";
import { listEnvelope } from "../http/validation";
import { normalisePhone, parseDefaultCountry } from "../uploads/phone";
import { readUploadBody } from "../uploads/upload-body";

const MAX_REASON_CHARS = 200;
const tooLarge = () => uploadTooLarge("The do-not-call upload");

/** Empty means none: a form or query string cannot leave a field out any other way. */
const reasonSchema = z
  .string("reason must be a string")
  .trim()
  .max(MAX_REASON_CHARS, { error: (issue) => `reason must be at most ${MAX_REASON_CHARS} characters; got ${String(issue.input).length}` })
  .nullable()
  .optional()
  .transform((reason) => reason || null)
  .describe("Why the numbers are listed, kept with each number added by this request.");

const countrySchema = z
  .string("default_country must be a string such as US")
  .nullable()
  .optional()
  .describe("ISO 3166 alpha-2 country for national numbers, such as US.");

const dncJsonSchema = z
  .object(
    {
      numbers: z
        .array(
          z.union([z.string(), z.number()], "each entry of numbers must be a phone number, as a string such as +14155550100"),
          'numbers is required: an array of phone numbers such as ["+14155550100"]',
        )
        .min(1, "numbers is empty; send at least one phone number")
        .describe("Phone numbers, E.164 or national with default_country. One that cannot be read is returned in `invalid`."),
      reason: reasonSchema,
      default_country: countrySchema,
    },
    'The JSON body must be an object such as {"numbers": ["+14155550100"]}',
  )
  .openapi("DncAddJson");

const dncCsvOptionsSchema = z.object({ reason: reasonSchema, default_country: countrySchema });

const dncFormSchema = dncCsvOptionsSchema
  .extend({ file: csvFileSchema.describe("A CSV with a phone_number column (header match ignores case and spaces); other columns are not read.") })
  .openapi("DncAddForm");

const dncEntrySchema = z
  .object({ phone_number: z.string().openapi({ example: "+14155550100" }), reason: z.string().nullable(), created_at: z.string() })
  .openapi("DncEntry");

const dncAddResultSchema = z
  .object({
    added: z.int().describe("Numbers newly listed."),
    already_listed: z.int().describe("Numbers that were listed before (their reason and date are kept)."),
    invalid: z
      .array(z.object({ row: z.int().describe("CSV: the spreadsheet row (header = 1). JSON: the 1-based position in numbers."), value: z.string() }))
      .describe("Entries that are not phone numbers; nothing is silently dropped."),
  })
  .openapi("DncAddResult");

interface ReadUpload {
  upload: DncUpload;
  reason: string | null;
}

const countryOf = (raw: string | null | undefined): CountryCode | undefined => parseDefaultCountry(raw ?? undefined);

/** POST body: JSON `numbers`, a text/csv body (reason and default_country in the query), or a multipart `file`. */
async function readUpload(c: Context<AppEnv>): Promise<ReadUpload> {
  const upload = await readUploadBody(c.req.raw, ["json", "csv", "form"], tooLarge);
  switch (upload?.kind) {
    case "json": {
      const fields = parseFields(dncJsonSchema, upload.body);
      return { upload: readDncNumbers(fields.numbers, countryOf(fields.default_country)), reason: fields.reason };
    }
    case "csv": {
      const options = parseFields(dncCsvOptionsSchema, c.req.query());
      return { upload: readDncCsv(upload.text, countryOf(options.default_country)), reason: options.reason };
    }
    case "form": {
      const { form } = upload;
      const options = parseFields(dncCsvOptionsSchema, { reason: form.field("reason"), default_country: form.field("default_country") });
      const country = countryOf(options.default_country);
      const text = await form.file("file");
      if (text === null) throw badRequest("file is required: attach the CSV (with a phone_number column) as the `file` form field.");
      return { upload: readDncCsv(text, country), reason: options.reason };
    }
    default:
      throw new ApiError(
        "unsupported_media_type",
        'Send numbers as application/json {"numbers": [...]}, as a text/csv body, or as a multipart/form-data `file`, each CSV with a phone_number column.',
      );
  }
}

/** `?prefix=` in E.164 form. A bare `+` in a query string arrives as a space, so a leading space is read as the `+`. */
const prefixSchema = z
  .preprocess(
    (raw) => (raw === undefined || raw === "" ? "+" : typeof raw === "string" ? raw.replace(/^ /, "+") : raw),
    z.string().regex(/^\+([1-9]\d{0,14})?$/, {
      error: (issue) => `prefix must be the start of an E.164 number: "+" and digits, such as +1415 (write the + as %2B in a URL); got ${quoted(issue.input)}`,
    }),
  )
  .optional()
  .openapi({ description: "Only numbers starting with this, such as +1415.", example: "+1415" });

const phoneParam = z.object({
  phone_number: z.string().openapi({ param: { description: "The number, E.164 (the + as %2B) or national with ?default_country=." }, example: "+14155550100" }),
});
const phoneQuery = z.object({ default_country: countrySchema });

/** The number in the path, URL-encoded or not, normalised as at create. */
function listedPhone(raw: string, country: string | null | undefined): string {
  const phone = normalisePhone(raw.trim(), countryOf(country));
  if (!phone) {
    throw badRequest(`${quoted(raw)} is not a phone number; write it in E.164 form such as +14155550100 (the + as %2B in a URL), or add ?default_country=.`);
  }
  return phone;
}

const notListed = (phone: string) => new ApiError("not_found", `${shortened(phone)} is not on the do-not-call list.`);
const tags = ["Do-not-call list"];

const dnc = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

export const dncRoutes = dnc
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      summary: "List the account's do-not-call numbers",
      request: { query: z.object({ ...pageQuery({ limit: 100, maxLimit: 1000 }), prefix: prefixSchema }) },
      responses: { 200: json(listEnvelopeSchema("numbers", dncEntrySchema, "DncList"), "Listed numbers in E.164 order."), ...errors(TENANT_ERRORS) },
    }),
    async (c) => {
      const { limit = 100, offset = 0, prefix = "+" } = c.req.valid("query");
      const page = { limit, offset };
      const { rows, total } = await listNumbers(c.env.DB, c.var.caller.accountId, prefix, page);
      return c.json(listEnvelope("numbers", rows, total, page), 200);
    },
  )
  .openapi(
    handParsedBody(
      dnc,
      createRoute({
        method: "post",
        path: "/",
        tags,
        summary: "Add numbers to the do-not-call list",
        description:
          "Numbers are normalised as at campaign create. A listed number is never dialled again: contacts waiting in running campaigns become cancelled with outcome dnc.",
        request: {
          query: dncCsvOptionsSchema.describe("For a text/csv body only."),
          body: {
            required: true,
            content: {
              "application/json": { schema: dncJsonSchema },
              "text/csv": { schema: z.string().openapi({ description: "A CSV with a phone_number column.", example: "phone_number\n+14155550100\n" }) },
              "multipart/form-data": { schema: dncFormSchema },
            },
          },
        },
        responses: { 200: json(dncAddResultSchema, "What was added."), ...errors([...TENANT_ERRORS, 413, 415]) },
      }),
    ),
    async (c) => {
      const { upload, reason } = await readUpload(c);
      const { added } = await addNumbers(c.env.DB, c.var.caller.accountId, upload, reason, nowIso());
      if (added > 0) await waitOutDialsInProgress(c.env, c.var.caller.accountId);
      return c.json({ added, already_listed: upload.count - added, invalid: upload.invalid }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{phone_number}",
      tags,
      summary: "Is a number on the list?",
      request: { params: phoneParam, query: phoneQuery },
      responses: { 200: json(dncEntrySchema, "The listed number."), ...errors([...TENANT_ERRORS, 404], { 404: "The number is not on the list." }) },
    }),
    async (c) => {
      const phone = listedPhone(c.req.valid("param").phone_number, c.req.valid("query").default_country);
      const entry = await findNumber(c.env.DB, c.var.caller.accountId, phone);
      if (!entry) throw notListed(phone);
      return c.json(entry, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{phone_number}",
      tags,
      summary: "Remove a number from the list",
      request: { params: phoneParam, query: phoneQuery },
      responses: { 204: noContent("Removed: campaigns may dial it again."), ...errors([...TENANT_ERRORS, 404], { 404: "The number is not on the list." }) },
    }),
    async (c) => {
      const phone = listedPhone(c.req.valid("param").phone_number, c.req.valid("query").default_country);
      if (!(await removeNumber(c.env.DB, c.var.caller.accountId, phone))) throw notListed(phone);
      return c.body(null, 204);
    },
  );
