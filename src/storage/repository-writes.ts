/**
 * The writes of a repository's tags, manifests and repository row that only its Durable Object
 * (src/repository/repository-object.ts) may make: it serializes them per repository, so tag
 * immutability, a push's reference check, an image deletion and a blob unlink are each decided
 * and written without a concurrent write in between. A dependency rule (.dependency-cruiser.cjs)
 * lets no other module import this one. The writes made elsewhere, by design, stay with their
 * readers: pull counts (manifest-records addPulls), a pull-through tag's validation time
 * (markTagValidated), blob links (blob-links linkBlob, mountBlob) and the repository settings
 * the ECR actions set (policy, tags, scan on push, lifecycle policy).
 */
import { and, eq, not, sql } from "drizzle-orm";
import type { EventEnvelope } from "../events/envelope";
import type { Database } from "./database";
import { insertEvents, insertEventWhere } from "./event-records";
import type { ManifestRecord } from "./manifest-records";
import type { ReplicationTarget } from "./replication-records";
import { findRepository, type ExclusionFilter, type TagMutabilitySetting } from "./repository-records";
import {
  manifests,
  replicationItems,
  repositories,
  tags,
  type EncryptionType,
  type RepositoryRow,
  type TagMutability,
} from "./schema";

// Repository rows.

/** A repository as a push, replication or a pull-through cache creates it (from its creation template). */
export interface CreatedRepository {
  name: string;
  imageTagMutability: TagMutability;
  imageTagMutabilityExclusionFilters: ExclusionFilter[];
  policy: string | null;
  lifecyclePolicy: string | null;
  tags: Record<string, string>;
  encryptionType: EncryptionType;
  kmsKey: string | null;
  createdAt: number;
}

/** Creates the repository with these settings if it does not exist (an existing one is left as it is). */
export async function insertRepositoryIfAbsent(db: Database, repository: CreatedRepository): Promise<void> {
  await db
    .insert(repositories)
    .values({
      ...repository,
      imageTagMutabilityExclusionFilters: JSON.stringify(repository.imageTagMutabilityExclusionFilters),
    })
    .onConflictDoNothing();
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

/** Sets the tag mutability and its exclusion filters (`[]` for MUTABLE and IMMUTABLE) together. */
export async function setTagMutability(db: Database, name: string, setting: TagMutabilitySetting): Promise<boolean> {
  const updated = await db
    .update(repositories)
    .set({
      imageTagMutability: setting.mutability,
      imageTagMutabilityExclusionFilters: JSON.stringify(setting.exclusionFilters),
    })
    .where(eq(repositories.name, name))
    .returning({ name: repositories.name });
  return updated.length > 0;
}

export type DeleteRepositoryResult =
  { status: "deleted"; row: RepositoryRow } | { status: "not-found" } | { status: "not-empty" };

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

// Manifests and tags.

/** How a manifest write is recorded besides the row and the tag. */
export interface ManifestWriteOptions {
  /**
   * A pull-through cache wrote the tag from its upstream just now: the tag is marked validated
   * (pushed tags have no validation time).
   */
  validated?: boolean;
  /** The push's replication destinations: one work item each, if the push changed anything. */
  replicateTo?: readonly ReplicationTarget[];
  /** The events the push reports (src/events/), recorded in the same batch. */
  events?: readonly EventEnvelope[];
}

/**
 * Inserts the manifest (kept if already present) and points the tag at it, atomically, with
 * the push's replication work in the same batch: a push that is answered is never missed by
 * replication, even if the Worker dies right after. True when the manifest row is new.
 */
export async function writeManifest(
  db: Database,
  repository: string,
  record: ManifestRecord,
  tag: string | null,
  now: number,
  options: ManifestWriteOptions = {},
): Promise<boolean> {
  const { validated = false, replicateTo = [], events = [] } = options;
  // First in the batch, so it sees the tag and manifest as they were before this push.
  const work = replicateTo.length === 0 ? null : replicationWork(db, repository, record.digest, tag, replicateTo, now);
  const insertManifest = db
    .insert(manifests)
    .values({
      repository,
      digest: record.digest,
      mediaType: record.mediaType,
      size: record.size,
      body: record.body,
      artifactType: record.artifactType,
      subject: record.subject,
      annotations: record.annotations,
      blobDigests: record.blobDigests,
      childDigests: record.childDigests,
      pushedAt: now,
      imageSize: record.imageSize,
    })
    .onConflictDoNothing()
    .returning({ digest: manifests.digest });
  const validatedAt = validated ? now : null;
  const upsertTag =
    tag === null
      ? null
      : db
          .insert(tags)
          .values({ repository, tag, digest: record.digest, updatedAt: now, validatedAt })
          .onConflictDoUpdate({
            target: [tags.repository, tags.tag],
            set: { digest: record.digest, updatedAt: now, validatedAt },
          });
  const recordEvents = insertEvents(db, events);
  const rest = [upsertTag, recordEvents].filter((statement) => statement !== null);
  if (work === null && rest.length === 0) return (await insertManifest).length > 0;
  const results = await (work === null
    ? db.batch([insertManifest, ...rest])
    : db.batch([work, insertManifest, ...rest]));
  const inserted = results[work === null ? 0 : 1] as readonly unknown[];
  return inserted.length > 0;
}

/**
 * One IN_PROGRESS item per destination, unless the push changes nothing: a tagged push whose
 * tag already names the digest, or a push by digest of a manifest already stored.
 */
function replicationWork(
  db: Database,
  repository: string,
  digest: string,
  tag: string | null,
  targets: readonly ReplicationTarget[],
  now: number,
) {
  const changes =
    tag === null
      ? sql`NOT EXISTS (SELECT 1 FROM manifests WHERE repository = ${repository} AND digest = ${digest})`
      : sql`NOT EXISTS (SELECT 1 FROM tags WHERE repository = ${repository} AND tag = ${tag} AND digest = ${digest})`;
  // Every column in the table's order (drizzle inserts a SELECT into all of them); id is assigned.
  return db.insert(replicationItems).select(sql`
    SELECT NULL, ${repository}, ${digest}, ${tag}, json_extract(value, '$.registryId'), json_extract(value, '$.region'),
      'IN_PROGRESS', NULL, 0, ${now}, ${now}, ${now}
    FROM json_each(${JSON.stringify(targets.map(({ registryId, region }) => ({ registryId, region })))})
    WHERE ${changes}`);
}

/** Deletes the tag, with the event reporting it (its digest read as the batch runs) when given. */
export async function deleteTag(
  db: Database,
  repository: string,
  tag: string,
  event: EventEnvelope | null = null,
): Promise<boolean> {
  const remove = db
    .delete(tags)
    .where(and(eq(tags.repository, repository), eq(tags.tag, tag)))
    .returning({ tag: tags.tag });
  if (event === null) return (await remove).length > 0;
  const tagged = sql`SELECT digest FROM tags WHERE repository = ${repository} AND tag = ${tag}`;
  const [, removed] = await db.batch([
    insertEventWhere(db, event, sql`EXISTS (${tagged})`, { digest: tagged }),
    remove,
  ]);
  return removed.length > 0;
}

/**
 * Deletes the manifest and its tags (one batch, one round trip); the tags removed with it, or
 * null when the repository has no such manifest (and nothing was deleted).
 */
export async function deleteManifest(
  db: Database,
  repository: string,
  digest: string,
  event: EventEnvelope | null = null,
): Promise<string[] | null> {
  const removeTags = db
    .delete(tags)
    .where(and(eq(tags.repository, repository), eq(tags.digest, digest)))
    .returning({ tag: tags.tag });
  const removeManifest = db
    .delete(manifests)
    .where(and(eq(manifests.repository, repository), eq(manifests.digest, digest)))
    .returning({ digest: manifests.digest });
  // The event first in the batch, so it sees whether the manifest exists before the delete.
  const stored = sql`EXISTS (SELECT 1 FROM manifests WHERE repository = ${repository} AND digest = ${digest})`;
  const [removedTags, removed] =
    event === null
      ? await db.batch([removeTags, removeManifest])
      : ((await db.batch([insertEventWhere(db, event, stored), removeTags, removeManifest])).slice(1) as [
          { tag: string }[],
          { digest: string }[],
        ]);
  return removed.length > 0 ? removedTags.map((row) => row.tag) : null;
}

/** Deletes tags and manifests (a manifest's tags go with it) in one batch. */
export async function deleteImageRows(
  db: Database,
  repository: string,
  digests: readonly string[],
  tagNames: readonly string[],
  events: readonly EventEnvelope[] = [],
): Promise<void> {
  const recordEvents = insertEvents(db, events);
  // json_each keeps each statement at two bound parameters, whatever the list's length.
  const statements = [
    ...(tagNames.length === 0
      ? []
      : [
          db
            .delete(tags)
            .where(
              sql`${tags.repository} = ${repository} AND ${tags.tag} IN (SELECT value FROM json_each(${JSON.stringify(tagNames)}))`,
            ),
        ]),
    ...(digests.length === 0
      ? []
      : [
          db
            .delete(manifests)
            .where(
              sql`${manifests.repository} = ${repository} AND ${manifests.digest} IN (SELECT value FROM json_each(${JSON.stringify(digests)}))`,
            ),
        ]),
  ];
  const [first, ...rest] = statements;
  if (first === undefined) return;
  await db.batch(recordEvents === null ? [first, ...rest] : [first, ...rest, recordEvents]);
}

// Blob links.

export interface CollectedLink {
  digest: string;
  objectKey: string;
  size: number;
}

/**
 * Deletes the repository's links that none of its manifests references (as config or layer)
 * and that were made before `linkedBefore`. One statement.
 */
export async function collectUnreferencedLinks(
  db: Database,
  repository: string,
  linkedBefore: number,
): Promise<CollectedLink[]> {
  return db.all<CollectedLink>(sql`
    DELETE FROM repository_blobs
    WHERE repository = ${repository} AND linked_at < ${linkedBefore}
      AND digest NOT IN (SELECT j.value FROM manifests m, json_each(m.blob_digests) j WHERE m.repository = ${repository})
    RETURNING digest, object_key AS objectKey, size`);
}

export type UnlinkResult =
  | { status: "unlinked" }
  | { status: "unknown" }
  /** Manifests of the repository list the blob (as config or layer): the link stays. */
  | { status: "referenced"; manifests: string[]; total: number };

/** How many referencing manifests an UnlinkResult names. */
const REFERENCING_NAMED = 3;

/**
 * Removes the repository's link to `digest` unless one of its manifests references the blob.
 * The success path is one guarded statement; a refusal costs one more read, which names the
 * referencing manifests. The caller must serialize this with manifest writes (the
 * repository's object does), or a push could check the link just before it goes.
 */
export async function unlinkUnreferencedBlob(db: Database, repository: string, digest: string): Promise<UnlinkResult> {
  const removed = await db.all<{ digest: string }>(sql`
    DELETE FROM repository_blobs
    WHERE repository = ${repository} AND digest = ${digest}
      AND NOT EXISTS (SELECT 1 FROM manifests m, json_each(m.blob_digests) j WHERE m.repository = ${repository} AND j.value = ${digest})
    RETURNING digest`);
  if (removed.length > 0) return { status: "unlinked" };
  const rows = await db.all<{ digest: string; total: number }>(sql`
    SELECT m.digest, count(*) OVER () AS total FROM manifests m
    WHERE m.repository = ${repository}
      AND EXISTS (SELECT 1 FROM json_each(m.blob_digests) j WHERE j.value = ${digest})
      AND EXISTS (SELECT 1 FROM repository_blobs b WHERE b.repository = ${repository} AND b.digest = ${digest})
    ORDER BY m.digest LIMIT ${REFERENCING_NAMED}`);
  if (rows.length === 0) return { status: "unknown" };
  return { status: "referenced", manifests: rows.map((row) => row.digest), total: rows[0]!.total };
}
