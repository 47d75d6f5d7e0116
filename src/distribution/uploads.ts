/**
 * Blob upload resource: `POST /v2/<name>/blobs/uploads/` (session, monolithic `?digest=`, or
 * cross-repository `?mount=&from=`), and PATCH / PUT / GET / DELETE of a session.
 *
 * The repository's Durable Object holds each session's state and hands it to one request at a
 * time (a lease); bytes stream from the request into R2 through `UploadWriter`. A request that
 * fails leaves the session as it was before the request, so clients can resume it. The steps
 * are shared with ECR's layer actions (src/images/upload-steps.ts); this module adds HTTP and OCI errors.
 */
import type { AppContext } from "../app-env";
import { CLASS_ACTIONS } from "../auth/access";
import { repositoryAccess } from "../auth/authorizer";
import { authConfig } from "../auth/config";
import { OciError, RegistryError } from "../errors";
import { pushCreationReason } from "../images/creation";
import { mountBlob, type BlobLocation } from "../storage/blob-links";
import { canonicalBlobKey } from "../storage/keys";
import { checksumOption, storeExactly, type UploadSession } from "../storage/upload-writer";
import { repositoryObject, withRepository } from "../repository/stub";
import { uploadRange } from "../repository/upload-session";
import { isDigestAlgorithm, isValidRepositoryName, type DigestAlgorithm, type ParsedDigest } from "../oci/grammar";
import { declaredBodyLength, parseContentRange, type ByteRange, type LengthFailures } from "../request-body";
import {
  appendToUpload,
  closeUpload,
  completeUpload,
  holdingUpload,
  linkUploadedBlob,
  writerLimits,
  type HeldUpload,
  type UploadFailures,
} from "../images/upload-steps";
import { requireDigest } from "./validate";

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

function sessionHeaders(name: string, session: UploadSession): Record<string, string> {
  return {
    Location: uploadLocation(name, session.id),
    Range: uploadRange(session),
    "Docker-Upload-UUID": session.id,
    "Content-Length": "0",
  };
}

function blobCreated(name: string, digest: string): Response {
  return new Response(null, {
    status: 201,
    headers: { Location: `/v2/${name}/blobs/${digest}`, "Docker-Content-Digest": digest, "Content-Length": "0" },
  });
}

function outOfOrder(name: string, session: UploadSession): RegistryError {
  return new RegistryError(
    OciError.RANGE_INVALID,
    `chunk does not continue the upload, which has ${session.offset} bytes (or another request is writing it)`,
    undefined,
    sessionHeaders(name, session),
  );
}

/** A blob request's declared lengths: malformed ones are 400, ones past BLOB_MAX_BYTES 413. */
const BLOB_LENGTH_FAILURES: LengthFailures = {
  invalid: (message) => new RegistryError(OciError.BLOB_UPLOAD_INVALID, message),
  tooLarge: (message) => new RegistryError(OciError.BLOB_TOO_LARGE, message),
};

/** `Content-Range: <start>-<end>` of a chunk, or null when absent; refused past the blob limit. */
function readContentRange(c: AppContext): ByteRange | null {
  return parseContentRange(c.req.header("Content-Range") ?? null, c.var.settings.blobMaxBytes, BLOB_LENGTH_FAILURES);
}

/**
 * The length a request says its body has, from Content-Range and Content-Length; refused with
 * 413 before the body is read when it is past the blob limit.
 */
function declaredLength(c: AppContext, range: { length: number } | null): number | null {
  const length = declaredBodyLength(c.req.raw.headers, c.var.settings.blobMaxBytes, BLOB_LENGTH_FAILURES);
  if (range !== null && length !== null && range.length !== length) {
    throw new RegistryError(
      OciError.SIZE_INVALID,
      `Content-Range covers ${range.length} bytes but Content-Length is ${length}`,
    );
  }
  return range?.length ?? length;
}

/** How the upload steps' failures are reported on `/v2`. */
function ociFailures(name: string): UploadFailures {
  return {
    unknown: (message) => new RegistryError(OciError.BLOB_UPLOAD_UNKNOWN, message),
    outOfOrder: (session) => outOfOrder(name, session),
    sizeMismatch: (message) => new RegistryError(OciError.SIZE_INVALID, message),
    digestMismatch,
    wrongAlgorithm: (session, digest) =>
      new RegistryError(
        OciError.DIGEST_INVALID,
        `this upload computed a ${session.algorithm} digest; start it with ?digest-algorithm=${digest.algorithm} to finish with ${digest.algorithm}`,
      ),
    collected: (message) => new RegistryError(OciError.BLOB_UPLOAD_INVALID, message),
    tooLarge: (message) => new RegistryError(OciError.BLOB_TOO_LARGE, message),
    stalled: (message) => new RegistryError(OciError.UPLOAD_TIMEOUT, message),
  };
}

function requireSessionId(id: string): string {
  if (!SESSION_ID.test(id)) throw new RegistryError(OciError.BLOB_UPLOAD_UNKNOWN, `upload ${id} is unknown`);
  return id;
}

function isChecksumMismatch(error: unknown): boolean {
  return error instanceof Error && /checksum|10037/i.test(error.message);
}

/**
 * Writes a whole blob whose digest and length are known up front straight to its key; R2
 * checks the digest and stores nothing on a mismatch (null). A body of another length is
 * SIZE_INVALID.
 */
async function putWholeBlob(
  c: AppContext,
  name: string,
  digest: ParsedDigest,
  body: ReadableStream<Uint8Array> | null,
  length: number,
  held?: HeldUpload,
): Promise<BlobLocation | null> {
  const objectKey = canonicalBlobKey(digest);
  const { timeout } = writerLimits(c.var.settings, ociFailures(name));
  let received: number;
  try {
    received = await storeExactly(c.env.BLOBS, objectKey, body, length, checksumOption(digest), {
      timeout,
      onProgress: held && (() => held.hold.keepAlive()),
    });
  } catch (error) {
    if (isChecksumMismatch(error)) return null;
    throw error;
  }
  if (received !== length)
    throw new RegistryError(OciError.SIZE_INVALID, `the body declared ${length} bytes but carried ${received}`);
  return { size: length, objectKey };
}

// ---- POST /v2/<name>/blobs/uploads/ -------------------------------------------------------

export async function startUpload(c: AppContext, name: string): Promise<Response> {
  const query = new URL(c.req.url).searchParams;
  const mount = query.get("mount");
  const monolithicDigest = query.get("digest");
  if (mount !== null) {
    const digest = requireDigest(mount);
    const from = query.get("from");
    if (from !== null && isValidRepositoryName(from) && (await mayPullFrom(c, from))) {
      const db = c.get("db");
      const mounted = await withRepository(
        c.env,
        name,
        () => mountBlob(db, name, from, digest.digest, Date.now(), c.get("requestStartedAt")),
        await pushCreationReason(c),
      );
      if (mounted) return blobCreated(name, digest.digest);
    }
    // Not mountable: the spec asks for an ordinary upload session instead.
  } else if (monolithicDigest !== null) {
    const digest = requireDigest(monolithicDigest);
    const length = declaredLength(c, null);
    if (length !== null) {
      const location = await putWholeBlob(c, name, digest, c.req.raw.body, length);
      if (!location) throw digestMismatch(digest.digest);
      await linkUploadedBlob(c, name, digest.digest, location, ociFailures(name), await pushCreationReason(c));
      return blobCreated(name, digest.digest);
    }
    // No length: stream it through a session, which needs none.
    const session = await newSession(c, name, digest.algorithm);
    return finishUpload(c, name, session.id, digest);
  }
  const session = await newSession(c, name, readAlgorithm(query));
  return new Response(null, { status: 202, headers: sessionHeaders(name, session) });
}

/** A new session; the repository is created if missing (for a replication when the caller is another account). */
async function newSession(c: AppContext, name: string, algorithm: DigestAlgorithm): Promise<UploadSession> {
  const session = await repositoryObject(c.env, name).createUpload(name, algorithm, await pushCreationReason(c));
  if (session === null)
    throw new RegistryError(
      OciError.NAME_UNKNOWN,
      `repository ${name} does not exist, and no CREATE_ON_PUSH creation template covers it (CREATE_ON_PUSH is "template")`,
    );
  return session;
}

/** A mount reads the source repository: the caller needs pull there, else it uploads. */
async function mayPullFrom(c: AppContext, from: string): Promise<boolean> {
  const config = await authConfig(c.var.settings.auth);
  for (const action of CLASS_ACTIONS.pull) {
    if ((await repositoryAccess(c, config, from, action)) !== "allow") return false;
  }
  return true;
}

/** `?digest-algorithm=sha512` chooses the digest a chunked session computes (sha256 by default). */
function readAlgorithm(query: URLSearchParams): DigestAlgorithm {
  const value = query.get("digest-algorithm");
  if (value === null) return "sha256";
  if (!isDigestAlgorithm(value))
    throw new RegistryError(OciError.DIGEST_INVALID, `unsupported digest algorithm "${value}"`);
  return value;
}

function digestMismatch(expected: string, actual?: string): RegistryError {
  return new RegistryError(
    OciError.DIGEST_INVALID,
    actual
      ? `uploaded content has digest ${actual}, not ${expected}`
      : `uploaded content does not match digest ${expected}`,
    { digest: expected },
  );
}

// ---- PATCH /v2/<name>/blobs/uploads/<id> ----------------------------------------------------

export async function patchUpload(c: AppContext, name: string, idParam: string): Promise<Response> {
  const id = requireSessionId(idParam);
  const range = readContentRange(c);
  const declared = declaredLength(c, range);
  const failures = ociFailures(name);
  return holdingUpload(c, name, id, range?.start ?? null, failures, async (held) => {
    const next = await appendToUpload(c, held, c.req.raw.body, declared, failures);
    return new Response(null, { status: 202, headers: sessionHeaders(name, next) });
  });
}

// ---- PUT /v2/<name>/blobs/uploads/<id>?digest= ---------------------------------------------

export async function putUpload(c: AppContext, name: string, idParam: string): Promise<Response> {
  const id = requireSessionId(idParam);
  const digest = requireDigest(new URL(c.req.url).searchParams.get("digest"));
  return finishUpload(c, name, id, digest);
}

async function finishUpload(c: AppContext, name: string, id: string, digest: ParsedDigest): Promise<Response> {
  const range = readContentRange(c);
  const declared = declaredLength(c, range);
  const failures = ociFailures(name);
  return holdingUpload(c, name, id, range?.start ?? null, failures, async (held) => {
    let location: BlobLocation;
    if (held.session.offset === 0 && declared !== null) {
      // The whole blob is in this request: R2 verifies it as it is stored.
      const stored = await putWholeBlob(c, name, digest, c.req.raw.body, declared, held);
      if (!stored) {
        if (await held.repository.cancelUpload(id, held.lease)) held.released = true;
        throw digestMismatch(digest.digest);
      }
      location = stored;
    } else {
      location = await completeUpload(c, held, digest, c.req.raw.body, declared, failures);
    }
    await closeUpload(held);
    await linkUploadedBlob(c, name, digest.digest, location, failures, await pushCreationReason(c));
    return blobCreated(name, digest.digest);
  });
}

// ---- GET / DELETE /v2/<name>/blobs/uploads/<id> ---------------------------------------------

export async function getUploadStatus(c: AppContext, name: string, idParam: string): Promise<Response> {
  const id = requireSessionId(idParam);
  const session = await repositoryObject(c.env, name).getUpload(id);
  if (!session) throw new RegistryError(OciError.BLOB_UPLOAD_UNKNOWN, `upload ${id} is unknown`);
  return new Response(null, { status: 204, headers: sessionHeaders(name, session) });
}

export async function cancelUpload(c: AppContext, name: string, idParam: string): Promise<Response> {
  const id = requireSessionId(idParam);
  if (!(await repositoryObject(c.env, name).cancelUpload(id))) {
    throw new RegistryError(OciError.BLOB_UPLOAD_UNKNOWN, `upload ${id} is unknown`);
  }
  return new Response(null, { status: 204, headers: { "Content-Length": "0" } });
}
