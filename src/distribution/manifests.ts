/**
 * Manifest resource: GET/HEAD/PUT/DELETE of `/v2/<name>/manifests/<reference>` by tag or
 * digest: HTTP and OCI errors around the image operations. Reads go to D1 (one query) and, for
 * manifests too large for a D1 row, R2, through the pull-through cache (which answers from the
 * repository unless it is a cache with a miss or a tag due for revalidation); every write is
 * pushManifest (src/images/manifests.ts).
 */
import type { AppContext } from "../app-env";
import { callerIsCrossAccount } from "../auth/authorizer";
import { authConfig } from "../auth/config";
import { OciError, RegistryError } from "../errors";
import { readAtMost } from "../bytes";
import { digestOf, pushManifest } from "../images/manifests";
import { forgetDeleted, readManifestForPull } from "../images/pull-reads";
import { recordPull } from "../images/pull-records";
import { OciFormatError } from "../oci/errors";
import { isValidTag, looksLikeDigest, parseReference, type Reference } from "../oci/grammar";
import { describeSizeMismatches } from "../oci/manifest-format";
import { essence, MANIFEST_TYPES } from "../oci/media-types";
import { findManifestThrough } from "../pull-through/manifests";
import { repositoryObject } from "../repository/stub";
import { bodyTimeout, declaredBodyLength } from "../request-body";
import { IMMUTABLE_CACHE_CONTROL } from "./blobs";
import { ociWireError, requireDigest } from "./validate";

const SCHEMA1_TYPES = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);

/** Reads a reference for a write; malformed ones are the client's error (400). */
function requireReference(reference: string): Reference {
  if (looksLikeDigest(reference)) return { kind: "digest", digest: requireDigest(reference) };
  if (!isValidTag(reference))
    throw new RegistryError(OciError.TAG_INVALID, `invalid tag "${reference}"`, { tag: reference });
  return { kind: "tag", tag: reference };
}

function unknownManifest(name: string, reference: string): RegistryError {
  return new RegistryError(OciError.MANIFEST_UNKNOWN, `manifest ${reference} is not in repository ${name}`, {
    reference,
  });
}

/**
 * True when the client's Accept header lists manifest types and the stored one is not among
 * them. Headers naming no manifest type (absent, `*\/*`, `application/json`) accept anything.
 */
function acceptRefuses(accept: string | undefined, mediaType: string): boolean {
  if (!accept) return false;
  const ranges = accept.split(",").map((range) => essence(range));
  if (ranges.includes(mediaType) || ranges.includes("*/*") || ranges.includes("application/*")) return false;
  return ranges.some((range) => MANIFEST_TYPES.has(range) || SCHEMA1_TYPES.has(range));
}

// ---- GET / HEAD ---------------------------------------------------------------------------

export async function getManifest(c: AppContext, name: string, reference: string): Promise<Response> {
  const parsed = parseReference(reference);
  const manifest = parsed === null ? undefined : await findManifestThrough(c, name, parsed);
  // A malformed reference names a manifest that cannot exist: 404, like any unknown one.
  if (!manifest) throw unknownManifest(name, reference);
  if (acceptRefuses(c.req.header("Accept"), manifest.mediaType)) {
    throw new RegistryError(
      OciError.MANIFEST_UNKNOWN,
      `manifest ${reference} is ${manifest.mediaType}, which the Accept header does not list`,
      { reference, mediaType: manifest.mediaType },
    );
  }
  const headers = new Headers({
    "Content-Type": manifest.mediaType,
    "Content-Length": String(manifest.size),
    "Docker-Content-Digest": manifest.digest,
    ETag: `"${manifest.digest}"`,
    // By digest the bytes never change; a tag may move, so it is revalidated (ETag).
    "Cache-Control": looksLikeDigest(reference) ? IMMUTABLE_CACHE_CONTROL : "no-cache",
  });
  if (c.req.header("If-None-Match") === `"${manifest.digest}"`) return new Response(null, { status: 304, headers });
  if (c.req.method === "HEAD") return new Response(null, { status: 200, headers });
  recordPull(c, name, manifest.digest);
  const bytes = await readManifestForPull(c, manifest);
  if (bytes === null) throw unknownManifest(name, reference);
  return new Response(typeof bytes === "string" ? bytes : bytes.body, { status: 200, headers });
}

// ---- PUT ----------------------------------------------------------------------------------

async function readManifestBody(c: AppContext): Promise<Uint8Array> {
  const limit = c.var.settings.manifestMaxBytes;
  const tooLarge = () => new RegistryError(OciError.MANIFEST_TOO_LARGE, `manifest exceeds ${limit} bytes`, { limit });
  declaredBodyLength(c.req.raw.headers, limit, {
    invalid: (message) => new RegistryError(OciError.SIZE_INVALID, message),
    tooLarge,
  });
  const timeout = bodyTimeout(
    c.var.settings,
    () => new RegistryError(OciError.MANIFEST_TIMEOUT, `the manifest stopped arriving for ${timeout.ms / 1000} s`),
  );
  return readAtMost(c.req.raw.body, limit, tooLarge, timeout);
}

export async function putManifest(c: AppContext, name: string, referenceParam: string): Promise<Response> {
  const reference = requireReference(referenceParam);
  const bytes = await readManifestBody(c);
  const algorithm = reference.kind === "digest" ? reference.digest.algorithm : "sha256";
  const digest = await digestOf(bytes, algorithm);
  if (reference.kind === "digest" && reference.digest.digest !== digest) {
    throw new RegistryError(OciError.DIGEST_INVALID, `manifest has digest ${digest}, not ${reference.digest.digest}`, {
      digest: reference.digest.digest,
    });
  }
  const tag = reference.kind === "tag" ? reference.tag : null;
  const result = await push(c, name, {
    bytes,
    digest,
    contentType: c.req.header("Content-Type") ?? null,
    tag,
    createRepository: true,
    // A peer account's push is a replication, which is not replicated further.
    replicated: callerIsCrossAccount(c, await authConfig(c.var.settings.auth)),
  });
  // A descriptor whose size is not the stored content's makes the manifest invalid, as a
  // malformed one is.
  if (result.status === "size-mismatch") {
    throw new RegistryError(OciError.MANIFEST_INVALID, describeSizeMismatches(result.mismatches), {
      mismatches: result.mismatches,
    });
  }
  if (result.status === "missing-references") {
    const missing = [...result.blobs, ...result.manifests];
    throw new RegistryError(
      OciError.MANIFEST_BLOB_UNKNOWN,
      `manifest references content not in repository ${name}: ${missing.join(", ")}`,
      {
        digests: missing,
      },
    );
  }
  if (result.status === "tag-immutable") {
    throw new RegistryError(
      OciError.TAG_INVALID,
      `tag ${tag} already exists in repository ${name}, whose tags are immutable (IMMUTABLE); it points at ${result.currentDigest}`,
      { tag, digest: result.currentDigest },
    );
  }
  if (result.status === "no-repository")
    throw new RegistryError(OciError.NAME_UNKNOWN, `repository ${name} does not exist`);
  const headers = new Headers({
    Location: `/v2/${name}/manifests/${digest}`,
    "Docker-Content-Digest": digest,
    "Content-Length": "0",
  });
  if (result.subject !== null) headers.set("OCI-Subject", result.subject);
  return new Response(null, { status: 201, headers });
}

/** pushManifest, with a manifest the OCI vocabulary refuses reported as `/v2` reports it. */
async function push(c: AppContext, name: string, manifest: Parameters<typeof pushManifest>[2]) {
  try {
    return await pushManifest(c.env, name, manifest);
  } catch (error) {
    if (error instanceof OciFormatError) throw ociWireError(error);
    throw error;
  }
}

// ---- DELETE -------------------------------------------------------------------------------

/** By tag: removes that tag only. By digest: removes the manifest and every tag on it. */
export async function deleteManifest(c: AppContext, name: string, referenceParam: string): Promise<Response> {
  const reference = requireReference(referenceParam);
  const repository = repositoryObject(c.env, name);
  if (reference.kind === "tag") {
    if (!(await repository.deleteTag(name, reference.tag))) throw unknownManifest(name, referenceParam);
    await forgetDeleted(c.env, name, { tag: reference.tag });
  } else {
    const removedTags = await repository.deleteManifest(name, reference.digest.digest);
    if (removedTags === null) throw unknownManifest(name, referenceParam);
    await Promise.all([
      forgetDeleted(c.env, name, { manifest: reference.digest.digest }),
      ...removedTags.map((tag) => forgetDeleted(c.env, name, { tag })),
    ]);
  }
  return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
}
