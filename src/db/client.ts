import { drizzle } from "drizzle-orm/d1";
import type { Env } from "../env";
import * as schema from "./schema";

const make = (db: D1Database) => drizzle(db, { schema });
export type Database = ReturnType<typeof make>;

/** One drizzle instance per D1 binding: building one walks the whole schema. */
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
