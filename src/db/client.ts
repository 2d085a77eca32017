import { drizzle } from "drizzle-orm/d1";
import type { Env } from "../env";

/**
 * Without the schema: the relational query API goes unused, and building it walks every table,
 * which a request paid for each time, as each request reads through its own D1 session binding.
 */
const make = (db: D1Database) => drizzle(db);
export type Database = ReturnType<typeof make>;

/** Sends reads to D1 in one round trip: `db.batch` itself, or a tenant read's batch that checks its API key too (http/key-check.ts). */
export type ReadBatch = Database["batch"];

/** One drizzle instance per D1 binding (the primary, or a request's session). */
const instances = new WeakMap<D1Database, Database>();

export function database(env: Pick<Env, "DB">): Database {
  let db = instances.get(env.DB);
  if (!db) {
    db = make(env.DB);
    instances.set(env.DB, db);
  }
  return db;
}

export const nowIso = (ms = Date.now()) => new Date(ms).toISOString();

/**
 * A query built once per drizzle instance and bound at each call: drizzle's SQL building, paid per
 * request otherwise, is paid once per isolate for the primary binding (a request's D1 session is
 * its own instance, so it builds its own).
 */
export function preparedQuery<P>(build: (db: Database) => P): (db: Database) => P {
  const built = new WeakMap<Database, P>();
  return (db) => {
    let prepared = built.get(db);
    if (prepared === undefined) {
      prepared = build(db);
      built.set(db, prepared);
    }
    return prepared;
  };
}
