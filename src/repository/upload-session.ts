/**
 * State of one blob upload session. It is kept by the repository's Durable Object (so chunks
 * to one session are serialized and the session survives restarts) while the bytes go from
 * the Worker straight into R2. Sessions idle for `UPLOAD_SESSION_TTL_MS` are aborted.
 *
 * One request at a time writes a session: it holds a lease, renewed while its body streams in.
 * A request that dies (a crash, a killed process) stops renewing, and its session is free
 * again `UPLOAD_LEASE_MS` later. Writers are fenced: a commit, a close or a reservation of
 * multipart part numbers is refused once the lease has moved on, every object a writer
 * creates is named after its lease, and the part numbers it writes into the session's shared
 * multipart upload are reserved for it, so a writer that lost its lease cannot overwrite what
 * another wrote.
 */
import type { UploadSession } from "../storage/upload-writer";

/** Size of every R2 multipart part but the last. R2 wants >= 5 MiB and equal sizes; 8 MiB
 * parts allow blobs up to 80,000 MiB (10,000 parts), above ECR's 52,000 MiB layer limit. */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;
export const UPLOAD_SESSION_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a request's hold on a session lasts unless renewed (a dead request blocks it this long). */
export const UPLOAD_LEASE_MS = 30 * 1000;
/** A writer renews its hold when this long has passed since the last renewal, as bytes come in. */
export const UPLOAD_LEASE_RENEW_MS = 10 * 1000;
/** R2's highest multipart part number. */
export const MAX_PART_NUMBER = 10_000;

/** A session as saved, from before part numbers were recorded or after. */
export function normalizeSession(
  saved: UploadSession | (Omit<UploadSession, "partNumbers"> & { partNumbers?: number[] }),
): UploadSession {
  if (saved.partNumbers !== undefined && saved.partNumbers.length === saved.partEtags.length)
    return saved as UploadSession;
  return { ...saved, partNumbers: saved.partEtags.map((_, index) => index + 1) };
}

/** The highest part number a session's parts use (0 when none). */
export function lastPartNumber(session: Pick<UploadSession, "partNumbers">): number {
  return session.partNumbers.length === 0 ? 0 : Math.max(...session.partNumbers);
}

/** Whether a lease still holds a session at `now`. */
export function leaseHolds(lease: string | null, leaseExpires: number, now: number): boolean {
  return lease !== null && leaseExpires > now;
}

/**
 * The next `count` part numbers after every number reserved or committed so far, or null when
 * they would pass R2's limit.
 */
export function nextPartNumbers(
  reservedThrough: number,
  committedLast: number,
  count: number,
): { from: number; through: number } | null {
  const from = Math.max(reservedThrough, committedLast) + 1;
  const through = from + count - 1;
  return through > MAX_PART_NUMBER ? null : { from, through };
}

export type ReservePartsResult =
  { status: "ok"; from: number; through: number } | { status: "lost" } | { status: "exhausted" };

export type BeginChunkResult =
  | { status: "ok"; session: UploadSession; lease: string }
  | { status: "unknown" }
  /** Another request holds the session, or the chunk does not start at `session.offset`. */
  | { status: "out-of-order"; session: UploadSession };

/** The `Range` header value for a session: `0-<last byte>` (`0-0` when empty, as distribution does). */
export function uploadRange(session: Pick<UploadSession, "offset">): string {
  return `0-${Math.max(session.offset - 1, 0)}`;
}
