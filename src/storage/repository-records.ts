/**
 * D1 access to repository rows.
 */
import { asc, eq, gt, inArray } from "drizzle-orm";
import type { Database } from "./database";
import { repositories, type RepositoryRow, type TagMutability } from "./schema";

/** Creates the repository if it does not exist (create-on-push). */
export async function insertRepositoryIfAbsent(db: Database, name: string, now: number): Promise<void> {
  await db.insert(repositories).values({ name, createdAt: now }).onConflictDoNothing();
}

export async function findRepository(db: Database, name: string): Promise<RepositoryRow | undefined> {
  return db.select().from(repositories).where(eq(repositories.name, name)).get();
}

/** What authorization needs of a repository: its policy and resource tags. */
export interface RepositoryAccessFacts {
  policy: string | null;
  tags: Record<string, string>;
}

export async function findRepositoryAccessFacts(db: Database, names: readonly string[]): Promise<Map<string, RepositoryAccessFacts>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .select({ name: repositories.name, policy: repositories.policy, tags: repositories.tags })
    .from(repositories)
    .where(inArray(repositories.name, [...names]));
  return new Map(rows.map((row) => [row.name, { policy: row.policy, tags: JSON.parse(row.tags) as Record<string, string> }]));
}

/** Repository names after `last` with their access facts, for filtering the catalog. */
export async function listRepositoriesWithFacts(
  db: Database,
  last: string | null,
  limit: number,
): Promise<(RepositoryAccessFacts & { name: string })[]> {
  const rows = await db
    .select({ name: repositories.name, policy: repositories.policy, tags: repositories.tags })
    .from(repositories)
    .where(last === null ? undefined : gt(repositories.name, last))
    .orderBy(asc(repositories.name))
    .limit(limit);
  return rows.map((row) => ({ name: row.name, policy: row.policy, tags: JSON.parse(row.tags) as Record<string, string> }));
}

export async function setRepositoryPolicy(db: Database, name: string, policy: string | null): Promise<boolean> {
  const updated = await db.update(repositories).set({ policy }).where(eq(repositories.name, name)).returning({ name: repositories.name });
  return updated.length > 0;
}

export async function setRepositoryTags(db: Database, name: string, tags: Record<string, string>): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({ tags: JSON.stringify(tags) })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}

export async function setTagMutability(db: Database, name: string, mutability: TagMutability): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({ imageTagMutability: mutability })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}

