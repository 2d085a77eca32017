import type { Context } from "hono";
import type { AppEnv } from "../env";
import { MAX_CSV_BYTES } from "../http/body";
import { ApiError, badRequest } from "../http/errors";
import { type ContactsRead, type ReadRules, readContactsCsv, readContactsJson, refusedUpload } from "../uploads/ingest";
import { readUploadBody, type UploadBody } from "../uploads/upload-body";
import { type FieldText, jsonFieldValue } from "./settings";

/** A body carrying contacts (create, preflight, append) as their routes read it. */
export interface ContactsInput {
  /** One field as text, undefined when absent; a JSON object or array given as a field is refused. */
  field: FieldText;
  /** The contacts read to the end under `rules`; a missing `contacts` field is the upload's one problem. */
  contacts: (rules: ReadRules) => Promise<ContactsRead>;
}

/** The create body (multipart or JSON) as create and preflight read it. */
export type CreateInput = ContactsInput;

const tooLarge = () =>
  new ApiError("payload_too_large", `The upload is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB; split the contacts into several requests.`);

/** The one reading of a contacts body, whatever route it came to: create, preflight and append differ only in the types they take. */
function contactsInput(upload: UploadBody): ContactsInput {
  switch (upload.kind) {
    case "form": {
      const { form } = upload;
      return {
        field: form.field,
        contacts: async (rules) => {
          const text = await form.file("contacts");
          if (text === null) return refusedUpload(badRequest("contacts is required: attach the CSV file as the `contacts` form field."));
          return readContactsCsv(text, rules);
        },
      };
    }
    case "csv":
      return { field: () => undefined, contacts: async (rules) => readContactsCsv(upload.text, rules) };
    case "json": {
      const body = upload.body;
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The JSON body must be an object.");
      const fields = body as Record<string, unknown>;
      return {
        field: (name) => jsonFieldValue(name, fields[name]),
        contacts: async (rules) => {
          if (fields.contacts === undefined) return refusedUpload(badRequest("contacts is required: an array of objects, each with a phone_number."));
          return readContactsJson(fields.contacts, rules);
        },
      };
    }
  }
}

/** Reads the create body after refusing oversize bodies unread. An unreadable body or another media type is an error, not a field problem. */
export async function readCreateInput(c: Context<AppEnv>): Promise<CreateInput> {
  const upload = await readUploadBody(c.req.raw, ["form", "json"], tooLarge);
  if (!upload) throw new ApiError("unsupported_media_type", "Create a campaign with multipart/form-data (a `contacts` CSV file) or application/json.");
  return contactsInput(upload);
}

/** Reads an append's body: create's forms, or a bare `text/csv` body. */
export async function readAppendInput(c: Context<AppEnv>): Promise<ContactsInput> {
  const upload = await readUploadBody(c.req.raw, ["form", "json", "csv"], tooLarge);
  if (!upload) {
    throw new ApiError(
      "unsupported_media_type",
      'Send the contacts as multipart/form-data (a `contacts` CSV file), a text/csv body, or application/json {"contacts": [...]}.',
    );
  }
  return contactsInput(upload);
}
