import type { Context } from "hono";
import type { CountryCode } from "libphonenumber-js";
import type { CallingWindow } from "../calling-window/calling-window";
import type { AppEnv } from "../env";
import { boundedRequest, MAX_CSV_BYTES } from "../http/body";
import { ApiError, badRequest } from "../http/errors";
import { type ContactsRead, readContactsCsv, readContactsJson, refusedUpload } from "../uploads/ingest";
import { type FieldText, jsonFieldValue } from "./settings";

/** The create body (multipart or JSON) as create and preflight read it. */
export interface CreateInput {
  /** One field as text, undefined when absent; a JSON object or array given as a field is refused. */
  field: FieldText;
  /** The contacts read to the end; a missing `contacts` field is the upload's one problem. */
  contacts: (window: CallingWindow | null, country: CountryCode | undefined) => Promise<ContactsRead>;
}

const tooLarge = () =>
  new ApiError("payload_too_large", `The upload is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB; split the contacts into several campaigns.`);

/** Reads the create body after refusing oversize bodies unread. An unreadable body or another media type is an error, not a field problem. */
export async function readCreateInput(c: Context<AppEnv>): Promise<CreateInput> {
  const raw = await boundedRequest(c.req.raw, tooLarge);
  const type = c.req.header("Content-Type") ?? "";

  if (/^multipart\/form-data\b/i.test(type)) {
    let form: FormData;
    try {
      form = await raw.formData();
    } catch {
      throw badRequest("The multipart body could not be read; send multipart/form-data with a boundary.");
    }
    return {
      field: (name) => {
        const value = form.get(name);
        return typeof value === "string" ? value : undefined;
      },
      contacts: async (window, country) => {
        const file = form.get("contacts");
        if (file === null) return refusedUpload(badRequest("contacts is required: attach the CSV file as the `contacts` form field."));
        const text = typeof file === "string" ? file : file.size > MAX_CSV_BYTES ? null : await file.text();
        if (text === null || text.length > MAX_CSV_BYTES) throw tooLarge();
        return readContactsCsv(text, country, window);
      },
    };
  }
  if (/^application\/json\b/i.test(type)) {
    let body: Record<string, unknown>;
    try {
      body = await raw.json();
    } catch {
      throw badRequest("The request body is not valid JSON.");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The JSON body must be an object.");
    return {
      field: (name) => jsonFieldValue(name, body[name]),
      contacts: async (window, country) => {
        if (body.contacts === undefined) return refusedUpload(badRequest("contacts is required: an array of objects, each with a phone_number."));
        return readContactsJson(body.contacts, country, window);
      },
    };
  }
  throw new ApiError("unsupported_media_type", "Create a campaign with multipart/form-data (a `contacts` CSV file) or application/json.");
}
