/**
 * D1 access to repository rows.
 */
import { asc, eq, gt } from "drizzle-orm";
import type { Database } from "./database";
import { repositories, type RepositoryRow, type TagMutability } from "./schema";

/** Creates the repository if it does not exist (create-on-push). */
export async function insertRepositoryIfAbsent(db: Database, name: string, now: number): Promise<void> {
  await db.insert(repositories).values({ name, createdAt: now }).onConflictDoNothing();
}

export async function findRepository(db: Database, name: string): Promise<RepositoryRow | undefined> {
  return db.select().from(repositories).where(eq(repositories.name, name)).get();
}

export async function setTagMutability(db: Database, name: string, mutability: TagMutability): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({ imageTagMutability: mutability })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}

/** Repository names after `last` in lexical order, at most `limit` of them. */
export async function listRepositoryNames(db: Database, last: string | null, limit: number): Promise<string[]> {
  const rows = await db
    .select({ name: repositories.name })
    .from(repositories)
    .where(last === null ? undefined : gt(repositories.name, last))
    .orderBy(asc(repositories.name))
    .limit(limit);
  return rows.map((row) => row.name);
}
