import { type Context, Hono } from "hono";
import type { CountryCode } from "libphonenumber-js";
import { MAX_CSV_BYTES, normalisePhone, parseDefaultCountry } from "../campaigns/ingest";
import { nowIso } from "../db/client";
import { waitOutDialsInProgress } from "../dnc/dial-fence";
import { addNumbers, findNumber, listNumbers, removeNumber } from "../dnc/store";
import { type DncUpload, readDncCsv, readDncNumbers } from "../dnc/upload";
import type { AppEnv } from "../env";
import { boundedRequest, uploadTooLarge } from "../http/body";
import { ApiError, badRequest } from "../http/errors";
import { listEnvelope, parsePage } from "../http/validation";

const MAX_REASON_CHARS = 200;
const tooLarge = () => uploadTooLarge("The do-not-call upload");

function parseReason(raw: unknown): string | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== "string") throw badRequest("reason must be a string.");
  const reason = raw.trim();
  if (reason.length > MAX_REASON_CHARS) throw badRequest(`reason must be at most ${MAX_REASON_CHARS} characters; got ${reason.length}.`);
  return reason === "" ? null : reason;
}

const countryOf = (raw: unknown): CountryCode | undefined => {
  if (raw !== undefined && raw !== null && typeof raw !== "string") throw badRequest("default_country must be a string such as US.");
  return parseDefaultCountry(raw ?? undefined);
};

interface ReadUpload {
  upload: DncUpload;
  reason: string | null;
}

/** POST body: JSON `numbers`, a text/csv body (reason and default_country in the query), or a multipart `file`. */
async function readUpload(c: Context<AppEnv>): Promise<ReadUpload> {
  const request = await boundedRequest(c.req.raw, tooLarge);
  const type = c.req.header("Content-Type") ?? "";
  if (/^application\/json\b/i.test(type)) {
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      throw badRequest("The request body is not valid JSON.");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw badRequest('The JSON body must be an object such as {"numbers": ["+14155550100"]}.');
    const fields = body as Record<string, unknown>;
    const reason = parseReason(fields.reason);
    return { upload: readDncNumbers(fields.numbers, countryOf(fields.default_country)), reason };
  }
  if (/^text\/csv\b/i.test(type)) {
    const text = await request.text();
    if (text.length > MAX_CSV_BYTES) throw tooLarge();
    const reason = parseReason(c.req.query("reason"));
    return { upload: readDncCsv(text, countryOf(c.req.query("default_country"))), reason };
  }
  if (/^multipart\/form-data\b/i.test(type)) {
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      throw badRequest("The multipart body could not be read; send multipart/form-data with a boundary.");
    }
    const field = (name: string) => {
      const value = form.get(name);
      return typeof value === "string" ? value : undefined;
    };
    const reason = parseReason(field("reason"));
    const country = countryOf(field("default_country"));
    const file = form.get("file");
    if (file === null) throw badRequest("file is required: attach the CSV (with a phone_number column) as the `file` form field.");
    const text = typeof file === "string" ? file : file.size > MAX_CSV_BYTES ? null : await file.text();
    if (text === null || text.length > MAX_CSV_BYTES) throw tooLarge();
    return { upload: readDncCsv(text, country), reason };
  }
  throw new ApiError(
    "unsupported_media_type",
    'Send numbers as application/json {"numbers": [...]}, as a text/csv body, or as a multipart/form-data `file`, each CSV with a phone_number column.',
  );
}

/** `?prefix=` in E.164 form. A bare `+` in a query string arrives as a space, so a leading space is read as the `+`. */
function parsePrefix(raw: string | undefined): string {
  if (raw === undefined || raw === "") return "+";
  const prefix = raw.replace(/^ /, "+");
  if (!/^\+([1-9]\d{0,14})?$/.test(prefix)) {
    throw badRequest(`prefix must be the start of an E.164 number: "+" and digits, such as +1415 (write the + as %2B in a URL); got "${raw}".`);
  }
  return prefix;
}

/** The number in the path, URL-encoded or not, normalised as at create. */
function phoneParam(c: Context<AppEnv>): string {
  const raw = c.req.param("phone_number") ?? "";
  const phone = normalisePhone(raw.trim(), parseDefaultCountry(c.req.query("default_country")));
  if (!phone) {
    throw badRequest(`"${raw}" is not a phone number; write it in E.164 form such as +14155550100 (the + as %2B in a URL), or add ?default_country=.`);
  }
  return phone;
}

const notListed = (phone: string) => new ApiError("not_found", `${phone} is not on the do-not-call list.`);

export const dncRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const page = parsePage(c, { limit: 100, maxLimit: 1000 });
    const prefix = parsePrefix(c.req.query("prefix"));
    const { rows, total } = await listNumbers(c.env.DB, c.var.caller.accountId, prefix, page);
    return c.json(listEnvelope("numbers", rows, total, page));
  })
  .post("/", async (c) => {
    const { upload, reason } = await readUpload(c);
    const { added } = await addNumbers(c.env.DB, c.var.caller.accountId, upload, reason, nowIso());
    if (added > 0) await waitOutDialsInProgress(c.env, c.var.caller.accountId);
    return c.json({ added, already_listed: upload.count - added, invalid: upload.invalid });
  })
  .get("/:phone_number", async (c) => {
    const phone = phoneParam(c);
    const entry = await findNumber(c.env.DB, c.var.caller.accountId, phone);
    if (!entry) throw notListed(phone);
    return c.json(entry);
  })
  .delete("/:phone_number", async (c) => {
    const phone = phoneParam(c);
    if (!(await removeNumber(c.env.DB, c.var.caller.accountId, phone))) throw notListed(phone);
    return c.body(null, 204);
  });
