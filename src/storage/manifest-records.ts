/**
 * D1 access to manifests and tags. Reads are used on the pull path; the writes are the
 * repository's Durable Object's (./repository-writes.ts), which serializes them, except the
 * pull counters (addPulls), which only ever grow, and a cached tag's validation time.
 */
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { manifests, repositories, tags, type TagMutability } from "./schema";
import { inList, type Database } from "./database";

/** What a manifest GET needs: one row, found by digest or by tag in one query. */
export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
  body: string | null;
  subject: string | null;
}

const storedManifestColumns = {
  digest: manifests.digest,
  mediaType: manifests.mediaType,
  size: manifests.size,
  body: manifests.body,
  subject: manifests.subject,
};

export async function findManifestByDigest(
  db: Database,
  repository: string,
  digest: string,
): Promise<StoredManifest | undefined> {
  return db
    .select(storedManifestColumns)
    .from(manifests)
    .where(and(eq(manifests.repository, repository), eq(manifests.digest, digest)))
    .get();
}

/**
 * A manifest found by tag, with when the tag last moved and when a pull-through cache last
 * confirmed it (null if pushed).
 */
export interface TaggedManifest extends StoredManifest {
  updatedAt: number;
  validatedAt: number | null;
}

export async function findManifestByTag(
  db: Database,
  repository: string,
  tag: string,
): Promise<TaggedManifest | undefined> {
  return db
    .select({ ...storedManifestColumns, updatedAt: tags.updatedAt, validatedAt: tags.validatedAt })
    .from(tags)
    .innerJoin(manifests, and(eq(manifests.repository, tags.repository), eq(manifests.digest, tags.digest)))
    .where(and(eq(tags.repository, repository), eq(tags.tag, tag)))
    .get();
}

/** Which of `digests` exist as manifests in the repository. */
export async function findManifestDigests(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Set<string>> {
  if (digests.length === 0) return new Set();
  const rows = await db.all<{ digest: string }>(sql`
    SELECT digest FROM manifests
    WHERE repository = ${repository} AND ${inList(sql`digest`, digests)}`);
  return new Set(rows.map((row) => row.digest));
}

/** Sizes of what a pushed manifest references, as stored in the repository, by digest. */
export interface ReferenceSizes {
  blobs: Map<string, number>;
  manifests: Map<string, number>;
}

/**
 * The push's reference check: which of `blobDigests` the repository links and which of
 * `manifestDigests` it holds, with their sizes. One query for both.
 */
export async function findReferenceSizes(
  db: Database,
  repository: string,
  blobDigests: readonly string[],
  manifestDigests: readonly string[],
): Promise<ReferenceSizes> {
  const found: ReferenceSizes = { blobs: new Map(), manifests: new Map() };
  if (blobDigests.length === 0 && manifestDigests.length === 0) return found;
  const rows = await db.all<{ kind: "blob" | "manifest"; digest: string; size: number }>(sql`
    SELECT 'blob' AS kind, digest, size FROM repository_blobs
    WHERE repository = ${repository} AND ${inList(sql`digest`, blobDigests)}
    UNION ALL
    SELECT 'manifest' AS kind, digest, size FROM manifests
    WHERE repository = ${repository} AND ${inList(sql`digest`, manifestDigests)}`);
  for (const row of rows) (row.kind === "blob" ? found.blobs : found.manifests).set(row.digest, row.size);
  return found;
}

export interface TagPage {
  repositoryExists: boolean;
  tags: string[];
}

/** Tags after `last` in lexical order, at most `limit`; one round trip. */
export async function listTags(db: Database, repository: string, last: string | null, limit: number): Promise<TagPage> {
  const [repositoryRows, tagRows] = await db.batch([
    db.select({ name: repositories.name }).from(repositories).where(eq(repositories.name, repository)),
    db
      .select({ tag: tags.tag })
      .from(tags)
      .where(and(eq(tags.repository, repository), last === null ? undefined : gt(tags.tag, last)))
      .orderBy(asc(tags.tag))
      .limit(limit),
  ]);
  return { repositoryExists: repositoryRows.length > 0, tags: tagRows.map((row) => row.tag) };
}

export interface ReferrerRow {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  annotations: string | null;
}

/** Manifests whose subject is `subject`, ordered by digest, after `last`, at most `limit`. */
export async function listReferrers(
  db: Database,
  repository: string,
  subject: string,
  artifactType: string | null,
  last: string | null,
  limit: number,
): Promise<ReferrerRow[]> {
  return db
    .select({
      digest: manifests.digest,
      mediaType: manifests.mediaType,
      size: manifests.size,
      artifactType: manifests.artifactType,
      annotations: manifests.annotations,
    })
    .from(manifests)
    .where(
      and(
        eq(manifests.repository, repository),
        eq(manifests.subject, subject),
        artifactType === null ? undefined : eq(manifests.artifactType, artifactType),
        last === null ? undefined : gt(manifests.digest, last),
      ),
    )
    .orderBy(asc(manifests.digest))
    .limit(limit);
}

/** The row a manifest PUT writes. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  body: string | null;
  artifactType: string | null;
  subject: string | null;
  annotations: string | null;
  blobDigests: string[];
  childDigests: string[];
  /** Config plus layer sizes of an image manifest; null for an index. */
  imageSize: number | null;
}

export interface TagState {
  mutability: TagMutability;
  /** The repository's exclusion filters, as stored (JSON; src/repository/tag-mutability.ts reads it). */
  exclusionFilters: string;
  /** Digest the tag points at now, or null. */
  currentDigest: string | null;
}

/** Null when the repository does not exist. */
export async function readTagState(db: Database, repository: string, tag: string): Promise<TagState | null> {
  const row = await db
    .select({
      mutability: repositories.imageTagMutability,
      exclusionFilters: repositories.imageTagMutabilityExclusionFilters,
      digest: tags.digest,
    })
    .from(repositories)
    .leftJoin(tags, and(eq(tags.repository, repositories.name), eq(tags.tag, tag)))
    .where(eq(repositories.name, repository))
    .get();
  return row ? { mutability: row.mutability, exclusionFilters: row.exclusionFilters, currentDigest: row.digest } : null;
}

/**
 * Marks a cached tag as confirmed against its upstream at `now`, if it still points at
 * `digest` (a concurrent move wins). Not serialized by the repository object: it never moves a tag.
 */
export async function markTagValidated(
  db: Database,
  repository: string,
  tag: string,
  digest: string,
  now: number,
): Promise<void> {
  await db
    .update(tags)
    .set({ validatedAt: now })
    .where(and(eq(tags.repository, repository), eq(tags.tag, tag), eq(tags.digest, digest)));
}

/** Pulls of one manifest counted since the last write. */
export interface PullTally {
  repository: string;
  digest: string;
  /** Time of the latest pull (ms). */
  last: number;
  count: number;
}

/**
 * Adds counted pulls to their manifests in one D1 batch. The one write not made by the
 * repository's object: counters only ever grow, so concurrent writers cannot lose each other's.
 */
export async function addPulls(db: Database, tallies: readonly PullTally[]): Promise<void> {
  const [first, ...rest] = tallies.map((tally) =>
    db
      .update(manifests)
      .set({
        lastPulledAt: sql`max(coalesce(${manifests.lastPulledAt}, 0), ${tally.last})`,
        pullCount: sql`${manifests.pullCount} + ${tally.count}`,
      })
      .where(and(eq(manifests.repository, tally.repository), eq(manifests.digest, tally.digest))),
  );
  if (first === undefined) return;
  await db.batch([first, ...rest]);
}
