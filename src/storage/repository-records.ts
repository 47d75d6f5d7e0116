/**
 * D1 access to repository rows.
 */
import { and, asc, eq, gt, not, sql } from "drizzle-orm";
import { inList, type Database } from "./database";
import { manifests, repositories, type EncryptionType, type RepositoryRow, type TagMutability } from "./schema";

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
  const updated = await db.update(repositories).set({ policy }).where(eq(repositories.name, name)).returning({ name: repositories.name });
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

/** Sets the tag mutability and its exclusion filters (`[]` for MUTABLE and IMMUTABLE) together. */
export async function setTagMutability(db: Database, name: string, setting: TagMutabilitySetting): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({ imageTagMutability: setting.mutability, imageTagMutabilityExclusionFilters: JSON.stringify(setting.exclusionFilters) })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}


/** A repository as CreateRepository makes it. */
export interface NewRepository {
  name: string;
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusionFilters: ExclusionFilter[];
  scanOnPush: boolean;
  encryptionType: EncryptionType;
  kmsKey: string | null;
  tags: Record<string, string>;
  createdAt: number;
}

/** Inserts the repository with all its settings in one statement; false if it exists. */
export async function insertRepository(db: Database, repository: NewRepository): Promise<boolean> {
  const inserted = await db
    .insert(repositories)
    .values({
      ...repository,
      imageTagMutabilityExclusionFilters: JSON.stringify(repository.imageTagMutabilityExclusionFilters),
    })
    .onConflictDoNothing()
    .returning({ name: repositories.name });
  return inserted.length > 0;
}

export type DeleteRepositoryResult = { status: "deleted"; row: RepositoryRow } | { status: "not-found" } | { status: "not-empty" };

/**
 * Deletes the repository and, through foreign keys, its manifests, tags and blob links; unless
 * `force`, only when it holds no manifest (decided in the same statement).
 */
export async function deleteRepositoryRow(db: Database, name: string, force: boolean): Promise<DeleteRepositoryResult> {
  const holdsImages = sql`exists (select 1 from ${manifests} where ${manifests.repository} = ${name})`;
  const removed = await db
    .delete(repositories)
    .where(and(eq(repositories.name, name), force ? undefined : not(holdsImages)))
    .returning();
  const row = removed[0];
  if (row) return { status: "deleted", row };
  return (await findRepository(db, name)) ? { status: "not-empty" } : { status: "not-found" };
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
  const updated = await db.update(repositories).set({ scanOnPush }).where(eq(repositories.name, name)).returning({ name: repositories.name });
  return updated.length > 0;
}
