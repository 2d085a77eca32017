interface Response {
  description: string;
  content?: unknown;
  headers?: Record<string, unknown>;
}

interface Operation {
  parameters?: unknown[];
  responses?: Record<string, Response>;
}

interface Document {
  paths?: Record<string, Record<string, Operation | undefined>>;
}

const MUTATING = ["post", "put", "patch", "delete"] as const;

const KEY_PARAMETER = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Makes a retry safe: the first request with a key runs and its answer is kept 24 hours for the account; the same request " +
    "with the same key gets that answer again, with `Idempotent-Replayed: true`. Use a fresh key (a UUID) for each new request.",
  schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7E]+$" },
};

const REPLAYED_HEADER = {
  description: "`true` when this is the kept answer to an earlier request with the same Idempotency-Key.",
  schema: { type: "string", enum: ["true"] },
};

const IN_USE = "A request with the same Idempotency-Key is still running (code `idempotency_key_in_use`); retry with that key once it has answered.";
const REUSED = "The Idempotency-Key was used with a different request (code `idempotency_key_reused`); use a fresh key for a new request.";

/**
 * Adds the Idempotency-Key header, the replay marker and the 409/422 answers to every mutating
 * operation under `prefix`: the one middleware covers them all, so the document says so once here.
 */
export function documentIdempotencyKey(document: object, prefix: string) {
  const doc = document as Document;
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (!path.startsWith(`${prefix}/`)) continue;
    for (const method of MUTATING) {
      const operation = item[method];
      if (!operation) continue;
      // Inline rather than a $ref: the document's checkers accept references to schemas only.
      operation.parameters = [...(operation.parameters ?? []), KEY_PARAMETER];
      const responses = operation.responses ?? {};
      operation.responses = responses;
      for (const [status, response] of Object.entries(responses)) {
        if (status.startsWith("2")) response.headers = { ...response.headers, "Idempotent-Replayed": REPLAYED_HEADER };
      }
      // Every tenant operation answers 401, whose error body the two new answers share.
      const errorContent = responses["401"]?.content;
      const conflict = responses["409"];
      if (conflict) conflict.description = `${conflict.description} Or: ${IN_USE}`;
      else responses["409"] = { description: IN_USE, content: errorContent };
      responses["422"] = { description: REUSED, content: errorContent };
    }
  }
}
