/**
 * Online garbage collection, on the cron trigger, safe while pushes, mounts and pulls go on.
 *
 * What is collected:
 *  1. Blob links (repository_blobs rows) that no manifest of their repository references and
 *     that are older than the grace period. Each repository's Durable Object removes them, in
 *     its serialized queue, and the same queue checks a manifest's links before writing it, so
 *     a manifest never lands referencing a link removed meanwhile (the push gets
 *     MANIFEST_BLOB_UNKNOWN and uploads again). The grace period lets a push upload its blobs
 *     before its manifest.
 *  2. R2 objects under `blobs/` that no link references.
 *  3. Objects of regional replica buckets whose content no repository references any more.
 *
 * The protocol for objects (a link may be written at any time by an upload that stored or
 * found the object, or by a mount):
 *  - Mark: a listing pass records objects that no link references and that are older than the
 *    grace period (`gc_objects`, state `marked`). Objects of upload sessions
 *    (`blobs/assembled/<session>`) must also be older than a session's lifetime, since they stay
 *    unlinked while their session is open.
 *  - Claim: one D1 statement turns marks made at least a grace period ago into `claimed`, for
 *    objects that still no link references. Every link write is a single guarded statement
 *    that refuses an object that is claimed, or that was deleted at or after the moment the
 *    linking request began (it might have written or looked up the object before the delete).
 *    So once claimed, an object gains no new link; a push that loses the race is told to upload
 *    again and writes a fresh object.
 *  - Delete the claimed objects from R2, then record them as `deleted` (a tombstone, kept for a
 *    day: longer than any request runs). A collector that stops between claim and delete leaves
 *    claims that the next run takes over once they are an hour old. An object written again
 *    under a tombstoned key (keys are content addresses: the same bytes) is marked afresh.
 * A just-finished upload is never collected: its object is younger than the grace period, and
 * its link is written in the same request that stored it.
 *
 * Every run is bounded: link collection visits repositories from a cursor, the listing resumes
 * from R2's cursor, and each step handles at most a page; `gcCursor` and `gcListCursor` in
 * registry settings carry on where the last run stopped.
 */
import { repositoryObject } from "../repository/stub";
import { database, type Database } from "../storage/database";
import {
  claimObjects,
  linkedObjectKeys,
  markDeleted,
  markObjects,
  purgeTombstones,
  referencedDigests,
} from "../storage/gc-records";
import { digestOfContentKey } from "../storage/keys";
import { recordAuditEvents } from "../storage/audit-records";
import { deleteRegistrySetting, findRegistrySetting, putRegistrySetting } from "../storage/registry-settings";
import { listRepositories } from "../storage/repository-records";
import { UPLOAD_SESSION_TTL_MS } from "../repository/upload-session";

export const GC_ACTOR = "garbage-collector";
const LINK_CURSOR = "gcCursor";
const LIST_CURSOR = "gcListCursor";
const LAST_RUN = "gcLastRun";
const REPLICA_CURSOR_PREFIX = "gcReplicaCursor:";
const BLOB_PREFIX = "blobs/";
const SESSION_OBJECT_PREFIX = "blobs/assembled/";
const REPOSITORY_PAGE = 100;
const LIST_PAGE = 1000;
const CLAIM_PAGE = 1000;
const STALE_CLAIM_MS = 60 * 60 * 1000;
const TOMBSTONE_MS = 24 * 60 * 60 * 1000;

export interface GcOptions {
  /** How old an unreferenced link or object must be (Settings.gcGraceMs, GC_GRACE_SECONDS, unless overridden). */
  graceMs: number;
  /** Stop starting new pages after this long (ms). */
  budgetMs?: number;
  /** Regional replica buckets (REPLICA_REGIONS), swept after the home bucket. */
  replicas?: readonly { region: string; bucket: R2Bucket }[];
}

export interface GcReport {
  startedAt: number;
  durationMs: number;
  linksRemoved: number;
  objectsMarked: number;
  objectsDeleted: number;
  bytesReclaimed: number;
  /** Objects deleted from regional replica buckets (their bytes are in bytesReclaimed too). */
  replicaObjectsDeleted: number;
  /** True when both the repository sweep and the R2 listing reached their ends in this run. */
  sweepComplete: boolean;
}

/** Step 1: unreferenced links, repository by repository from the cursor. True at the end of the sweep. */
async function collectLinks(
  env: Env,
  db: Database,
  graceMs: number,
  over: () => boolean,
  report: GcReport,
): Promise<boolean> {
  let cursor = (await findRegistrySetting(db, LINK_CURSOR)) ?? null;
  for (;;) {
    const page = await listRepositories(db, cursor, REPOSITORY_PAGE);
    for (const repository of page) {
      if (over()) return false;
      const removed = await repositoryObject(env, repository.name).collectLinks(repository.name, Date.now() - graceMs);
      report.linksRemoved += removed.length;
      cursor = repository.name;
    }
    if (page.length < REPOSITORY_PAGE) {
      await deleteRegistrySetting(db, LINK_CURSOR);
      return true;
    }
    await putRegistrySetting(db, LINK_CURSOR, cursor ?? "", Date.now());
  }
}

/** Step 2: mark unreferenced objects, a listing page at a time. True at the end of the listing. */
async function markUnreferenced(
  env: Env,
  db: Database,
  graceMs: number,
  over: () => boolean,
  report: GcReport,
): Promise<boolean> {
  let cursor = await findRegistrySetting(db, LIST_CURSOR);
  for (;;) {
    if (over()) return false;
    const listing = await env.BLOBS.list({
      prefix: BLOB_PREFIX,
      limit: LIST_PAGE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    const linked = await linkedObjectKeys(
      db,
      listing.objects.map((object) => object.key),
    );
    const now = Date.now();
    const unlinked = listing.objects
      .filter((object) => !linked.has(object.key))
      .filter((object) => {
        const minimumAge = object.key.startsWith(SESSION_OBJECT_PREFIX) ? graceMs + UPLOAD_SESSION_TTL_MS : graceMs;
        return object.uploaded.getTime() <= now - minimumAge;
      })
      .map((object) => ({ key: object.key, size: object.size, uploaded: object.uploaded.getTime() }));
    report.objectsMarked += await markObjects(db, unlinked, [...linked], now);
    if (!listing.truncated) {
      await deleteRegistrySetting(db, LIST_CURSOR);
      return true;
    }
    cursor = listing.cursor;
    await putRegistrySetting(db, LIST_CURSOR, cursor, Date.now());
  }
}

/** Step 3: claim what has stayed unreferenced for a grace period, delete it, leave tombstones. */
async function deleteClaimed(
  env: Env,
  db: Database,
  graceMs: number,
  over: () => boolean,
  report: GcReport,
): Promise<void> {
  for (;;) {
    if (over()) return;
    const now = Date.now();
    const claimed = await claimObjects(db, now - graceMs, now - STALE_CLAIM_MS, now, CLAIM_PAGE);
    if (claimed.length === 0) break;
    const keys = claimed.map((object) => object.key);
    await env.BLOBS.delete(keys);
    await markDeleted(db, keys, Date.now());
    report.objectsDeleted += claimed.length;
    report.bytesReclaimed += claimed.reduce((sum, object) => sum + object.size, 0);
    await recordAuditEvents(
      db,
      claimed.map((object) => ({
        at: now,
        actor: GC_ACTOR,
        action: "DeleteBlobObject",
        repository: null,
        digest: null,
        detail: { objectKey: object.key, size: object.size },
      })),
    );
    if (claimed.length < CLAIM_PAGE) break;
  }
  await purgeTombstones(db, Date.now() - TOMBSTONE_MS);
}

/**
 * Step 4: a regional replica's objects whose digest no repository links any more (blobs) or no
 * repository stores as a manifest (large manifests), older than the grace period, are deleted
 * outright, a listing page at a time. A replica holds copies of the home bucket's content,
 * written only by replication of an image whose manifest references them, so no mark-and-claim
 * is needed: an image pushed again later has its content copied again by its own replication.
 * True at the end of the listing.
 */
async function sweepReplica(
  db: Database,
  replica: { region: string; bucket: R2Bucket },
  graceMs: number,
  over: () => boolean,
  report: GcReport,
): Promise<boolean> {
  const cursorKey = `${REPLICA_CURSOR_PREFIX}${replica.region}`;
  let cursor = await findRegistrySetting(db, cursorKey);
  for (;;) {
    if (over()) return false;
    const listing = await replica.bucket.list({ limit: LIST_PAGE, ...(cursor === undefined ? {} : { cursor }) });
    const now = Date.now();
    const old = listing.objects.filter((object) => object.uploaded.getTime() <= now - graceMs);
    const digests = old.flatMap((object) => {
      const digest = digestOfContentKey(object.key);
      return digest === null ? [] : [digest];
    });
    const referenced = await referencedDigests(db, digests);
    const unreferenced = old.filter((object) => {
      const digest = digestOfContentKey(object.key);
      return digest !== null && !referenced.has(digest);
    });
    if (unreferenced.length > 0) {
      await replica.bucket.delete(unreferenced.map((object) => object.key));
      report.replicaObjectsDeleted += unreferenced.length;
      report.bytesReclaimed += unreferenced.reduce((sum, object) => sum + object.size, 0);
      await recordAuditEvents(
        db,
        unreferenced.map((object) => ({
          at: now,
          actor: GC_ACTOR,
          action: "DeleteReplicaObject",
          repository: null,
          digest: digestOfContentKey(object.key),
          detail: { region: replica.region, objectKey: object.key, size: object.size },
        })),
      );
    }
    if (!listing.truncated) {
      await deleteRegistrySetting(db, cursorKey);
      return true;
    }
    cursor = listing.cursor;
    await putRegistrySetting(db, cursorKey, cursor, Date.now());
  }
}

export async function runGarbageCollection(env: Env, options: GcOptions): Promise<GcReport> {
  const db = database(env.DB);
  const { graceMs } = options;
  const started = Date.now();
  const budgetMs = options.budgetMs ?? 20_000;
  const over = () => Date.now() - started >= budgetMs;
  const report: GcReport = {
    startedAt: started,
    durationMs: 0,
    linksRemoved: 0,
    objectsMarked: 0,
    objectsDeleted: 0,
    bytesReclaimed: 0,
    replicaObjectsDeleted: 0,
    sweepComplete: false,
  };
  const linksDone = await collectLinks(env, db, graceMs, over, report);
  const listingDone = await markUnreferenced(env, db, graceMs, over, report);
  await deleteClaimed(env, db, graceMs, over, report);
  let replicasDone = true;
  for (const replica of options.replicas ?? []) {
    if (!(await sweepReplica(db, replica, graceMs, over, report))) replicasDone = false;
  }
  report.sweepComplete = linksDone && listingDone && replicasDone;
  report.durationMs = Date.now() - started;
  await putRegistrySetting(db, LAST_RUN, JSON.stringify(report), Date.now());
  return report;
}

/** What the last garbage collection did (for the admin API), or null before the first run. */
export async function lastGarbageCollection(db: Database): Promise<GcReport | null> {
  const text = await findRegistrySetting(db, LAST_RUN);
  return text === undefined ? null : (JSON.parse(text) as GcReport);
}
