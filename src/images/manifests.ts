/**
 * Manifest operations every surface shares (`/v2`, ECR's image actions, the pull-through
 * cache, and the jobs to come): the digest of manifest bytes, the push (validate, store the
 * bytes, have the repository's Durable Object check the references and write the row and
 * the tag), finding a stored manifest by reference, and reading its bytes from the D1 row or
 * from R2. No HTTP here: a malformed manifest is an OciFormatError and every outcome of a
 * push is one ManifestPushResult, which each surface reports its own way.
 */
import { toHex } from "../bytes";
import { OciFormatError } from "../oci/errors";
import { parseDigest, type DigestAlgorithm, type ParsedDigest, type Reference } from "../oci/grammar";
import { parseManifest } from "../oci/manifest-format";
import type { ManifestPushResult } from "../repository/repository-object";
import { repositoryObject } from "../repository/stub";
import { rememberPushedTag } from "./pull-reads";
import { IMAGE_MANIFEST_TYPES } from "../oci/media-types";
import { scanAfterPush } from "../scanning/requests";
import { destinationsFor } from "../replication/configuration";
import { readReplicationConfiguration } from "../replication/store";
import { database, type Database } from "../storage/database";
import type { ReplicationTarget } from "../storage/replication-records";
import { manifestKey } from "../storage/keys";
import {
  findManifestByDigest,
  findManifestByTag,
  type ManifestRecord,
  type StoredManifest,
} from "../storage/manifest-records";
import { checksumOption } from "../storage/upload-writer";

/** Manifests up to this size are kept inline in their D1 row (D1 rows hold up to 2 MB). */
export const INLINE_MANIFEST_MAX_BYTES = 1024 * 1024;
/** Annotations up to this size are copied into the row for the referrers list. */
const INLINE_ANNOTATIONS_MAX_BYTES = 256 * 1024;
/** Stored instead of annotations too large for the row: read them from the manifest itself. */
export const ANNOTATIONS_IN_MANIFEST = "@manifest";

/** The digest of manifest bytes with the given algorithm (`sha256:<hex>`). */
export async function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm): Promise<string> {
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
  /**
   * The push is itself a replication from another registry (a peer account's push): replication
   * is not transitive, so it records no replication work here.
   */
  replicated?: boolean;
  /** A pull-through import from this rule's upstream, reported as such (src/events/envelope.ts). */
  pullThrough?: { prefix: string; upstreamUrl: string };
}

/**
 * The push shared by `/v2` PUT, ECR's PutImage and the pull-through cache: validates the
 * manifest (throws OciFormatError), stores the bytes and has the repository's object check
 * that what it references is in the repository and write the row and the tag. The object's
 * answer is returned as it is.
 */
export async function pushManifest(env: Env, name: string, push: ManifestPush): Promise<ManifestPushResult> {
  // Pull-through cache repositories are not replicated (ECR), nor are replicated pushes.
  const replicates = !(push.cached ?? false) && !(push.replicated ?? false);
  const destinations = replicates ? replicationDestinations(env, name) : Promise.resolve([]);
  // Read while the manifest is parsed and stored; a failed read fails the push (no push is missed).
  destinations.catch(() => undefined);
  const summary = parseManifest(push.bytes, push.contentType);

  let body: string | null = null;
  if (push.bytes.length <= INLINE_MANIFEST_MAX_BYTES) {
    body = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(push.bytes);
  } else {
    const parsed = parseDigest(push.digest);
    if (parsed === null)
      throw new OciFormatError(
        "digest-invalid",
        `invalid or unsupported digest "${push.digest}" (sha256 and sha512 are supported)`,
      );
    await env.BLOBS.put(manifestKey(parsed), push.bytes, checksumOption(parsed));
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
  const result = await repositoryObject(env, name).putManifest(name, record, push.tag, {
    createRepository: push.createRepository,
    cached: push.cached ?? false,
    declaredSizes: summary.declaredSizes,
    replicateTo: await destinations,
    ...(push.replicated === true ? { createdFor: "REPLICATION" as const } : {}),
    ...(push.pullThrough === undefined ? {} : { pullThrough: push.pullThrough }),
  });
  if (result.status === "stored" && !result.unchanged && IMAGE_MANIFEST_TYPES.has(result.mediaType)) {
    // A scan that cannot start (the queue unavailable) is reported by the scan's status, not by failing the push.
    await scanAfterPush(env, name, record.digest).catch((error: unknown) =>
      console.error(`scan on push of ${name}@${record.digest} did not start`, error),
    );
  }
  if (result.status === "stored" && push.tag !== null) {
    // The location that took the push answers the tag with it at once (src/images/pull-reads.ts).
    const now = Date.now();
    await rememberPushedTag(env, name, push.tag, {
      digest: record.digest,
      mediaType: result.mediaType,
      size: record.size,
      body,
      subject: result.subject,
      updatedAt: now,
      validatedAt: push.cached === true ? now : null,
    });
  }
  return result;
}

/** Where a push to the repository is replicated, by the configuration as it is now. */
async function replicationDestinations(env: Env, name: string): Promise<ReplicationTarget[]> {
  return destinationsFor(await readReplicationConfiguration(database(env.DB)), name);
}

function storedAnnotations(annotations: Record<string, string> | null): string | null {
  if (annotations === null) return null;
  const text = JSON.stringify(annotations);
  return text.length <= INLINE_ANNOTATIONS_MAX_BYTES ? text : ANNOTATIONS_IN_MANIFEST;
}

/** The manifest the repository stores under `reference` (one D1 query), if any. */
export async function findManifest(
  db: Database,
  name: string,
  reference: Reference,
): Promise<StoredManifest | undefined> {
  return reference.kind === "tag"
    ? findManifestByTag(db, name, reference.tag)
    : findManifestByDigest(db, name, reference.digest.digest);
}

/** What `readManifestBytes` needs of a stored manifest (a manifest row, or a row of the image list). */
export interface ManifestBodySource {
  digest: string;
  /** The manifest's text when its row holds it; null for one kept in R2 (over INLINE_MANIFEST_MAX_BYTES). */
  body: string | null;
}

/**
 * A stored manifest's bytes: the text its D1 row holds, or R2's object for one too large for
 * the row (its body streams); null when R2 no longer has it.
 */
export async function readManifestBytes(
  blobs: R2Bucket,
  manifest: ManifestBodySource,
): Promise<string | R2ObjectBody | null> {
  if (manifest.body !== null) return manifest.body;
  const digest: ParsedDigest | null = parseDigest(manifest.digest);
  return digest === null ? null : blobs.get(manifestKey(digest));
}

/** A stored manifest's text (readManifestBytes, read whole). */
export async function readManifestText(blobs: R2Bucket, manifest: ManifestBodySource): Promise<string | null> {
  const bytes = await readManifestBytes(blobs, manifest);
  return bytes === null || typeof bytes === "string" ? bytes : bytes.text();
}
