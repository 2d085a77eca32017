/** JSON bound per D1 statement, far under D1's 2 MB value limit. */
export const CHUNK_BYTES = 1_000_000;

/** One D1 statement's worth of an upload: a JSON array or object and how many members it holds. */
export interface JsonChunk {
  json: string;
  count: number;
}

/** Joins JSON members (array elements or `"key":value` pairs) into chunks of at most CHUNK_BYTES each. */
export class ChunkedJson {
  private readonly chunks: JsonChunk[] = [];
  private current: string[] = [];
  private currentBytes = 0;
  private members = 0;

  constructor(private readonly brackets: "[]" | "{}") {}

  push(member: string) {
    if (this.currentBytes + member.length > CHUNK_BYTES && this.current.length > 0) this.flush();
    this.current.push(member);
    this.currentBytes += member.length + 1;
    this.members++;
  }

  /** Members pushed so far, over all chunks. */
  get count(): number {
    return this.members;
  }

  finish(): JsonChunk[] {
    this.flush();
    return this.chunks;
  }

  private flush() {
    if (this.current.length === 0) return;
    this.chunks.push({ json: `${this.brackets[0]}${this.current.join(",")}${this.brackets[1]}`, count: this.current.length });
    this.current = [];
    this.currentBytes = 0;
  }
}
