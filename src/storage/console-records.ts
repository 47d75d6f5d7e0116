/**
 * D1 access for web console sessions (src/console/session.ts): a row per signed-in browser,
 * keyed by the SHA-256 of the cookie's id; expired rows are swept when a session is created.
 */
import { and, eq, gt, lte } from "drizzle-orm";
import type { Database } from "./database";
import { consoleSessions } from "./schema";

export type ConsoleSessionRecord = typeof consoleSessions.$inferSelect;

/** Stores a new session and sweeps expired ones, in one batch. */
export async function createConsoleSession(db: Database, session: ConsoleSessionRecord): Promise<void> {
  await db.batch([
    db.delete(consoleSessions).where(lte(consoleSessions.expiresAt, session.createdAt)),
    db.insert(consoleSessions).values(session),
  ]);
}

/** The session, unless it expired or was signed out. */
export async function findConsoleSession(
  db: Database,
  idHash: string,
  now: number,
): Promise<ConsoleSessionRecord | null> {
  const [row] = await db
    .select()
    .from(consoleSessions)
    .where(and(eq(consoleSessions.idHash, idHash), gt(consoleSessions.expiresAt, now)));
  return row ?? null;
}

export async function deleteConsoleSession(db: Database, idHash: string): Promise<void> {
  await db.delete(consoleSessions).where(eq(consoleSessions.idHash, idHash));
}

/** Signs a user out everywhere (their key deleted, or the user). */
export async function deleteConsoleSessionsOf(db: Database, username: string): Promise<void> {
  await db.delete(consoleSessions).where(eq(consoleSessions.username, username));
}
