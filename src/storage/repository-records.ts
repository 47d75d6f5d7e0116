/**
 * D1 access to repository rows. Creating and deleting a repository and setting its tag
 * mutability are the repository's Durable Object's (./repository-writes.ts); the other settings
 * (policy, tags, scan on push) are written here.
 */
import { asc, eq, gt } from "drizzle-orm";
import { inList, type Database } from "./database";
import { repositories, type RepositoryRow, type TagMutability } from "./schema";

export async function findRepository(db: Database, name: string): Promise<RepositoryRow | undefined> {
  return db.select().from(repositories).where(eq(repositories.name, name)).get();
}

/** What authorization needs of a repository: its policy and resource tags. */
export interface RepositoryAccessFacts {
  policy: string | null;
  tags: Record<string, string>;
}

export async function findRepositoryAccessFacts(
  db: Database,
  names: readonly string[],
): Promise<Map<string, RepositoryAccessFacts>> {
  if (names.length === 0) return new Map();
  const rows = await db
    .select({ name: repositories.name, policy: repositories.policy, tags: repositories.tags })
    .from(repositories)
    .where(inList(repositories.name, names));
  return new Map(rows.map((row) => [row.name, { policy: row.policy, tags: row.tags }]));
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
  return rows.map((row) => ({ name: row.name, policy: row.policy, tags: row.tags }));
}

export async function setRepositoryPolicy(db: Database, name: string, policy: string | null): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({ policy })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}

export async function setRepositoryTags(db: Database, name: string, tags: Record<string, string>): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({ tags })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}

/** One of ECR's tag mutability exclusion filters (src/repository/tag-mutability.ts decides with them). */
export interface ExclusionFilter {
  filterType: "WILDCARD";
  filter: string;
}

export interface TagMutabilitySetting {
  mutability: TagMutability;
  /** Empty unless `mutability` is one of the _WITH_EXCLUSION settings. */
  exclusionFilters: ExclusionFilter[];
}

/** Repositories by name after `after`, at most `limit`. */
export async function listRepositories(db: Database, after: string | null, limit: number): Promise<RepositoryRow[]> {
  return db
    .select()
    .from(repositories)
    .where(after === null ? undefined : gt(repositories.name, after))
    .orderBy(asc(repositories.name))
    .limit(limit);
}

export async function findRepositories(db: Database, names: readonly string[]): Promise<RepositoryRow[]> {
  if (names.length === 0) return [];
  return db.select().from(repositories).where(inList(repositories.name, names));
}

export async function setScanOnPush(db: Database, name: string, scanOnPush: boolean): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({ scanOnPush })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}
