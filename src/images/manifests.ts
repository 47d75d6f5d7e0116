/**
 * Manifest operations every surface shares (`/v2`, ECR's PutImage and BatchGetImage, the
 * pull-through cache): the digest of manifest bytes, the push (validate, store the bytes, have
 * the repository's Durable Object write the row and the tag), and reading a stored
 * manifest's bytes from its D1 row or from R2. No HTTP here: each surface reports the
 * outcome its own way.
 */
import type { AppContext } from "../app-env";
import { toHex } from "../bytes";
import { OciError, RegistryError } from "../errors";
import { describeSizeMismatches, parseManifest, type ManifestSummary } from "../oci/manifest-format";
import { parseDigest, type ParsedDigest } from "../oci/grammar";
import { repositoryObject } from "../repository/stub";
import { manifestKey } from "../storage/keys";
import type { ManifestRecord, StoredManifest } from "../storage/manifest-records";
import { checksumOption } from "../storage/upload-writer";

/** Manifests up to this size are kept inline in their D1 row (D1 rows hold up to 2 MB). */
export const INLINE_MANIFEST_MAX_BYTES = 1024 * 1024;
/** Annotations up to this size are copied into the row for the referrers list. */
const INLINE_ANNOTATIONS_MAX_BYTES = 256 * 1024;
/** Stored instead of annotations too large for the row: read them from the manifest itself. */
export const ANNOTATIONS_IN_MANIFEST = "@manifest";

/** The digest of manifest bytes with the given algorithm (`sha256:<hex>`). */
export async function digestOf(bytes: Uint8Array, algorithm: ParsedDigest["algorithm"]): Promise<string> {
  const hash = await crypto.subtle.digest(algorithm === "sha256" ? "SHA-256" : "SHA-512", bytes);
  return `${algorithm}:${toHex(new Uint8Array(hash))}`;
}

/** A manifest to store, already read and digested by the caller. */
export interface ManifestPush {
  bytes: Uint8Array;
  digest: string;
  /** The declared media type (Content-Type, or ECR's imageManifestMediaType), if any. */
  contentType: string | null;
  tag: string | null;
  /** Whether a missing repository is created (a /v2 push) or reported (ECR's PutImage). */
  createRepository: boolean;
  /** Written by the pull-through cache from its upstream (src/pull-through/manifests.ts). */
  cached?: boolean;
}

export type ManifestPushResult =
  | { status: "stored"; summary: ManifestSummary; unchanged: boolean }
  | { status: "missing-references"; blobs: string[]; manifests: string[] }
  | { status: "tag-immutable"; currentDigest: string }
  | { status: "no-repository" };

/**
 * The push shared by `/v2` PUT and ECR's PutImage: validates the manifest (throws
 * MANIFEST_INVALID), stores the bytes and has the repository's object check that what it
 * references is in the repository and write the row and the tag.
 */
export async function pushManifest(c: AppContext, name: string, push: ManifestPush): Promise<ManifestPushResult> {
  const summary = parseManifest(push.bytes, push.contentType);

  let body: string | null = null;
  if (push.bytes.length <= INLINE_MANIFEST_MAX_BYTES) {
    body = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(push.bytes);
  } else {
    const parsed = requireDigest(push.digest);
    await c.env.BLOBS.put(manifestKey(parsed), push.bytes, checksumOption(parsed));
  }
  const record: ManifestRecord = {
    digest: push.digest,
    mediaType: summary.mediaType,
    size: push.bytes.length,
    body,
    artifactType: summary.artifactType,
    subject: summary.subject,
    annotations: storedAnnotations(summary.annotations),
    blobDigests: summary.blobDigests,
    childDigests: summary.childDigests,
    imageSize: summary.imageSize,
  };
  const result = await repositoryObject(c.env, name).putManifest(name, record, push.tag, {
    createRepository: push.createRepository,
    cached: push.cached ?? false,
    declaredSizes: summary.declaredSizes,
  });
  // A descriptor whose size is not the stored content's makes the manifest invalid, as it
  // would a malformed one (ECR's PutImage reports both as InvalidParameterException).
  if (result.status === "size-mismatch") {
    throw new RegistryError(OciError.MANIFEST_INVALID, describeSizeMismatches(result.mismatches), { mismatches: result.mismatches });
  }
  if (result.status !== "ok") return result;
  return { status: "stored", summary, unchanged: result.unchanged };
}

function storedAnnotations(annotations: Record<string, string> | null): string | null {
  if (annotations === null) return null;
  const text = JSON.stringify(annotations);
  return text.length <= INLINE_ANNOTATIONS_MAX_BYTES ? text : ANNOTATIONS_IN_MANIFEST;
}

/** The bytes of a stored manifest, from its D1 row or from R2. */
export async function readManifestBytes(c: AppContext, manifest: StoredManifest): Promise<string | null> {
  if (manifest.body !== null) return manifest.body;
  const object = await c.env.BLOBS.get(manifestKey(requireDigest(manifest.digest)));
  return object === null ? null : object.text();
}

/** A digest this registry computed or stored (always well formed; checked all the same). */
function requireDigest(value: string): ParsedDigest {
  const digest = parseDigest(value);
  if (!digest) throw new RegistryError(OciError.DIGEST_INVALID, `invalid or unsupported digest "${value}" (sha256 and sha512 are supported)`);
  return digest;
}
