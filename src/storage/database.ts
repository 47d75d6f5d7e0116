/**
 * The drizzle handle over D1 (the primary, and the nearest read replica through D1's Sessions
 * API), the one helper that recognises constraint failures, and the one way a list of values
 * reaches a query (and comes back from raw SQL).
 */
import { sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = DrizzleD1Database<typeof schema>;

export function database(db: D1Database): Database {
  return drizzle(db, { schema });
}

/**
 * A handle whose reads go to the D1 read replica nearest the Worker (a session opened with
 * "first-unconstrained"): no trip to the primary's region, but the replica may not have the
 * newest writes yet. For reads that fall back to the primary when a row is missing, and whose
 * answer may be a replica lag old (src/images/pull-reads.ts). Without read replication turned on
 * for the database (README "Deploy"), the primary answers. Writes through it reach the primary.
 */
export function nearestReplica(db: D1Database): Database {
  const session = db.withSession("first-unconstrained");
  // drizzle needs only prepare and batch of its client; a session has both.
  const client: D1Database = {
    prepare: (query) => session.prepare(query),
    batch: (statements) => session.batch(statements),
    exec: () => Promise.reject(new Error("exec is not available on a D1 session")),
    withSession: (constraint) => db.withSession(constraint),
    dump: () => Promise.reject(new Error("dump is not available on a D1 session")),
  };
  return drizzle(client, { schema });
}

/** True when a D1 statement failed because a referenced repository row does not exist. */
export function isForeignKeyFailure(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String(error.cause)}` : String(error);
  return text.includes("FOREIGN KEY constraint failed");
}

/**
 * `<column> IN (<values>)` with the whole list bound as ONE parameter (a JSON array read with
 * json_each): D1 allows at most 100 bound parameters per statement, and drizzle's inArray binds
 * one per value, so a list from a request would otherwise fail with "too many SQL variables".
 */
export function inList(column: SQLWrapper, values: readonly string[]): SQL {
  return sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
}

/**
 * A JSON array of strings that raw SQL returns as text (a JSON column such as child_digests, or
 * json_group_array): checked, not cast. Queries through drizzle's builder get JSON columns
 * decoded by the schema (`mode: "json"`); `db.all` with raw SQL does not.
 */
export function jsonStrings(text: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string")) {
    throw new Error(`stored JSON is not a list of strings: ${text.slice(0, 100)}`);
  }
  return value;
}
