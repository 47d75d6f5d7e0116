/**
 * The drizzle handle over D1, and the one helper that recognises constraint failures.
 */
import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = DrizzleD1Database<typeof schema>;

export function database(db: D1Database): Database {
  return drizzle(db, { schema });
}

/** True when a D1 statement failed because a referenced repository row does not exist. */
export function isForeignKeyFailure(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : String(error);
  return text.includes("FOREIGN KEY constraint failed");
}
