/**
 * The steps of a blob upload, shared by `/v2`'s upload resource and ECR's layer actions:
 * holding a session (the repository's Durable Object lends it to one request at a time),
 * appending bytes to it through `UploadWriter`, completing it against a digest, and linking
 * the blob into the repository (linkStoredBlob, which the pull-through cache uses too). Each surface passes `UploadFailures` to say how a failure is
 * reported (OCI error codes or ECR exceptions); the behaviour itself is the same.
 */
import type { AppContext } from "../app-env";
import type { AppliedFor } from "../repository/creation-templates";
import type { RegistryError } from "../errors";
import { findBlobObject, linkBlob, type BlobLocation, type LinkResult } from "../storage/blob-links";
import { UploadWriter, type SessionHold, type UploadSession, type WriterLimits } from "../storage/upload-writer";
import type { Settings } from "../config/settings";
import { bodyTimeout } from "../request-body";
import { repositoryObject, withRepository } from "../repository/stub";
import { UPLOAD_LEASE_RENEW_MS } from "../repository/upload-session";
import type { ParsedDigest } from "../oci/grammar";

export interface UploadFailures {
  /** No such session, or it was cancelled while this request wrote it. */
  unknown(message: string): RegistryError;
  /** Another request holds the session, or the bytes do not start at its offset. */
  outOfOrder(session: UploadSession): RegistryError;
  /** A request carried another number of bytes than it declared. */
  sizeMismatch(message: string): RegistryError;
  /** The bytes do not have the digest the client named (the session is cancelled). */
  digestMismatch(expected: string, actual?: string): RegistryError;
  /** The session computed a digest of another algorithm than the one the client named. */
  wrongAlgorithm(session: UploadSession, digest: ParsedDigest): RegistryError;
  /** Garbage collection took the stored object before it could be linked: upload again. */
  collected(message: string): RegistryError;
  /** The request's bytes would take the blob past BLOB_MAX_BYTES. */
  tooLarge(message: string): RegistryError;
  /** The request body stopped arriving (REQUEST_BODY_TIMEOUT_SECONDS). */
  stalled(message: string): RegistryError;
}

/** The bounds a request's writer works within, reported with `failures`. */
export function writerLimits(settings: Settings, failures: UploadFailures): WriterLimits {
  const maxBytes = settings.blobMaxBytes;
  const timeout = bodyTimeout(settings, () =>
    failures.stalled(`the request body stopped arriving for ${timeout.ms / 1000} s`),
  );
  return {
    maxBytes,
    tooLarge: () => failures.tooLarge(`the blob would exceed the limit of ${maxBytes} bytes`),
    timeout,
  };
}

/** A session lent to this request. `released` is set once a commit or close gave it back. */
export interface HeldUpload {
  readonly repository: ReturnType<typeof repositoryObject>;
  readonly session: UploadSession;
  readonly lease: string;
  /** The lease as the writer sees it: kept alive while bytes come in, and the source of part numbers. */
  readonly hold: SessionHold;
  readonly failures: UploadFailures;
  /** Runs work after the answer (the request's waitUntil). */
  readonly defer: (work: Promise<unknown>) => void;
  /** Deletes what closing the session made obsolete; run once the close succeeded. */
  afterClose: (() => Promise<void>) | null;
  released: boolean;
}

/** The error of a request whose hold on its session was taken over by another request. */
function takenOver(failures: UploadFailures, session: UploadSession): RegistryError {
  return failures.outOfOrder(session);
}

/**
 * The writer's view of a lease: renewed in the Durable Object at most every
 * UPLOAD_LEASE_RENEW_MS as bytes come in (a dead request stops renewing and its session is
 * free UPLOAD_LEASE_MS later), and asked for reserved part numbers.
 */
function sessionHold(
  repository: HeldUpload["repository"],
  session: UploadSession,
  lease: string,
  failures: UploadFailures,
): SessionHold {
  let renewedAt = Date.now();
  return {
    writer: lease,
    async keepAlive(force = false) {
      if (!force && Date.now() - renewedAt < UPLOAD_LEASE_RENEW_MS) return;
      if (!(await repository.renewChunk(session.id, lease))) throw takenOver(failures, session);
      renewedAt = Date.now();
    },
    async reserveParts(count) {
      const reserved = await repository.reserveParts(session.id, lease, count);
      if (reserved.status === "lost") throw takenOver(failures, session);
      if (reserved.status === "exhausted") {
        throw failures.tooLarge(
          `upload ${session.id} has used all of R2's multipart part numbers (many interrupted chunks); start the upload again`,
        );
      }
      renewedAt = Date.now();
      return { from: reserved.from, through: reserved.through };
    },
  };
}

/**
 * Runs `work` holding upload `id` of repository `name`. `start` is where the request's bytes
 * begin, or null to append at the session's offset. Unless `work` committed or closed the
 * session, it is released unchanged afterwards, so a failed request can be retried.
 */
export async function holdingUpload<T>(
  c: AppContext,
  name: string,
  id: string,
  start: number | null,
  failures: UploadFailures,
  work: (held: HeldUpload) => Promise<T>,
): Promise<T> {
  const repository = repositoryObject(c.env, name);
  const begun = await repository.beginChunk(id, start);
  if (begun.status === "unknown") throw failures.unknown(`upload ${id} is unknown`);
  if (begun.status === "out-of-order") throw failures.outOfOrder(begun.session);
  const held: HeldUpload = {
    repository,
    session: begun.session,
    lease: begun.lease,
    hold: sessionHold(repository, begun.session, begun.lease, failures),
    failures,
    defer: (work) => c.executionCtx.waitUntil(work),
    afterClose: null,
    released: false,
  };
  try {
    return await work(held);
  } finally {
    if (!held.released) await repository.releaseChunk(id, held.lease);
  }
}

/**
 * Appends a request's bytes to a held session and commits the state it reached, which
 * releases the session. `declared` is the length the request announced, if any.
 */
export async function appendToUpload(
  c: AppContext,
  held: HeldUpload,
  body: ReadableStream<Uint8Array> | null,
  declared: number | null,
  failures: UploadFailures,
): Promise<UploadSession> {
  const { session } = held;
  const limits = writerLimits(c.var.settings, failures);
  if (declared !== null && session.offset + declared > limits.maxBytes) throw limits.tooLarge();
  const writer = await UploadWriter.open(c.env.BLOBS, session, limits, held.hold);
  let next: UploadSession;
  try {
    let received: number;
    if (body !== null && declared !== null && declared > 0 && writer.canStoreWhole()) {
      received = await writer.storeWhole(body, declared);
    } else if (body !== null && declared === null && writer.canStoreWhole()) {
      received = await writer.storeStreamed(body);
    } else {
      await writer.append(body);
      received = writer.received;
    }
    if (declared !== null && received !== declared) {
      throw failures.sizeMismatch(`chunk declared ${declared} bytes but carried ${received}`);
    }
    next = await writer.persist();
  } catch (error) {
    // Nothing of this request is kept: the session stays as it was before it.
    await writer.discardCreated();
    throw error;
  }
  if (!(await held.repository.commitChunk(session.id, held.lease, next))) {
    await writer.discardCreated();
    const now = await held.repository.getUpload(session.id);
    if (now === null) throw failures.unknown(`upload ${session.id} was cancelled while this chunk was written`);
    throw takenOver(failures, now);
  }
  held.released = true;
  // A replaced whole object goes now (once per session); an old tail after the answer.
  const { tail, objects } = writer.obsoleteAfterCommit(next);
  if (objects.length > 0) await c.env.BLOBS.delete(objects);
  if (tail !== null) held.defer(c.env.BLOBS.delete(tail));
  return next;
}

/**
 * Stores a held session's last bytes (if any) and checks everything received against
 * `digest`; returns where the blob is. On a mismatch the session is cancelled.
 */
export async function completeUpload(
  c: AppContext,
  held: HeldUpload,
  digest: ParsedDigest,
  body: ReadableStream<Uint8Array> | null,
  declared: number | null,
  failures: UploadFailures,
): Promise<BlobLocation> {
  const { session } = held;
  if (digest.algorithm !== session.algorithm) throw failures.wrongAlgorithm(session, digest);
  const limits = writerLimits(c.var.settings, failures);
  if (declared !== null && session.offset + declared > limits.maxBytes) throw limits.tooLarge();
  const writer = await UploadWriter.open(c.env.BLOBS, session, limits, held.hold);
  let result: Awaited<ReturnType<UploadWriter["complete"]>>;
  try {
    if (body !== null && writer.canStoreWhole()) await writer.storeStreamed(body);
    else await writer.append(body);
    if (declared !== null && writer.received !== declared) {
      throw failures.sizeMismatch(`final chunk declared ${declared} bytes but carried ${writer.received}`);
    }
    result = await writer.complete(digest, (wanted) => findBlobObject(c.get("db"), wanted));
  } catch (error) {
    await writer.discardCreated();
    throw error;
  }
  if (!result.ok) {
    await writer.discardCreated();
    // Only while this request still holds the session: another may have taken it over.
    if (await held.repository.cancelUpload(session.id, held.lease)) held.released = true;
    throw failures.digestMismatch(digest.digest, result.actualDigest);
  }
  held.afterClose = result.obsolete;
  return result.location;
}

/**
 * Forgets a held session whose blob is stored, and gives it back; refused (the session's
 * objects untouched) when another request took the session over meanwhile.
 */
export async function closeUpload(held: HeldUpload): Promise<void> {
  // Before linking: an expired session's storage is discarded, and it must never be
  // discarded once a link points at its object.
  if (!(await held.repository.closeUpload(held.session.id, held.lease))) {
    throw takenOver(held.failures, (await held.repository.getUpload(held.session.id)) ?? held.session);
  }
  held.released = true;
  if (held.afterClose !== null) await held.afterClose();
}

/**
 * Links a stored blob into repository `name` (creating the repository if need be), unless
 * garbage collection took the stored object since this request began ("collected").
 */
export async function linkStoredBlob(
  c: AppContext,
  name: string,
  digest: string,
  location: BlobLocation,
  reason: AppliedFor = "CREATE_ON_PUSH",
): Promise<LinkResult> {
  return withRepository(
    c.env,
    name,
    () => linkBlob(c.get("db"), name, digest, location, Date.now(), c.get("requestStartedAt")),
    reason,
  );
}

/** Links an uploaded blob into the repository; false when the repository already linked it. */
export async function linkUploadedBlob(
  c: AppContext,
  name: string,
  digest: string,
  location: BlobLocation,
  failures: UploadFailures,
  reason: AppliedFor = "CREATE_ON_PUSH",
): Promise<boolean> {
  const result = await linkStoredBlob(c, name, digest, location, reason);
  if (result === "collected") {
    throw failures.collected(
      `the stored bytes of ${digest} were removed by garbage collection while this request ran; upload the blob again`,
    );
  }
  return result === "linked";
}
