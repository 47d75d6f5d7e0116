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
 *   audit-trail/<account>/<region>/<YYYY>/<MM>/<DD>/<account>_AuditTrail_<region>_<YYYYMMDDTHHMMSSZ>_<first>-<last>.ndjson
 *                                     the audit trail exported from D1 (src/audit/export.ts), as
 *                                     CloudTrail delivers its trail to S3: one NDJSON object per
 *                                     page of records, ids <first> to <last>, dated by its first
 *                                     record (UTC). Written only to the home bucket, never linked
 *                                     by a repository: garbage collection lists `blobs/` alone and
 *                                     deletes from replicas only content-addressed keys
 *                                     (digestOfContentKey), so it never touches them.
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

/** Where the exported audit trail lives (see the layout above); nothing else is written under it. */
export const AUDIT_TRAIL_PREFIX = "audit-trail/";

/**
 * The object holding records `firstId` to `lastId` of the trail, named after CloudTrail's log
 * files and dated by the first record's time (`firstAt`, epoch ms, UTC). The same page always
 * gets the same key, so writing it again replaces it.
 */
export function auditTrailKey(
  trail: { accountId: string; region: string },
  firstAt: number,
  firstId: number,
  lastId: number,
): string {
  const iso = new Date(firstAt).toISOString();
  const day = iso.slice(0, 10).replaceAll("-", "/");
  const stamp = `${iso.slice(0, 19).replaceAll("-", "").replaceAll(":", "")}Z`;
  const { accountId, region } = trail;
  return `${AUDIT_TRAIL_PREFIX}${accountId}/${region}/${day}/${accountId}_AuditTrail_${region}_${stamp}_${firstId}-${lastId}.ndjson`;
}
