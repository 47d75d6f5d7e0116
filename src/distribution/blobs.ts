/**
 * Blob resource: GET/HEAD (with Range) and DELETE of `/v2/<name>/blobs/<digest>`.
 * A GET costs one D1 query (the link, which must exist in this repository) and one R2 read.
 */
import type { AppContext } from "../app-env";
import { OciError, RegistryError } from "../errors";
import { findBlobLink, unlinkBlob } from "../storage/blob-links";
import { contentRange, parseRange } from "./range";
import { requireDigest } from "./validate";

export async function getBlob(c: AppContext, name: string, digestParam: string): Promise<Response> {
  const digest = requireDigest(digestParam);
  const link = await findBlobLink(c.get("db"), name, digest.digest);
  if (!link) throw new RegistryError(OciError.BLOB_UNKNOWN, `blob ${digest.digest} is not in repository ${name}`, { digest: digest.digest });
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest.digest,
    ETag: `"${digest.digest}"`,
    "Accept-Ranges": "bytes",
  });
  if (c.req.header("If-None-Match") === `"${digest.digest}"`) return new Response(null, { status: 304, headers });
  if (c.req.method === "HEAD") {
    headers.set("Content-Length", String(link.size));
    return new Response(null, { status: 200, headers });
  }
  const range = parseRange(c.req.header("Range") ?? null, link.size);
  if (range.kind === "unsatisfiable") {
    throw new RegistryError(OciError.RANGE_INVALID, `range not satisfiable for a blob of ${link.size} bytes`, undefined, {
      "Content-Range": `bytes */${link.size}`,
    });
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

/** Unlinks the blob from this repository; the bytes stay while other repositories link them. */
export async function deleteBlob(c: AppContext, name: string, digestParam: string): Promise<Response> {
  const digest = requireDigest(digestParam);
  if (!(await unlinkBlob(c.get("db"), name, digest.digest))) {
    throw new RegistryError(OciError.BLOB_UNKNOWN, `blob ${digest.digest} is not in repository ${name}`, { digest: digest.digest });
  }
  return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
}
