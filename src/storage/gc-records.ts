/**
 * D1 side of garbage collection (src/gc/collect.ts): which object keys links still reference,
 * and the marks, claims and tombstones of objects being collected.
 */
import { sql } from "drizzle-orm";
import { inList, type Database } from "./database";
import { manifests, repositoryBlobs } from "./schema";

/** The keys among `keys` that some link references. One query (json_each keeps it at one parameter). */
export async function linkedObjectKeys(db: Database, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db.all<{ key: string }>(sql`
    SELECT DISTINCT object_key AS key FROM repository_blobs
    WHERE ${inList(sql`object_key`, keys)}`);
  return new Set(rows.map((row) => row.key));
}

/**
 * The digests among `digests` that some repository still references: as a linked blob, or as a
 * stored manifest (a manifest too large for its row lives in R2). Two indexed queries in one batch.
 */
export async function referencedDigests(db: Database, digests: readonly string[]): Promise<Set<string>> {
  if (digests.length === 0) return new Set();
  const [blobs, stored] = await db.batch([
    db
      .selectDistinct({ digest: repositoryBlobs.digest })
      .from(repositoryBlobs)
      .where(inList(repositoryBlobs.digest, digests)),
    db.selectDistinct({ digest: manifests.digest }).from(manifests).where(inList(manifests.digest, digests)),
  ]);
  return new Set([...blobs, ...stored].map((row) => row.digest));
}

/**
 * Marks unlinked objects (keeping an existing mark) and returns how many marks are new; drops
 * the marks of objects linked again. An object written again after it was deleted (its
 * `uploaded` is newer than the tombstone) is marked afresh: its key holds the same bytes, so a
 * link the tombstone was refusing could only point at this new, present copy.
 */
export async function markObjects(
  db: Database,
  unlinked: readonly { key: string; size: number; uploaded: number }[],
  relinked: readonly string[],
  now: number,
): Promise<number> {
  let marked = 0;
  if (unlinked.length > 0) {
    const rows = JSON.stringify(unlinked);
    await db.run(sql`
      DELETE FROM gc_objects WHERE state = 'deleted' AND object_key IN (
        SELECT json_extract(value, '$.key') FROM json_each(${rows}) WHERE json_extract(value, '$.uploaded') > gc_objects.changed_at)`);
    const inserted = await db.all<{ key: string }>(sql`
      INSERT INTO gc_objects (object_key, state, marked_at, changed_at, size)
      SELECT json_extract(value, '$.key'), 'marked', ${now}, ${now}, json_extract(value, '$.size') FROM json_each(${rows})
      WHERE true
      ON CONFLICT (object_key) DO NOTHING
      RETURNING object_key AS key`);
    marked = inserted.length;
  }
  if (relinked.length > 0) {
    await db.run(sql`
      DELETE FROM gc_objects WHERE state = 'marked' AND ${inList(sql`object_key`, relinked)}`);
  }
  return marked;
}

/**
 * Claims up to `limit` objects for deletion in one statement: marked at or before
 * `markedBefore` and still referenced by no link (or claimed by a collector that stopped
 * before `staleClaimBefore`). A link write checks claims (blob-links.ts), so from here on no
 * new link can reference them.
 */
export async function claimObjects(
  db: Database,
  markedBefore: number,
  staleClaimBefore: number,
  now: number,
  limit: number,
): Promise<{ key: string; size: number }[]> {
  return db.all<{ key: string; size: number }>(sql`
    UPDATE gc_objects SET state = 'claimed', changed_at = ${now}
    WHERE object_key IN (
      SELECT g.object_key FROM gc_objects g
      WHERE ((g.state = 'marked' AND g.marked_at <= ${markedBefore}) OR (g.state = 'claimed' AND g.changed_at < ${staleClaimBefore}))
        AND NOT EXISTS (SELECT 1 FROM repository_blobs r WHERE r.object_key = g.object_key)
      LIMIT ${limit})
    RETURNING object_key AS key, size`);
}

/** Turns claims into tombstones once their objects are deleted from R2. */
export async function markDeleted(db: Database, keys: readonly string[], now: number): Promise<void> {
  if (keys.length === 0) return;
  await db.run(sql`
    UPDATE gc_objects SET state = 'deleted', changed_at = ${now}
    WHERE state = 'claimed' AND ${inList(sql`object_key`, keys)}`);
}

/** Forgets tombstones older than `before`: no request that began before them is still running. */
export async function purgeTombstones(db: Database, before: number): Promise<void> {
  await db.run(sql`DELETE FROM gc_objects WHERE state = 'deleted' AND changed_at < ${before}`);
}
