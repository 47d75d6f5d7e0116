/**
 * The R2 key layout: the one place that knows where bytes live in the bucket.
 *
 *   blobs/<alg>/<hex>                 a blob whose digest was known before its bytes were
 *                                     written (monolithic uploads, small chunked uploads):
 *                                     written with R2's own checksum check, shared by every
 *                                     repository that links the digest.
 *   blobs/assembled/<session-id>      a blob assembled from an R2 multipart upload. Its digest
 *                                     is only known when the session closes, and R2 cannot
 *                                     rename, so the key stays the session's and the D1 link
 *                                     row records it (`repository_blobs.object_key`). A later
 *                                     session for a digest that already has an object links
 *                                     the existing object and aborts its own multipart upload,
 *                                     so each digest keeps one object.
 *   uploads/<session-id>/tail-<offset> the bytes of an open upload session past its last full
 *                                     multipart part (fewer than one part), written when a
 *                                     PATCH ends at <offset>; deleted when the session closes.
 *   manifests/<alg>/<hex>             manifest bytes too large to keep inline in D1.
 *
 * Blob links (which repository may read which digest, and under which key) live in D1; upload
 * session state lives in the repository's Durable Object.
 */
import type { ParsedDigest } from "../distribution/grammar";

export function canonicalBlobKey(digest: ParsedDigest): string {
  return `blobs/${digest.algorithm}/${digest.hex}`;
}

export function assembledBlobKey(sessionId: string): string {
  return `blobs/assembled/${sessionId}`;
}

export function uploadTailKey(sessionId: string, offset: number): string {
  return `uploads/${sessionId}/tail-${offset}`;
}

export function uploadPrefix(sessionId: string): string {
  return `uploads/${sessionId}/`;
}

export function manifestKey(digest: ParsedDigest): string {
  return `manifests/${digest.algorithm}/${digest.hex}`;
}
