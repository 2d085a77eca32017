import { boundedRequest, MAX_CSV_BYTES } from "../http/body";
import { badRequest } from "../http/errors";

/** A multipart upload: its text fields and its file fields. */
interface UploadForm {
  field(name: string): string | undefined;
  /** A file field's text (a plain text field will do), null when absent; over the upload limit it is refused. */
  file(name: string): Promise<string | null>;
}

export type UploadBody = { kind: "json"; body: unknown } | { kind: "csv"; text: string } | { kind: "form"; form: UploadForm };

type UploadKind = UploadBody["kind"];

const MEDIA_TYPES: Record<UploadKind, RegExp> = {
  json: /^application\/json\b/i,
  csv: /^text\/csv\b/i,
  form: /^multipart\/form-data\b/i,
};

/**
 * An upload's body read by its Content-Type, after refusing oversize bodies unread; null when the
 * type is none of `accepted`, so each resource names the types it takes. Unreadable bodies are 400s.
 */
export async function readUploadBody(request: Request, accepted: readonly UploadKind[], tooLarge: () => Error): Promise<UploadBody | null> {
  const bounded = await boundedRequest(request, tooLarge);
  const type = request.headers.get("Content-Type") ?? "";
  const kind = accepted.find((k) => MEDIA_TYPES[k].test(type));
  switch (kind) {
    case "json":
      try {
        return { kind, body: await bounded.json() };
      } catch {
        throw badRequest("The request body is not valid JSON.");
      }
    case "csv": {
      const text = await bounded.text();
      if (text.length > MAX_CSV_BYTES) throw tooLarge();
      return { kind, text };
    }
    case "form": {
      let form: FormData;
      try {
        form = await bounded.formData();
      } catch {
        throw badRequest("The multipart body could not be read; send multipart/form-data with a boundary.");
      }
      return { kind, form: uploadForm(form, tooLarge) };
    }
    default:
      return null;
  }
}

function uploadForm(form: FormData, tooLarge: () => Error): UploadForm {
  return {
    field: (name) => {
      const value = form.get(name);
      return typeof value === "string" ? value : undefined;
    },
    file: async (name) => {
      const file = form.get(name);
      if (file === null) return null;
      // A file's declared size is checked before its text is read into memory.
      const text = typeof file === "string" ? file : file.size > MAX_CSV_BYTES ? null : await file.text();
      if (text === null || text.length > MAX_CSV_BYTES) throw tooLarge();
      return text;
    },
  };
}
