/**
 * The R2 key layout: the one place that knows where bytes live in the bucket.
 *
 *   blobs/<alg>/<hex>                 a blob whose digest was known before its bytes were
 *                                     written (monolithic uploads, small chunked uploads):
 *                                     written with R2's own checksum check, shared by every
 *                                     repository that links the digest.
 *   blobs/assembled/<session-id>.<writer>
 *                                     a blob assembled in an upload session (one object, or
 *                                     an R2 multipart upload). Its digest is only known when
 *                                     the session closes, and R2 cannot rename, so the key
 *                                     stays the session's and the D1 link row records it
 *                                     (`repository_blobs.object_key`). <writer> is the lease of
 *                                     the request that created it, so a request that lost its
 *                                     lease never overwrites another's object. A later session
 *                                     for a digest that already has an object links the
 *                                     existing object and drops its own, so each digest keeps
 *                                     one object. (Sessions from before writers were named
 *                                     use blobs/assembled/<session-id>.)
 *   uploads/<session-id>/tail-<offset>-<writer>
 *                                     the bytes of an open upload session past its last full
 *                                     multipart part (fewer than one part), written when a
 *                                     PATCH ends at <offset>; deleted when the session closes.
 *   manifests/<alg>/<hex>             manifest bytes too large to keep inline in D1.
 *
 * A regional replica bucket (REPLICA_REGIONS) holds copies under the content addresses alone:
 * `blobs/<alg>/<hex>` for every blob, whatever its key in the home bucket, and
 * `manifests/<alg>/<hex>`; replication writes them (src/replication/regional.ts) and garbage
 * collection removes those no repository references (src/gc/collect.ts).
 *
 * Blob links (which repository may read which digest, and under which key) live in D1; upload
 * session state lives in the repository's Durable Object.
 */
import type { ParsedDigest } from "../oci/grammar";

export function canonicalBlobKey(digest: ParsedDigest): string {
  return `blobs/${digest.algorithm}/${digest.hex}`;
}

/** Where a session's blob is assembled; `writer` names the request (lease) that creates it. */
export function assembledBlobKey(sessionId: string, writer?: string): string {
  return writer === undefined ? `blobs/assembled/${sessionId}` : `blobs/assembled/${sessionId}.${writer}`;
}

export function uploadTailKey(sessionId: string, offset: number, writer: string): string {
  return `uploads/${sessionId}/tail-${offset}-${writer}`;
}

export function uploadPrefix(sessionId: string): string {
  return `uploads/${sessionId}/`;
}

export function manifestKey(digest: ParsedDigest): string {
  return `manifests/${digest.algorithm}/${digest.hex}`;
}

/** The digest a content-addressed key names (`blobs/<alg>/<hex>`, `manifests/<alg>/<hex>`), or null. */
export function digestOfContentKey(key: string): string | null {
  const match = /^(?:blobs|manifests)\/(sha256|sha512)\/([0-9a-f]+)$/.exec(key);
  return match === null ? null : `${match[1]}:${match[2]}`;
}
