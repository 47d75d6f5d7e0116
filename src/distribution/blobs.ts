/**
 * Blob resource: GET/HEAD (with Range) and DELETE of `/v2/<name>/blobs/<digest>`.
 * A GET costs one D1 query (the link, which must exist in this repository: checked before
 * anything is served, cached or not; read near the user, src/images/pull-reads.ts) and one R2
 * read from the replica bucket nearest the request, or the home bucket; none when the
 * location's edge cache (Workers Cache API, keyed by digest, up to EDGE_CACHE_MAX_BYTES)
 * already holds the blob. The edge cache is keyed by digest alone because the bytes of a
 * digest are the same in every repository; it is read only after this repository's link (and
 * the caller's permission on this repository) is checked, so it never serves one repository's
 * content to a caller of another. With R2's S3 API configured (src/storage/presign.ts) a GET
 * is answered by a redirect to a short-lived presigned URL. In a pull-through cache repository
 * a miss is fetched from the upstream (src/pull-through/blobs.ts).
 */
import type { AppContext } from "../app-env";
import { OciError, RegistryError } from "../errors";
import type { BlobLocation } from "../storage/blob-links";
import { canonicalBlobKey } from "../storage/keys";
import { findBlobLinkForPull, forgetDeleted, getNearestObject } from "../images/pull-reads";
import { repositoryObject } from "../repository/stub";
import { presignConfig, presignGet } from "../storage/presign";
import { pullBlobThrough } from "../pull-through/blobs";
import { cacheTargetFor } from "../pull-through/targets";
import type { ParsedDigest } from "../oci/grammar";
import { contentRange, parseRange } from "./range";
import { requireDigest } from "./validate";

export async function getBlob(c: AppContext, name: string, digestParam: string): Promise<Response> {
  const digest = requireDigest(digestParam);
  const link = await findBlobLinkForPull(c, name, digest.digest);
  if (link) return serveBlob(c, digest, link);
  const target = await cacheTargetFor(c, name);
  if (target === null) throw blobUnknown(name, digest.digest);
  return pullBlobThrough(c, target, digest, async () => {
    const cached = await findBlobLinkForPull(c, name, digest.digest);
    if (!cached) throw blobUnknown(name, digest.digest);
    return serveBlob(c, digest, cached);
  });
}

function blobUnknown(name: string, digest: string): RegistryError {
  return new RegistryError(OciError.BLOB_UNKNOWN, `blob ${digest} is not in repository ${name}`, { digest });
}

async function serveBlob(c: AppContext, digest: ParsedDigest, link: BlobLocation): Promise<Response> {
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest.digest,
    ETag: `"${digest.digest}"`,
    "Accept-Ranges": "bytes",
    "Cache-Control": IMMUTABLE_CACHE_CONTROL,
  });
  if (c.req.header("If-None-Match") === `"${digest.digest}"`) return new Response(null, { status: 304, headers });
  if (c.req.method === "HEAD") {
    headers.set("Content-Length", String(link.size));
    return new Response(null, { status: 200, headers });
  }
  const presign = presignConfig(c.var.settings.presign);
  if (presign) {
    // The bytes come straight from R2; the client follows the redirect (with its Range).
    headers.set("Location", await presignGet(presign, link.objectKey));
    headers.set("Cache-Control", "no-store");
    return new Response(null, { status: 307, headers });
  }
  const rangeHeader = c.req.header("Range") ?? null;
  if (rangeHeader === null && link.size <= c.var.settings.edgeCacheMaxBytes)
    return serveThroughEdgeCache(c, digest, link, headers);
  const range = parseRange(rangeHeader, link.size);
  if (range.kind === "unsatisfiable") {
    throw new RegistryError(
      OciError.RANGE_INVALID,
      `range not satisfiable for a blob of ${link.size} bytes`,
      undefined,
      {
        "Content-Range": `bytes */${link.size}`,
      },
    );
  }
  const object = await getNearestObject(
    c,
    canonicalBlobKey(digest),
    link.objectKey,
    range.kind === "partial" ? { range: { offset: range.offset, length: range.length } } : undefined,
  );
  if (object === null) throw new RegistryError(OciError.BLOB_UNKNOWN, `blob ${digest.digest} has no stored content`);
  if (range.kind === "partial") {
    headers.set("Content-Length", String(range.length));
    headers.set("Content-Range", contentRange(range.offset, range.length, link.size));
    return new Response(object.body, { status: 206, headers });
  }
  headers.set("Content-Length", String(link.size));
  return new Response(object.body, { status: 200, headers });
}

/**
 * Blobs up to this size fill the edge cache from the client's own read (a tee: the slower
 * branch buffers, at worst the whole blob, so this stays well inside an isolate's 128 MB);
 * larger ones (up to EDGE_CACHE_MAX_BYTES) are filled by a second R2 read after the response.
 */
const TEE_FILL_MAX_BYTES = 64 * 1024 * 1024;
/** Blobs are immutable: a client or the edge may keep them for a year. */
export const IMMUTABLE_CACHE_CONTROL = "private, max-age=31536000, immutable";

function edgeCacheKey(digest: string): Request {
  return new Request(`https://edge-cache.registry.internal/blobs/${digest}`);
}

/** Serves a whole blob from the edge cache, filling it from R2 on a miss. */
async function serveThroughEdgeCache(
  c: AppContext,
  digest: ParsedDigest,
  link: BlobLocation,
  headers: Headers,
): Promise<Response> {
  const cache = caches.default;
  const key = edgeCacheKey(digest.digest);
  headers.set("Content-Length", String(link.size));
  const cached = await cache.match(key);
  if (cached?.body) return new Response(cached.body, { status: 200, headers });
  const read = () => getNearestObject(c, canonicalBlobKey(digest), link.objectKey);
  const object = await read();
  if (object === null) throw new RegistryError(OciError.BLOB_UNKNOWN, `blob ${digest.digest} has no stored content`);
  const entry = (body: ReadableStream) =>
    new Response(body, {
      headers: {
        "Content-Length": String(link.size),
        "Cache-Control": "public, max-age=31536000, immutable",
        ETag: `"${digest.digest}"`,
      },
    });
  if (link.size <= TEE_FILL_MAX_BYTES) {
    const [toClient, toCache] = object.body.tee();
    c.executionCtx.waitUntil(cache.put(key, entry(toCache)));
    return new Response(toClient, { status: 200, headers });
  }
  c.executionCtx.waitUntil(read().then((copy) => (copy === null ? undefined : cache.put(key, entry(copy.body)))));
  return new Response(object.body, { status: 200, headers });
}

/**
 * Unlinks the blob from this repository; the bytes stay while other repositories link them.
 * A blob that a manifest of the repository references is not deleted: that would leave the
 * image unpullable. The spec's answer when "blob deletion is disabled" is 400 or 405; deletion
 * is disabled for this blob while the manifest exists, so it is 405 UNSUPPORTED (the code the
 * spec gives for an unsupported operation; DENIED would suggest missing permissions), naming
 * the manifests to delete first. Unreferenced blobs are deleted with 202.
 */
export async function deleteBlob(c: AppContext, name: string, digestParam: string): Promise<Response> {
  const digest = requireDigest(digestParam);
  const result = await repositoryObject(c.env, name).deleteBlob(name, digest.digest);
  if (result.status === "unknown") throw blobUnknown(name, digest.digest);
  if (result.status === "unlinked") await forgetDeleted(c.env, name, { blob: digest.digest });
  if (result.status === "referenced") {
    const more = result.total > result.manifests.length ? ` and ${result.total - result.manifests.length} more` : "";
    throw new RegistryError(
      OciError.UNSUPPORTED,
      `blob ${digest.digest} is referenced by manifest ${result.manifests.join(", ")}${more} in repository ${name}; delete those manifests first`,
      { digest: digest.digest, manifests: result.manifests, referencingManifests: result.total },
      // RFC 9110: a 405 lists the methods the resource supports now.
      { Allow: "GET, HEAD" },
    );
  }
  return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
}
