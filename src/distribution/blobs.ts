/**
 * Blob resource: GET/HEAD (with Range) and DELETE of `/v2/<name>/blobs/<digest>`.
 * A GET costs one D1 query (the link, which must exist in this repository: checked before
 * anything is served, cached or not) and one R2 read, or none when the location's edge cache
 * (Workers Cache API, keyed by digest) already holds the blob. With R2's S3 API configured
 * (src/storage/presign.ts) a GET is answered by a redirect to a short-lived presigned URL.
 * In a pull-through cache repository a miss is fetched from the upstream
 * (src/pull-through/blobs.ts).
 */
import type { AppContext } from "../app-env";
import { OciError, RegistryError } from "../errors";
import { findBlobLink, type BlobLocation } from "../storage/blob-links";
import { repositoryObject } from "../repository/stub";
import { presignConfig, presignGet } from "../storage/presign";
import { pullBlobThrough } from "../pull-through/blobs";
import { cacheTargetFor } from "../pull-through/targets";
import type { ParsedDigest } from "../oci/grammar";
import { contentRange, parseRange } from "./range";
import { requireDigest } from "./validate";

export async function getBlob(c: AppContext, name: string, digestParam: string): Promise<Response> {
  const digest = requireDigest(digestParam);
  const link = await findBlobLink(c.get("db"), name, digest.digest);
  if (link) return serveBlob(c, digest, link);
  const target = await cacheTargetFor(c, name);
  if (target === null) throw blobUnknown(name, digest.digest);
  return pullBlobThrough(c, target, digest, async () => {
    const cached = await findBlobLink(c.get("db"), name, digest.digest);
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
  if (rangeHeader === null && link.size <= EDGE_CACHE_MAX_BYTES)
    return serveThroughEdgeCache(c, digest.digest, link, headers);
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
  const object = await c.env.BLOBS.get(
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

/** Blobs up to this size are kept in the edge cache; larger ones would be held in memory twice. */
const EDGE_CACHE_MAX_BYTES = 64 * 1024 * 1024;
/** Blobs are immutable: a client or the edge may keep them for a year. */
export const IMMUTABLE_CACHE_CONTROL = "private, max-age=31536000, immutable";

function edgeCacheKey(digest: string): Request {
  return new Request(`https://edge-cache.registry.internal/blobs/${digest}`);
}

/** Serves a whole blob from the edge cache, filling it from R2 on a miss. */
async function serveThroughEdgeCache(
  c: AppContext,
  digest: string,
  link: BlobLocation,
  headers: Headers,
): Promise<Response> {
  const cache = caches.default;
  const key = edgeCacheKey(digest);
  headers.set("Content-Length", String(link.size));
  const cached = await cache.match(key);
  if (cached?.body) return new Response(cached.body, { status: 200, headers });
  const object = await c.env.BLOBS.get(link.objectKey);
  if (object === null) throw new RegistryError(OciError.BLOB_UNKNOWN, `blob ${digest} has no stored content`);
  const [toClient, toCache] = object.body.tee();
  const entry = new Response(toCache, {
    headers: {
      "Content-Length": String(link.size),
      "Cache-Control": "public, max-age=31536000, immutable",
      ETag: `"${digest}"`,
    },
  });
  c.executionCtx.waitUntil(cache.put(key, entry));
  return new Response(toClient, { status: 200, headers });
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
