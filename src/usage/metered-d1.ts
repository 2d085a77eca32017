import { countD1 } from "./usage-counts";

/**
 * A D1 binding that adds every result's `meta.rows_read` / `rows_written` to the usage counts.
 * `first()` and `raw()` hand back no meta, so here they run as `all()` and are shaped the same way
 * as the binding would shape them; `batch()` passes the binding's own statements through.
 */
class MeteredStatement implements D1PreparedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    readonly sql: string,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new MeteredStatement(this.inner.bind(...values), this.sql);
  }

  async all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    const result = await this.inner.all<T>();
    countD1(this.sql, result.meta);
    return result;
  }

  async run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    const result = await this.inner.run<T>();
    countD1(this.sql, result.meta);
    return result;
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  async first<T>(colName?: string): Promise<T | null> {
    const row = (await this.all<Record<string, unknown>>()).results[0];
    if (row === undefined) return null;
    if (colName === undefined) return row as T;
    if (!(colName in row)) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${colName})`);
    return row[colName] as T;
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  async raw<T>(options?: { columnNames?: boolean }): Promise<T[] | [string[], ...T[]]> {
    const rows = (await this.all<Record<string, unknown>>()).results;
    const values = rows.map((row) => Object.values(row) as T);
    return options?.columnNames ? [Object.keys(rows[0] ?? {}), ...values] : values;
  }
}

const innerOf = (statement: D1PreparedStatement) => (statement instanceof MeteredStatement ? statement.inner : statement);

function meteredBatch(statements: D1PreparedStatement[], send: (inner: D1PreparedStatement[]) => Promise<D1Result[]>) {
  return send(statements.map(innerOf)).then((results) => {
    results.forEach((result, i) => {
      const statement = statements[i];
      countD1(statement instanceof MeteredStatement ? statement.sql : "(unmetered statement)", result.meta);
    });
    return results;
  });
}

class MeteredSession implements D1DatabaseSession {
  constructor(private readonly inner: D1DatabaseSession) {}

  prepare(query: string): D1PreparedStatement {
    return new MeteredStatement(this.inner.prepare(query), query);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return meteredBatch(statements, (inner) => this.inner.batch(inner)) as Promise<D1Result<T>[]>;
  }

  getBookmark(): D1SessionBookmark | null {
    return this.inner.getBookmark();
  }
}

export class MeteredD1 implements D1Database {
  constructor(private readonly inner: D1Database) {}

  prepare(query: string): D1PreparedStatement {
    return new MeteredStatement(this.inner.prepare(query), query);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return meteredBatch(statements, (inner) => this.inner.batch(inner)) as Promise<D1Result<T>[]>;
  }

  async exec(query: string): Promise<D1ExecResult> {
    const result = await this.inner.exec(query);
    countD1(query, undefined);
    return result;
  }

  withSession(constraintOrBookmark?: D1SessionBookmark | D1SessionConstraint): D1DatabaseSession {
    return new MeteredSession(this.inner.withSession(constraintOrBookmark));
  }

  dump(): Promise<ArrayBuffer> {
    return this.inner.dump();
  }
}
