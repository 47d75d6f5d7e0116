/**
 * Image actions: DescribeImages, ListImages, BatchGetImage, BatchDeleteImage, PutImage.
 * Reads go to D1; deletions go through the repository's Durable Object, and PutImage through
 * the same push as `/v2` (pushManifest, src/images/manifests.ts), except that it never creates
 * a repository.
 */
import { EcrError, RegistryError } from "../../errors";
import { imageSizesOf, sizeSources } from "../../images/image-sizes";
import { digestOf, pushManifest, readManifestText } from "../../images/manifests";
import { forgetDeleted } from "../../images/pull-reads";
import { OciFormatError } from "../../oci/errors";
import { isValidTag, parseDigest, type Reference } from "../../oci/grammar";
import { describeSizeMismatches } from "../../oci/manifest-format";
import { essence } from "../../oci/media-types";
import type { Importer } from "../../pull-through/importer";
import { importManifest } from "../../pull-through/manifests";
import { cacheTargetFor, refusePushIntoCache, type RuleTarget } from "../../pull-through/targets";
import { UpstreamFailure } from "../../pull-through/upstream-client";
import type { DeletionFailure, ImageTarget } from "../../repository/image-deletion";
import { repositoryObject } from "../../repository/stub";
import {
  findImageRows,
  findManifestBodies,
  listImageIdRows,
  listImageRows,
  type ImageRow,
  type ManifestBodyRow,
  type TagStatus,
} from "../../storage/image-records";
import { findReplicationStatuses } from "../../storage/replication-records";
import type { ActionHandler, ControlContext } from "../context";
import {
  decodeNextToken,
  encodeNextToken,
  epochSeconds,
  invalidParameter,
  type Input,
  type JsonObject,
} from "../input";
import { flushPullRecords, recordPull } from "../../images/pull-records";
import { repositoryName, repositoryNotFound, requireRepository } from "./repositories";
import {
  imageIdShape,
  imageNotFound,
  MAX_TAG_LENGTH,
  readImageIds,
  requireImage,
  resolveTargets,
  targetShape,
  type ParsedImageId,
} from "./image-ids";
import { imageScanMembers } from "./scan-status";
import { findImageScans } from "../../storage/scan-records";

const DEFAULT_PAGE = 100;
const TAG_STATUSES = ["TAGGED", "UNTAGGED", "ANY"] as const;

function readTagStatus(input: Input): TagStatus {
  const filter = input.optionalObject("filter");
  return (filter?.optionalString("tagStatus", { oneOf: TAG_STATUSES }) ?? "ANY") as TagStatus;
}

// ---- image details ------------------------------------------------------------------------

/**
 * BatchGetImage of an image a pull-through cache repository lacks: imported from the upstream
 * as a /v2 pull would, or the failure ECR reports (UpstreamTooManyRequests, ...).
 */
async function importForBatchGet(
  ctx: ControlContext,
  cache: RuleTarget,
  target: ImageTarget,
): Promise<{ row: ManifestBodyRow } | { failureCode: string; failureReason: string }> {
  const digest = target.digest === undefined ? null : parseDigest(target.digest);
  // By tag when a tag is given (the tag is cached with it), else by digest.
  const reference: Reference | null =
    target.tag !== undefined ? { kind: "tag", tag: target.tag } : digest !== null ? { kind: "digest", digest } : null;
  if (reference === null) return { failureCode: "ImageNotFound", failureReason: "Requested image not found" };
  const importer: Importer = {
    actor: ctx.principal.arn,
    authorize: (action, repository) => ctx.authorize(action, repository),
  };
  try {
    const stored = await importManifest(ctx.c, cache, reference, importer);
    if (digest !== null && reference.kind === "tag" && stored.digest !== digest.digest) {
      return {
        failureCode: "ImageTagDoesNotMatchDigest",
        failureReason: "Invalid request parameters: given tag does not map to the given digest",
      };
    }
    return { row: { digest: stored.digest, mediaType: stored.mediaType, imageSize: null, body: stored.body } };
  } catch (error) {
    if (!(error instanceof UpstreamFailure)) throw error;
    const failureCode = {
      "not-found": "ImageNotFound",
      "rate-limited": "UpstreamTooManyRequests",
      denied: "UpstreamAccessDenied",
      unavailable: "UpstreamUnavailable",
      invalid: "UpstreamUnavailable",
    }[error.kind];
    return { failureCode, failureReason: error.message };
  }
}

/** ECR's imageSizeInBytes per image (src/images/image-sizes.ts); an index reports its largest child. */
async function imageSizes(ctx: ControlContext, name: string, rows: readonly ImageRow[]): Promise<Map<string, number>> {
  const sources = await findManifestBodies(ctx.db, name, sizeSources(rows));
  return imageSizesOf(ctx.c.env.BLOBS, rows, sources);
}

async function describeRows(ctx: ControlContext, name: string, rows: readonly ImageRow[]): Promise<JsonObject[]> {
  const [sizes, scans] = await Promise.all([
    imageSizes(ctx, name, rows),
    findImageScans(
      ctx.db,
      name,
      rows.map((row) => row.digest),
    ),
  ]);
  return rows.map((row) => ({
    registryId: ctx.config.accountId,
    repositoryName: name,
    imageDigest: row.digest,
    ...(row.tags.length > 0 ? { imageTags: row.tags } : {}),
    imageSizeInBytes: sizes.get(row.digest) ?? 0,
    imagePushedAt: epochSeconds(row.pushedAt),
    imageManifestMediaType: row.mediaType,
    ...(row.artifactType === null ? {} : { artifactMediaType: row.artifactType }),
    ...(row.lastPulledAt === null ? {} : { lastRecordedPullTime: epochSeconds(row.lastPulledAt) }),
    ...imageScanMembers(scans.get(row.digest)),
  }));
}

/** DescribeImages with imageIds: every id must name an image; each image is reported once. */
async function describeRequested(
  ctx: ControlContext,
  name: string,
  ids: readonly ParsedImageId[],
): Promise<JsonObject[]> {
  const targets = ids.map((id) => {
    if ("failure" in id) throw invalidParameter(`imageIds: ${id.failure.failureReason}`);
    return id.target;
  });
  const resolutions = await resolveTargets(ctx, name, targets);
  const digests = resolutions.flatMap((resolution) => ("digest" in resolution ? [resolution.digest] : []));
  const found = await findImageRows(ctx.db, name, [...new Set(digests)]);
  const rows = new Map<string, ImageRow>();
  targets.forEach((target, index) => {
    const resolution = resolutions[index];
    const row = resolution !== undefined && "digest" in resolution ? found.get(resolution.digest) : undefined;
    if (row === undefined) throw imageNotFound(ctx, name, target);
    rows.set(row.digest, row);
  });
  return describeRows(ctx, name, [...rows.values()]);
}

// ---- PutImage -----------------------------------------------------------------------------

interface PutImageRequest {
  name: string;
  manifest: string;
  mediaType: string | null;
  tag: string | null;
  digest: string | null;
}

function readPutImage(ctx: ControlContext): PutImageRequest {
  const name = repositoryName(ctx);
  const limit = ctx.c.var.settings.manifestMaxBytes;
  const manifest = ctx.input.string("imageManifest", { min: 1, max: limit });
  if (new TextEncoder().encode(manifest).length > limit) throw invalidParameter(`imageManifest exceeds ${limit} bytes`);
  const mediaType = ctx.input.optionalString("imageManifestMediaType", { min: 1, max: 255 }) ?? null;
  const tag = ctx.input.optionalString("imageTag", { min: 1, max: MAX_TAG_LENGTH }) ?? null;
  if (tag !== null && !isValidTag(tag))
    throw invalidParameter(`imageTag "${tag}" must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`);
  const digest = ctx.input.optionalString("imageDigest") ?? null;
  if (digest !== null && parseDigest(digest) === null)
    throw invalidParameter(`imageDigest "${digest}" is not a sha256 or sha512 digest`);
  return { name, manifest, mediaType, tag, digest };
}

function invalidManifest(message: string): RegistryError {
  return invalidParameter(`Invalid parameter at 'imageManifest' failed to satisfy constraint: '${message}'`);
}

/** pushManifest, with a manifest the OCI vocabulary refuses reported as ECR reports it. */
async function pushImage(ctx: ControlContext, request: PutImageRequest, bytes: Uint8Array, digest: string) {
  try {
    return await pushManifest(ctx.c.env, request.name, {
      bytes,
      digest,
      contentType: request.mediaType,
      tag: request.tag,
      createRepository: false,
    });
  } catch (error) {
    if (error instanceof OciFormatError) throw invalidManifest(error.message);
    throw error;
  }
}

// ---- actions ------------------------------------------------------------------------------

export const imageActions: Record<string, ActionHandler> = {
  async DescribeImageReplicationStatus(ctx) {
    const { name, digest, tag } = await requireImage(ctx, "ecr:DescribeImageReplicationStatus");
    // One status per destination, the newest push's: a repush of the image records new work.
    const statuses = new Map<string, JsonObject>();
    for (const row of await findReplicationStatuses(ctx.db, name, digest)) {
      statuses.set(`${row.registryId}/${row.region}`, {
        region: row.region,
        registryId: row.registryId,
        status: row.status,
        // An item being retried keeps its last failure for the admin view; ECR reports a code for FAILED only.
        ...(row.status === "FAILED" && row.failureCode !== null ? { failureCode: row.failureCode } : {}),
      });
    }
    return {
      repositoryName: name,
      imageId: imageIdShape(digest, tag),
      replicationStatuses: [...statuses.values()],
    };
  },

  async DescribeImages(ctx) {
    const name = repositoryName(ctx);
    const ids = readImageIds(ctx.input, false);
    const maxResults = ctx.input.optionalInteger("maxResults", 1, 1000);
    const nextToken = ctx.input.optionalString("nextToken");
    const tagStatus = readTagStatus(ctx.input);
    if (ids !== undefined && (maxResults !== undefined || nextToken !== undefined)) {
      throw invalidParameter("nextToken and maxResults cannot be used with imageIds");
    }
    await ctx.authorize("ecr:DescribeImages", name);
    await requireRepository(ctx, name);
    // So that this isolate's own recent pulls show (other isolates' come within their interval).
    await flushPullRecords(ctx.c).catch((error: unknown) => console.error("pull records: write failed", error));
    if (ids !== undefined) return { imageDetails: await describeRequested(ctx, name, ids) };

    const after = decodeNextToken(nextToken);
    if (after !== undefined && typeof after !== "string")
      throw invalidParameter("nextToken is not a token this registry returned");
    const limit = maxResults ?? DEFAULT_PAGE;
    const rows = await listImageRows(ctx.db, name, after ?? null, limit + 1, tagStatus);
    const page = rows.slice(0, limit);
    const imageDetails = await describeRows(ctx, name, page);
    const last = page[page.length - 1];
    return rows.length > limit && last !== undefined
      ? { imageDetails, nextToken: encodeNextToken(last.digest) }
      : { imageDetails };
  },

  async ListImages(ctx) {
    const name = repositoryName(ctx);
    const maxResults = ctx.input.optionalInteger("maxResults", 1, 1000);
    const after = decodeNextToken(ctx.input.optionalString("nextToken"));
    const tagStatus = readTagStatus(ctx.input);
    if (
      after !== undefined &&
      !(Array.isArray(after) && after.length === 2 && after.every((part) => typeof part === "string"))
    ) {
      throw invalidParameter("nextToken is not a token this registry returned");
    }
    await ctx.authorize("ecr:ListImages", name);
    await requireRepository(ctx, name);
    const limit = maxResults ?? DEFAULT_PAGE;
    const position = after === undefined ? null : { digest: String(after[0]), tag: String(after[1]) };
    const rows = await listImageIdRows(ctx.db, name, position, limit + 1, tagStatus);
    const page = rows.slice(0, limit);
    const imageIds = page.map((row) => imageIdShape(row.digest, row.tag));
    const last = page[page.length - 1];
    return rows.length > limit && last !== undefined
      ? { imageIds, nextToken: encodeNextToken([last.digest, last.tag ?? ""]) }
      : { imageIds };
  },

  /**
   * A manifest whose media type is not in acceptedMediaTypes is reported as ECR does, as the
   * failure ImageNotFound (ECR has no code for it); the reason says why. Each image returned
   * counts as a pull.
   */
  async BatchGetImage(ctx) {
    const name = repositoryName(ctx);
    const ids = readImageIds(ctx.input, true) ?? [];
    const accepted = ctx.input
      .optionalStringList("acceptedMediaTypes", 1, 100, { min: 1, max: 255 })
      ?.map((type) => essence(type));
    await ctx.authorize("ecr:BatchGetImage", name);
    // A pull-through cache repository is created by its first pull, as on /v2.
    const cache = await cacheTargetFor(ctx.c, name);
    if (cache === null) await requireRepository(ctx, name);

    const failures: JsonObject[] = ids.flatMap((id) => ("failure" in id ? [id.failure] : []));
    const targets = ids.flatMap((id) => ("target" in id ? [id.target] : []));
    const resolutions = await resolveTargets(ctx, name, targets);
    const digests = resolutions.flatMap((resolution) => ("digest" in resolution ? [resolution.digest] : []));
    const manifests = await findManifestBodies(ctx.db, name, [...new Set(digests)]);
    const images: JsonObject[] = [];
    for (const [index, target] of targets.entries()) {
      const resolution = resolutions[index];
      const fail = (failureCode: string, failureReason: string) =>
        failures.push({ imageId: targetShape(target), failureCode, failureReason });
      if (resolution !== undefined && "missing" in resolution && resolution.missing === "tag-mismatch") {
        fail("ImageTagDoesNotMatchDigest", "Invalid request parameters: given tag does not map to the given digest");
        continue;
      }
      let row = resolution !== undefined && "digest" in resolution ? manifests.get(resolution.digest) : undefined;
      if (row === undefined && cache !== null) {
        const imported = await importForBatchGet(ctx, cache, target);
        if ("failureCode" in imported) {
          fail(imported.failureCode, imported.failureReason);
          continue;
        }
        row = imported.row;
      }
      const text = row === undefined ? null : await readManifestText(ctx.c.env.BLOBS, row);
      if (row === undefined || text === null) {
        fail("ImageNotFound", "Requested image not found");
      } else if (accepted !== undefined && !accepted.includes(row.mediaType)) {
        fail(
          "ImageNotFound",
          `Requested image not found: its manifest is ${row.mediaType}, which acceptedMediaTypes does not list`,
        );
      } else {
        recordPull(ctx.c, name, row.digest);
        images.push({
          registryId: ctx.config.accountId,
          repositoryName: name,
          imageId: imageIdShape(row.digest, target.tag),
          imageManifest: text,
          imageManifestMediaType: row.mediaType,
        });
      }
    }
    return { images, failures };
  },

  async BatchDeleteImage(ctx) {
    const name = repositoryName(ctx);
    const ids = readImageIds(ctx.input, true) ?? [];
    await ctx.authorize("ecr:BatchDeleteImage", name);
    await requireRepository(ctx, name);
    const failures: JsonObject[] = ids.flatMap((id) => ("failure" in id ? [id.failure] : []));
    const targets = ids.flatMap((id) => ("target" in id ? [id.target] : []));
    if (targets.length === 0) return { imageIds: [], failures };
    const plan = await repositoryObject(ctx.c.env, name).deleteImages(name, targets);
    await Promise.all(
      plan.deleted.flatMap((image) => [
        forgetDeleted(ctx.c.env, name, { manifest: image.digest }),
        ...(image.tag === undefined || image.tag === null ? [] : [forgetDeleted(ctx.c.env, name, { tag: image.tag })]),
      ]),
    );
    const deletionFailures = plan.failures.map((failure: DeletionFailure) => ({
      imageId: targetShape(failure.target),
      failureCode: failure.code,
      failureReason: failure.reason,
    }));
    return {
      imageIds: plan.deleted.map((image) => imageIdShape(image.digest, image.tag)),
      failures: [...failures, ...deletionFailures],
    };
  },

  async PutImage(ctx) {
    const request = readPutImage(ctx);
    const { name, tag } = request;
    await ctx.authorize("ecr:PutImage", name);
    await requireRepository(ctx, name);
    await refusePushIntoCache(ctx.c, name, EcrError.InvalidParameterException);
    const bytes = new TextEncoder().encode(request.manifest);
    const digest = await digestOf(bytes, parseDigest(request.digest ?? "")?.algorithm ?? "sha256");
    if (request.digest !== null && request.digest !== digest) {
      throw new RegistryError(
        EcrError.ImageDigestDoesNotMatchException,
        `Invalid parameter at 'imageDigest' failed to satisfy constraint: 'the manifest has digest ${digest}, not ${request.digest}'`,
      );
    }
    const result = await pushImage(ctx, request, bytes, digest);
    const where = `the repository with name '${name}' in the registry with id '${ctx.config.accountId}'`;
    switch (result.status) {
      case "no-repository":
        throw repositoryNotFound(ctx, name);
      // A descriptor size that is not the stored content's is an invalid manifest, as on /v2.
      case "size-mismatch":
        throw invalidManifest(describeSizeMismatches(result.mismatches));
      case "missing-references":
        if (result.blobs.length > 0) {
          throw new RegistryError(
            EcrError.LayersNotFoundException,
            `Layers with digests '[${result.blobs.join(", ")}]' required for pushing image into ${where} do not exist`,
          );
        }
        throw new RegistryError(
          EcrError.ReferencedImagesNotFoundException,
          `Manifests with digests '[${result.manifests.join(", ")}]' referenced by the image do not exist in ${where}`,
        );
      case "tag-immutable":
        throw new RegistryError(
          EcrError.ImageTagAlreadyExistsException,
          `The image tag '${tag}' already exists in ${where} and cannot be overwritten because the repository is immutable.`,
        );
      case "stored":
        if (result.unchanged) {
          throw new RegistryError(
            EcrError.ImageAlreadyExistsException,
            `Image with digest '${digest}'${tag === null ? "" : ` and tag '${tag}'`} already exists in ${where}`,
          );
        }
        return {
          image: {
            registryId: ctx.config.accountId,
            repositoryName: name,
            imageId: imageIdShape(digest, tag),
            imageManifest: request.manifest,
            imageManifestMediaType: result.mediaType,
          },
        };
    }
  },
};
