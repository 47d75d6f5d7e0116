/**
 * One Durable Object per repository (named by the repository name). It is the single writer of
 * the repository's tags and manifests, so concurrent pushes are serialized and tag
 * immutability is decided here, and it keeps the repository's open upload sessions in its
 * SQLite storage. Pulls never come here (they read D1 and R2 directly), except a pull-through
 * cache's misses, which it coordinates so that concurrent first pulls fetch upstream once.
 */
import { DurableObject } from "cloudflare:workers";
import { instrumentEnv } from "../bench/counters";
import type { DigestAlgorithm } from "../oci/grammar";
import { sizeMismatches, type DeclaredSizes, type SizeMismatch } from "../oci/manifest-format";
import { database, isForeignKeyFailure, type Database } from "../storage/database";
import { assembledBlobKey } from "../storage/keys";
import { findParentIndexes, findTagDigests, findTagsOf } from "../storage/image-records";
import {
  findManifestDigests,
  findReferenceSizes,
  readTagState,
  type ManifestRecord,
} from "../storage/manifest-records";
import type { ReplicationTarget } from "../storage/replication-records";
import type { TagMutabilitySetting } from "../storage/repository-records";
import {
  collectUnreferencedLinks,
  deleteImageRows,
  deleteManifest,
  deleteRepositoryRow,
  deleteTag,
  insertRepository,
  insertRepositoryIfAbsent,
  setTagMutability,
  unlinkUnreferencedBlob,
  writeManifest,
  type CollectedLink,
  type DeleteRepositoryResult,
  type NewRepository,
  type UnlinkResult,
} from "../storage/repository-writes";
import { settingsOf } from "../config/load";
import {
  imageActionEvent,
  lifecycleExpiryEvent,
  originOf,
  pullThroughCacheEvent,
  type EventOrigin,
} from "../events/envelope";
import { announceEvents } from "../events/messages";
import { listCreationTemplates } from "../storage/creation-template-records";
import { findRepository } from "../storage/repository-records";
import { settingsFrom, templateFor, type AppliedFor } from "./creation-templates";
import { isTagImmutable, parseStoredFilters } from "./tag-mutability";
import { planDeletion, type DeletionPlan, type ImageTarget } from "./image-deletion";
import { ResumableDigest } from "../storage/resumable-digest";
import { discardUploadStorage, type UploadSession } from "../storage/upload-writer";
import {
  lastPartNumber,
  leaseHolds,
  nextPartNumbers,
  UPLOAD_LEASE_MS,
  UPLOAD_PART_SIZE,
  UPLOAD_SESSION_TTL_MS,
  type BeginChunkResult,
  type ReservePartsResult,
} from "./upload-session";
import { UploadSessionTable } from "./upload-session-table";
import { UpstreamFetches, type FetchOutcome, type JoinResult } from "./upstream-fetches";

/**
 * Every outcome of a manifest push: the repository object's answer, which pushManifest
 * (src/images/manifests.ts) hands to its caller as it is, and each surface reports its own way.
 */
export type ManifestPushResult =
  /**
   * `unchanged`: the manifest was already stored and the tag (if any) already pointed at it.
   * `mediaType` and `subject` are the stored manifest's (ECR's PutImage and `/v2`'s OCI-Subject).
   */
  | { status: "stored"; unchanged: boolean; mediaType: string; subject: string | null }
  /** The tag exists with another digest and the repository's tags are immutable. */
  | { status: "tag-immutable"; currentDigest: string }
  /** The repository does not exist and the push may not create it (ECR's PutImage). */
  | { status: "no-repository" }
  /** Blobs or child manifests the manifest references are not in the repository. */
  | { status: "missing-references"; blobs: string[]; manifests: string[] }
  /** Descriptors whose declared size is not the stored content's. */
  | { status: "size-mismatch"; mismatches: SizeMismatch[] };

export interface PutManifestOptions {
  /** A /v2 push creates a missing repository; ECR's PutImage does not. */
  createRepository: boolean;
  /**
   * Written by a pull-through cache from its upstream (the tag is marked validated now). Its
   * blobs arrive when first pulled, so their links are not required.
   */
  cached?: boolean;
  /** The sizes the manifest's descriptors declare, checked with its links (not for cached manifests). */
  declaredSizes: DeclaredSizes;
  /** Replication destinations of the push, recorded in the manifest's write (src/replication/). */
  replicateTo?: readonly ReplicationTarget[];
  /** Why a missing repository would be created (its creation template); a push unless given. */
  createdFor?: AppliedFor;
  /** A pull-through cache import: reported as "ECR Pull Through Cache Action" rather than a push. */
  pullThrough?: { prefix: string; upstreamUrl: string };
}

export class RepositoryObject extends DurableObject<Env> {
  private readonly sessions: UploadSessionTable;
  private readonly db: Database;
  private writeQueue: Promise<unknown> = Promise.resolve();
  private readonly upstreamFetches = new UpstreamFetches();

  constructor(ctx: DurableObjectState, env: Env) {
    // Counted bindings when bench mode is on, so D1 writes made here are counted too.
    super(ctx, instrumentEnv(env));
    this.sessions = new UploadSessionTable(ctx.storage.sql);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    this.db = database(this.env.DB);
  }

  // ---- repository -------------------------------------------------------------------------

  /**
   * Creates the repository row once, for `reason` (a push, a replication, a pull-through cache),
   * with the settings of the creation template that applies (src/repository/creation-templates.ts).
   * The fact is remembered here so later pushes cost no D1 work; `force` re-checks after a write
   * found the row missing. False when a push may not create it: CREATE_ON_PUSH is "template" and
   * no CREATE_ON_PUSH template covers the name.
   */
  async ensureRepository(name: string, force = false, reason: AppliedFor = "CREATE_ON_PUSH"): Promise<boolean> {
    if (!force && this.fact("repository") === name) return true;
    const template = templateFor(await listCreationTemplates(this.db), name, reason);
    if (reason === "CREATE_ON_PUSH" && template === null && settingsOf(this.env).createOnPush === "template") {
      if ((await findRepository(this.db, name)) === undefined) return false;
    } else {
      await insertRepositoryIfAbsent(this.db, { name, ...settingsFrom(template), createdAt: Date.now() });
    }
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO facts (key, value) VALUES ('repository', ?)", name);
    return true;
  }

  /** CreateRepository: the row with all its settings, or false when it exists. */
  async createRepository(repository: NewRepository): Promise<boolean> {
    return this.serialized(async () => {
      const created = await insertRepository(this.db, repository);
      if (created)
        this.ctx.storage.sql.exec(
          "INSERT OR REPLACE INTO facts (key, value) VALUES ('repository', ?)",
          repository.name,
        );
      return created;
    });
  }

  /**
   * DeleteRepository: serialized with manifest writes, so a push cannot land between the
   * emptiness check and the delete. Open upload sessions are aborted with it.
   */
  async deleteRepository(name: string, force: boolean): Promise<DeleteRepositoryResult> {
    return this.serialized(async () => {
      const result = await deleteRepositoryRow(this.db, name, force);
      if (result.status !== "deleted") return result;
      this.ctx.storage.sql.exec("DELETE FROM facts WHERE key = 'repository'");
      for (const session of this.sessions.idleSince(Number.MAX_SAFE_INTEGER)) {
        this.sessions.delete(session.id);
        await discardUploadStorage(this.env.BLOBS, session);
      }
      return result;
    });
  }

  /** Serialized with pushes: a push decides on the setting before or after the change, never a mix. */
  async setTagMutability(name: string, setting: TagMutabilitySetting): Promise<boolean> {
    return this.serialized(() => setTagMutability(this.db, name, setting));
  }

  // ---- manifests and tags -----------------------------------------------------------------

  /** The account and region the events this object records name. */
  private get origin(): EventOrigin {
    return originOf(settingsOf(this.env));
  }

  /** Asks for the fan-out of the events just recorded, after this call returns. */
  private announceEvents(): void {
    this.ctx.waitUntil(announceEvents(this.env.EVENT_QUEUE));
  }

  /** Runs a write that records events, then announces them. */
  private async announcing<T>(write: Promise<T>): Promise<T> {
    const result = await write;
    this.announceEvents();
    return result;
  }

  async putManifest(
    name: string,
    record: ManifestRecord,
    tag: string | null,
    options: PutManifestOptions,
  ): Promise<ManifestPushResult> {
    const { createRepository, cached = false, declaredSizes, replicateTo = [] } = options;
    const reason = options.createdFor ?? (cached ? "PULL_THROUGH_CACHE" : "CREATE_ON_PUSH");
    return this.serialized(async () => {
      if (createRepository && !(await this.ensureRepository(name, false, reason))) return { status: "no-repository" };
      let previousDigest: string | null = null;
      if (tag !== null) {
        const state = await readTagState(this.db, name, tag);
        if (state === null && !createRepository) return { status: "no-repository" };
        const current = state?.currentDigest ?? null;
        if (
          state !== null &&
          current !== null &&
          current !== record.digest &&
          isTagImmutable(state.mutability, parseStoredFilters(state.exclusionFilters), tag)
        ) {
          return { status: "tag-immutable", currentDigest: current };
        }
        previousDigest = state?.currentDigest ?? null;
      }
      // Checked here, serialized with garbage collection's unlinking (collectLinks) and blob
      // DELETEs (deleteBlob), so a manifest never lands referencing a link removed meanwhile.
      // The same query reads the stored sizes (and the subject's, if it is stored).
      if (!cached) {
        const stored = await findReferenceSizes(
          this.db,
          name,
          record.blobDigests,
          declaredSizes.manifests.map((entry) => entry.digest),
        );
        const blobs = record.blobDigests.filter((digest) => !stored.blobs.has(digest));
        const manifests = record.childDigests.filter((digest) => !stored.manifests.has(digest));
        if (blobs.length > 0 || manifests.length > 0) return { status: "missing-references", blobs, manifests };
        const mismatches = sizeMismatches(declaredSizes, stored);
        if (mismatches.length > 0) return { status: "size-mismatch", mismatches };
      }
      const now = Date.now();
      // A cached manifest is reported as the pull-through import it is (an index's platform
      // manifests are part of their index's import); anything else is a push.
      const events = options.pullThrough
        ? [
            pullThroughCacheEvent(
              this.origin,
              { ...options.pullThrough, repository: name, tag, digest: record.digest },
              now,
            ),
          ]
        : cached
          ? []
          : [imageActionEvent(this.origin, { actionType: "PUSH", repository: name, digest: record.digest, tag }, now)];
      const write = () => writeManifest(this.db, name, record, tag, now, { validated: cached, replicateTo, events });
      let created: boolean;
      try {
        created = await write();
      } catch (error) {
        if (!isForeignKeyFailure(error)) throw error;
        if (!createRepository || !(await this.ensureRepository(name, true, reason))) return { status: "no-repository" };
        created = await write();
      }
      if (events.length > 0) this.announceEvents();
      const unchanged = !created && (tag === null || previousDigest === record.digest);
      return { status: "stored", unchanged, mediaType: record.mediaType, subject: record.subject };
    });
  }

  /**
   * Garbage collection of blob links: removes this repository's links that no manifest of it
   * references and that are older than `linkedBefore` (the grace period that lets a push
   * upload its blobs before its manifest). Serialized with putManifest.
   */
  async collectLinks(name: string, linkedBefore: number): Promise<CollectedLink[]> {
    return this.serialized(() => collectUnreferencedLinks(this.db, name, linkedBefore));
  }

  /**
   * A blob DELETE: unlinks the blob unless a manifest of the repository references it.
   * Serialized with putManifest, whose link check would otherwise pass just before the unlink
   * and leave the new manifest referencing a blob the repository no longer has.
   */
  async deleteBlob(name: string, digest: string): Promise<UnlinkResult> {
    return this.serialized(() => unlinkUnreferencedBlob(this.db, name, digest));
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    // The event's digest is read from the tag as the delete runs.
    const event = imageActionEvent(
      this.origin,
      { actionType: "DELETE", repository: name, digest: "", tag },
      Date.now(),
    );
    return this.serialized(() => this.announcing(deleteTag(this.db, name, tag, event)));
  }

  /** The tags removed with the manifest, or null when there is no such manifest. */
  async deleteManifest(name: string, digest: string): Promise<string[] | null> {
    const event = imageActionEvent(
      this.origin,
      { actionType: "DELETE", repository: name, digest, tag: null },
      Date.now(),
    );
    return this.serialized(() => this.announcing(deleteManifest(this.db, name, digest, event)));
  }

  /**
   * BatchDeleteImage: reads what the request touches and deletes in one D1 batch, serialized
   * with pushes so an index cannot start listing a manifest between the check and the delete.
   */
  async deleteImages(name: string, targets: ImageTarget[]): Promise<DeletionPlan> {
    return this.serialized(async () => {
      const requestedTags = targets.flatMap((target) => (target.tag === undefined ? [] : [target.tag]));
      const requestedDigests = targets.flatMap((target) =>
        target.tag === undefined && target.digest !== undefined ? [target.digest] : [],
      );
      const [tagDigests, existing] = await Promise.all([
        findTagDigests(this.db, name, requestedTags),
        findManifestDigests(this.db, name, requestedDigests),
      ]);
      const resolvedDigests = [...new Set([...tagDigests.values(), ...existing])];
      const [tagsOf, parentsOf] = await Promise.all([
        findTagsOf(this.db, name, resolvedDigests),
        findParentIndexes(this.db, name, resolvedDigests),
      ]);
      const plan = planDeletion(targets, { tagDigests, existing, tagsOf, parentsOf });
      const now = Date.now();
      const events = plan.deleted.map((image) =>
        imageActionEvent(this.origin, { actionType: "DELETE", repository: name, ...image }, now),
      );
      await this.announcing(deleteImageRows(this.db, name, plan.manifests, plan.tags, events));
      return plan;
    });
  }

  /**
   * Lifecycle expiry: deletes each image only if it is still as the evaluator saw it (the
   * same tags, and no index lists it), so a tag pushed after the evaluation saves its image.
   * Returns the digests deleted.
   */
  async expireImages(
    name: string,
    expected: readonly { digest: string; tags: readonly string[]; rulePriority: number | null }[],
  ): Promise<string[]> {
    return this.serialized(async () => {
      const digests = expected.map((image) => image.digest);
      const [existing, tagsOf, parentsOf] = await Promise.all([
        findManifestDigests(this.db, name, digests),
        findTagsOf(this.db, name, digests),
        findParentIndexes(this.db, name, digests),
      ]);
      const unchanged = expected.filter((image) => {
        const current = tagsOf.get(image.digest) ?? [];
        const parents = (parentsOf.get(image.digest) ?? []).filter((parent) => !digests.includes(parent));
        return existing.has(image.digest) && parents.length === 0 && sameTags(current, image.tags);
      });
      const gone = unchanged.map((image) => image.digest);
      const now = Date.now();
      const events = unchanged.map((image) => lifecycleExpiryEvent(this.origin, { repository: name, ...image }, now));
      await this.announcing(deleteImageRows(this.db, name, gone, [], events));
      return gone;
    });
  }

  // ---- pull-through cache fetches -----------------------------------------------------------

  /** Leads the upstream fetch of `key` (a manifest reference or a blob digest), or waits for the one in flight. */
  async joinUpstreamFetch(key: string): Promise<JoinResult> {
    return this.upstreamFetches.join(key);
  }

  renewUpstreamFetch(key: string, lease: string): boolean {
    return this.upstreamFetches.renew(key, lease);
  }

  endUpstreamFetch(key: string, lease: string, outcome: FetchOutcome): void {
    this.upstreamFetches.end(key, lease, outcome);
  }

  // ---- upload sessions --------------------------------------------------------------------

  /** A new upload session; null when the repository does not exist and a push may not create it. */
  async createUpload(
    name: string,
    algorithm: DigestAlgorithm,
    reason: AppliedFor = "CREATE_ON_PUSH",
  ): Promise<UploadSession | null> {
    if (!(await this.ensureRepository(name, false, reason))) return null;
    const id = crypto.randomUUID();
    const now = Date.now();
    const session: UploadSession = {
      id,
      repository: name,
      createdAt: now,
      offset: 0,
      algorithm,
      hashState: ResumableDigest.create(algorithm).save(),
      wholeDigest: null,
      partSize: UPLOAD_PART_SIZE,
      layout: "parts",
      objectKey: assembledBlobKey(id),
      multipartId: null,
      partEtags: [],
      partNumbers: [],
      tailKey: null,
      tailLength: 0,
    };
    this.sessions.insert(session, now);
    await this.scheduleExpiry();
    return session;
  }

  getUpload(id: string): UploadSession | null {
    return this.sessions.find(id)?.session ?? null;
  }

  /**
   * Takes the session for one request. `start` is where the request's bytes begin (from
   * Content-Range), or null to append at the current offset.
   */
  beginChunk(id: string, start: number | null): BeginChunkResult {
    const found = this.sessions.find(id);
    if (!found) return { status: "unknown" };
    const now = Date.now();
    if (leaseHolds(found.lease, found.leaseExpires, now) || (start !== null && start !== found.session.offset)) {
      return { status: "out-of-order", session: found.session };
    }
    const lease = crypto.randomUUID();
    this.sessions.grant(id, lease, now + UPLOAD_LEASE_MS, now);
    return { status: "ok", session: found.session, lease };
  }

  /** Extends a writer's hold while its body streams in; false once another request took the session. */
  renewChunk(id: string, lease: string): boolean {
    const now = Date.now();
    return this.sessions.renew(id, lease, now + UPLOAD_LEASE_MS, now);
  }

  /**
   * Reserves the next `count` part numbers of the session's multipart upload for the writer
   * holding `lease` (and renews its hold): numbers no other writer, live or stale, may use.
   */
  reserveParts(id: string, lease: string, count: number): ReservePartsResult {
    const found = this.sessions.find(id);
    if (found?.lease !== lease) return { status: "lost" };
    const numbers = nextPartNumbers(found.partsReserved, lastPartNumber(found.session), count);
    if (numbers === null) return { status: "exhausted" };
    const now = Date.now();
    if (!this.sessions.reserve(id, lease, numbers.through, now + UPLOAD_LEASE_MS, now)) return { status: "lost" };
    return { status: "ok", ...numbers };
  }

  /** Saves the state a request reached and releases the session; false if the lease was lost. */
  commitChunk(id: string, lease: string, session: UploadSession): boolean {
    return this.sessions.commit(id, lease, session, Date.now());
  }

  /** Releases the session without changing it (the request failed). */
  releaseChunk(id: string, lease: string): void {
    this.sessions.release(id, lease, Date.now());
  }

  /** Forgets a session whose blob is now stored; false if `lease` no longer holds it. */
  closeUpload(id: string, lease: string): boolean {
    return this.sessions.deleteHeld(id, lease);
  }

  /**
   * Cancels a session and frees its storage; false if there is no such session, or, when
   * `lease` is given (a request cancelling the session it writes), if that lease no longer holds it.
   */
  async cancelUpload(id: string, lease?: string): Promise<boolean> {
    const found = this.sessions.find(id);
    if (!found) return false;
    if (lease !== undefined && found.lease !== lease) return false;
    this.sessions.delete(id);
    await discardUploadStorage(this.env.BLOBS, found.session);
    return true;
  }

  /** Aborts sessions idle for longer than the session lifetime. */
  override async alarm(): Promise<void> {
    for (const session of this.sessions.idleSince(Date.now() - UPLOAD_SESSION_TTL_MS)) {
      this.sessions.delete(session.id);
      await discardUploadStorage(this.env.BLOBS, session);
    }
    await this.scheduleExpiry();
  }

  // ---- internals --------------------------------------------------------------------------

  private async scheduleExpiry(): Promise<void> {
    const oldest = this.sessions.oldestUpdate();
    if (oldest === null) return;
    const due = oldest + UPLOAD_SESSION_TTL_MS;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > due) await this.ctx.storage.setAlarm(due);
  }

  private fact(key: string): string | null {
    const row = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM facts WHERE key = ?", key).toArray()[0];
    return row?.value ?? null;
  }

  /**
   * Runs `work` after every write queued before it has settled. Input gates do not cover D1
   * round trips, so without this queue two pushes could interleave their read and write.
   */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(work, work);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return a.length === b.length && b.every((tag) => set.has(tag));
}
