/**
 * D1 access to per-repository blob links: a repository may serve a digest only while a link
 * row exists, and the row names the R2 object holding the bytes.
 */
import { and, eq, sql, type SQL } from "drizzle-orm";
import { repositoryBlobs } from "./schema";
import { inList, type Database } from "./database";

export interface BlobLocation {
  size: number;
  objectKey: string;
}

/** The one query of a blob GET or HEAD. */
export async function findBlobLink(
  db: Database,
  repository: string,
  digest: string,
): Promise<BlobLocation | undefined> {
  return db
    .select({ size: repositoryBlobs.size, objectKey: repositoryBlobs.objectKey })
    .from(repositoryBlobs)
    .where(and(eq(repositoryBlobs.repository, repository), eq(repositoryBlobs.digest, digest)))
    .get();
}

/** Any existing object for a digest, in any repository (deduplicates chunked uploads). */
export async function findBlobObject(db: Database, digest: string): Promise<BlobLocation | undefined> {
  return db
    .select({ size: repositoryBlobs.size, objectKey: repositoryBlobs.objectKey })
    .from(repositoryBlobs)
    .where(eq(repositoryBlobs.digest, digest))
    .limit(1)
    .get();
}

/**
 * Garbage collection's guard on every new link (src/gc/collect.ts): an object that collection
 * has claimed, or deleted at or after `since` (when the linking request began, so before it
 * wrote or looked up the object), must not be linked.
 */
function collectedSince(objectKey: SQL | string, since: number): SQL {
  return sql`EXISTS (SELECT 1 FROM gc_objects g WHERE g.object_key = ${objectKey}
    AND (g.state = 'claimed' OR (g.state = 'deleted' AND g.changed_at >= ${since})))`;
}

export type LinkResult = "linked" | "exists" | "collected";

/**
 * Links a digest into a repository; keeps an existing link. One write statement (a second
 * read only when nothing was inserted). "collected" when garbage collection has taken the
 * object: the caller must store the bytes again.
 */
export async function linkBlob(
  db: Database,
  repository: string,
  digest: string,
  location: BlobLocation,
  now: number,
  since: number,
): Promise<LinkResult> {
  const inserted = await db.all<{ digest: string }>(sql`
    INSERT INTO repository_blobs (repository, digest, size, object_key, linked_at)
    SELECT ${repository}, ${digest}, ${location.size}, ${location.objectKey}, ${now}
    WHERE NOT ${collectedSince(location.objectKey, since)}
    ON CONFLICT (repository, digest) DO NOTHING
    RETURNING digest`);
  if (inserted.length > 0) return "linked";
  return (await findBlobLink(db, repository, digest)) ? "exists" : "collected";
}

/**
 * Links `digest` into `repository` if `from` links it (cross-repository mount) and garbage
 * collection has not taken its object. One statement; true when the blob is linked in
 * `repository` afterwards.
 */
export async function mountBlob(
  db: Database,
  repository: string,
  from: string,
  digest: string,
  now: number,
  since: number,
): Promise<boolean> {
  const rows = await db.all<{ digest: string }>(sql`
    INSERT INTO repository_blobs (repository, digest, size, object_key, linked_at)
    SELECT ${repository}, digest, size, object_key, ${now} FROM repository_blobs r
    WHERE r.repository = ${from} AND r.digest = ${digest} AND NOT ${collectedSince(sql`r.object_key`, since)}
    ON CONFLICT (repository, digest) DO UPDATE SET linked_at = linked_at
    RETURNING digest`);
  return rows.length > 0;
}

/** The links of `digests` in the repository that has them, by digest. One query. */
export async function findBlobLinks(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, BlobLocation>> {
  if (digests.length === 0) return new Map();
  const rows = await db.all<{ digest: string; size: number; object_key: string }>(sql`
    SELECT digest, size, object_key FROM repository_blobs
    WHERE repository = ${repository} AND ${inList(sql`digest`, digests)}`);
  return new Map(rows.map((row) => [row.digest, { size: row.size, objectKey: row.object_key }]));
}

/** Which of `digests` the repository links. */
export async function findLinkedDigests(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Set<string>> {
  return new Set((await findBlobLinks(db, repository, digests)).keys());
}

/** Bytes and blobs linked by each repository, largest first. */
export async function storageByRepository(
  db: Database,
): Promise<{ repository: string; blobs: number; bytes: number }[]> {
  return db
    .select({
      repository: repositoryBlobs.repository,
      blobs: sql<number>`count(*)`,
      bytes: sql<number>`coalesce(sum(${repositoryBlobs.size}), 0)`,
    })
    .from(repositoryBlobs)
    .groupBy(repositoryBlobs.repository)
    .orderBy(sql`3 desc`);
}
