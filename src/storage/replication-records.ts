/**
 * D1 access to replication work (the replication_items table, src/storage/schema.ts): what the
 * status action and the admin view read, and the replication cron's claims and outcomes. The
 * rows are written with the manifest, by the repository's Durable Object
 * (./repository-writes.ts), and drained by the replication cron (src/replication/run.ts).
 */
import type { EventEnvelope } from "../events/envelope";
import { and, asc, eq, sql } from "drizzle-orm";
import { inList, jsonStrings, type Database } from "./database";
import { insertEvents } from "./event-records";
import { replicationItems } from "./schema";

/** Where a pushed image is to be copied: a replica region of this registry, or another registry. */
export interface ReplicationTarget {
  registryId: string;
  region: string;
}

export interface ReplicationStatusRow {
  registryId: string;
  region: string;
  status: "IN_PROGRESS" | "COMPLETE" | "FAILED";
  failureCode: string | null;
}

/** The image's replication to each destination, in the order the work was recorded. */
export async function findReplicationStatuses(
  db: Database,
  repository: string,
  digest: string,
): Promise<ReplicationStatusRow[]> {
  return db
    .select({
      registryId: replicationItems.registryId,
      region: replicationItems.region,
      status: replicationItems.status,
      failureCode: replicationItems.failureCode,
    })
    .from(replicationItems)
    .where(and(eq(replicationItems.repository, repository), eq(replicationItems.digest, digest)))
    .orderBy(asc(replicationItems.id));
}

/** An item of replication work as the cron takes it. */
export interface ReplicationItem {
  id: number;
  repository: string;
  digest: string;
  tag: string | null;
  registryId: string;
  region: string;
  attempts: number;
  createdAt: number;
}

/**
 * Takes up to `limit` items that are due, oldest due first, by moving their next attempt to
 * `leaseUntil` in the same statement: a run that stops mid-way leaves its items to be taken
 * again once the lease ends, and two runs at once never take the same item.
 */
export async function claimDueItems(
  db: Database,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<ReplicationItem[]> {
  const rows = await db.all<ReplicationItem>(sql`
    UPDATE replication_items SET next_attempt_at = ${leaseUntil}, updated_at = ${now}
    WHERE id IN (
      SELECT id FROM replication_items
      WHERE status = 'IN_PROGRESS' AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at, id LIMIT ${limit})
    RETURNING id, repository, digest, tag, registry_id AS registryId, region, attempts, created_at AS createdAt`);
  return rows.sort((a, b) => a.id - b.id);
}

/** What became of an item after an attempt. */
export type ItemSettlement =
  | { id: number; status: "COMPLETE"; attempts: number }
  | { id: number; status: "IN_PROGRESS"; attempts: number; nextAttemptAt: number; failureCode: string }
  | { id: number; status: "FAILED"; attempts: number; failureCode: string };

/**
 * Records an item's outcome (an IN_PROGRESS one keeps its last failure code for the admin view),
 * with the event reporting a final one in the same batch.
 */
export async function settleItem(
  db: Database,
  settlement: ItemSettlement,
  now: number,
  event: EventEnvelope | null = null,
): Promise<void> {
  const update = db
    .update(replicationItems)
    .set({
      status: settlement.status,
      attempts: settlement.attempts,
      failureCode: settlement.status === "COMPLETE" ? null : settlement.failureCode,
      ...(settlement.status === "IN_PROGRESS" ? { nextAttemptAt: settlement.nextAttemptAt } : {}),
      updatedAt: now,
    })
    .where(eq(replicationItems.id, settlement.id));
  const recordEvent = insertEvents(db, event === null ? [] : [event]);
  if (recordEvent === null) await update;
  else await db.batch([update, recordEvent]);
}

/** Gives claimed items back untouched (the run's budget ran out before it reached them). */
export async function releaseItems(db: Database, ids: readonly number[], dueAt: number): Promise<void> {
  if (ids.length === 0) return;
  await db.run(sql`
    UPDATE replication_items SET next_attempt_at = ${dueAt}
    WHERE status = 'IN_PROGRESS' AND id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`);
}

/** A manifest to copy, with what it references. */
export interface ManifestContent {
  digest: string;
  mediaType: string;
  size: number;
  /** The manifest's text, or null when it is kept in R2 (manifests/<alg>/<hex>). */
  body: string | null;
  subject: string | null;
  blobDigests: string[];
  childDigests: string[];
}

/**
 * The repository's manifests among `digests` (an image and, for an index, its children: the
 * caller asks again for the next level). One query.
 */
export async function findManifestContents(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, ManifestContent>> {
  if (digests.length === 0) return new Map();
  const rows = await db.all<{
    digest: string;
    mediaType: string;
    size: number;
    body: string | null;
    subject: string | null;
    blobDigests: string;
    childDigests: string;
  }>(sql`
    SELECT digest, media_type AS mediaType, size, body, subject, blob_digests AS blobDigests, child_digests AS childDigests
    FROM manifests WHERE repository = ${repository} AND ${inList(sql`digest`, digests)}`);
  return new Map(
    rows.map((row) => [
      row.digest,
      { ...row, blobDigests: jsonStrings(row.blobDigests), childDigests: jsonStrings(row.childDigests) },
    ]),
  );
}

/** The backlog for the admin view: pending items, the oldest pending, and failures per destination. */
export interface ReplicationBacklog {
  pending: number;
  oldestPendingAt: number | null;
  destinations: {
    registryId: string;
    region: string;
    pending: number;
    complete: number;
    failed: number;
    /** Failed items by failure code. */
    failures: Record<string, number>;
    /** The newest failure code of an item still being retried, if any. */
    lastRetriedFailure: string | null;
  }[];
}

export async function replicationBacklog(db: Database): Promise<ReplicationBacklog> {
  const rows = await db.all<{
    registryId: string;
    region: string;
    status: string;
    failureCode: string | null;
    items: number;
    oldest: number;
    newest: number;
  }>(sql`
    SELECT registry_id AS registryId, region, status, failure_code AS failureCode, count(*) AS items,
      min(created_at) AS oldest, max(updated_at) AS newest
    FROM replication_items GROUP BY registry_id, region, status, failure_code ORDER BY registry_id, region`);
  const destinations = new Map<string, ReplicationBacklog["destinations"][number]>();
  let pending = 0;
  let oldestPendingAt: number | null = null;
  const retriedAt = new Map<string, number>();
  for (const row of rows) {
    const key = `${row.registryId}/${row.region}`;
    let entry = destinations.get(key);
    if (entry === undefined) {
      entry = {
        registryId: row.registryId,
        region: row.region,
        pending: 0,
        complete: 0,
        failed: 0,
        failures: {},
        lastRetriedFailure: null,
      };
      destinations.set(key, entry);
    }
    if (row.status === "IN_PROGRESS") {
      entry.pending += row.items;
      pending += row.items;
      oldestPendingAt = oldestPendingAt === null ? row.oldest : Math.min(oldestPendingAt, row.oldest);
      if (row.failureCode !== null && row.newest > (retriedAt.get(key) ?? -1)) {
        retriedAt.set(key, row.newest);
        entry.lastRetriedFailure = row.failureCode;
      }
    } else if (row.status === "COMPLETE") entry.complete += row.items;
    else {
      entry.failed += row.items;
      const code = row.failureCode ?? "UNKNOWN";
      entry.failures[code] = (entry.failures[code] ?? 0) + row.items;
    }
  }
  return { pending, oldestPendingAt, destinations: [...destinations.values()] };
}
