/**
 * State of one blob upload session. It is kept by the repository's Durable Object (so chunks
 * to one session are serialized and the session survives restarts) while the bytes go from
 * the Worker straight into R2. Sessions idle for `UPLOAD_SESSION_TTL_MS` are aborted.
 */
import type { DigestAlgorithm } from "../distribution/grammar";

/** Size of every R2 multipart part but the last. R2 wants >= 5 MiB and equal sizes; 8 MiB
 * parts allow blobs up to 80,000 MiB (10,000 parts), above ECR's 52,000 MiB layer limit. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;
export const UPLOAD_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
/** How long one request may hold a session before another may take it over. */
export const UPLOAD_LEASE_MS = 15 * 60 * 1000;

export interface UploadSession {
  id: string;
  repository: string;
  createdAt: number;
  /** Bytes received and durably stored (multipart parts plus tail object). */
  offset: number;
  algorithm: DigestAlgorithm;
  /** Saved hasher state over bytes [0, offset) when layout is "parts". */
  hashState: string;
  /**
   * With layout "whole": the digest of the whole object, computed natively as it was stored
   * (a native digest cannot be resumed; a session that grows replays the object instead).
   */
  wholeDigest: string | null;
  partSize: number;
  /**
   * How bytes [0, offset) are stored: "parts" as multipart parts plus a tail object, or
   * "whole" as one complete object at `objectKey` (a first chunk of known length).
   */
  layout: "parts" | "whole";
  /** R2 key the session's blob is written to (whole object or multipart upload). */
  objectKey: string;
  multipartId: string | null;
  /** ETags of the uploaded parts, part number = index + 1. */
  partEtags: string[];
  /** R2 key of the bytes past the last full part, or null when there are none. */
  tailKey: string | null;
  tailLength: number;
}

export type BeginChunkResult =
  | { status: "ok"; session: UploadSession; lease: string }
  | { status: "unknown" }
  /** Another request holds the session, or the chunk does not start at `session.offset`. */
  | { status: "out-of-order"; session: UploadSession };

/** The `Range` header value for a session: `0-<last byte>` (`0-0` when empty, as distribution does). */
export function uploadRange(session: Pick<UploadSession, "offset">): string {
  return `0-${Math.max(session.offset - 1, 0)}`;
}
