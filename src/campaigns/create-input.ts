import type { Context } from "hono";
import type { CountryCode } from "libphonenumber-js";
import type { CallingWindow } from "../calling-window/calling-window";
import type { AppEnv } from "../env";
import { MAX_CSV_BYTES } from "../http/body";
import { ApiError, badRequest } from "../http/errors";
import { type ContactsRead, readContactsCsv, readContactsJson, refusedUpload } from "../uploads/ingest";
import { readUploadBody } from "../uploads/upload-body";
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
  const upload = await readUploadBody(c.req.raw, ["form", "json"], tooLarge);
  if (upload?.kind === "form") {
    const { form } = upload;
    return {
      field: form.field,
      contacts: async (window, country) => {
        const text = await form.file("contacts");
        if (text === null) return refusedUpload(badRequest("contacts is required: attach the CSV file as the `contacts` form field."));
        return readContactsCsv(text, country, window);
      },
    };
  }
  if (upload?.kind === "json") {
    const body = upload.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The JSON body must be an object.");
    const fields = body as Record<string, unknown>;
    return {
      field: (name) => jsonFieldValue(name, fields[name]),
      contacts: async (window, country) => {
        if (fields.contacts === undefined) return refusedUpload(badRequest("contacts is required: an array of objects, each with a phone_number."));
        return readContactsJson(fields.contacts, country, window);
      },
    };
  }
  throw new ApiError("unsupported_media_type", "Create a campaign with multipart/form-data (a `contacts` CSV file) or application/json.");
}
