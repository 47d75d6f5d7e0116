/**
 * Image ids in ECR requests (`imageIds`, `imageId`): read and checked member by member, resolved
 * to digests (a tag through the repository's tags, checked against a digest given with it), and
 * the one image an action on a single image names.
 */
import { EcrError, RegistryError } from "../../errors";
import { isValidTag, parseDigest } from "../../oci/grammar";
import type { ImageTarget } from "../../repository/image-deletion";
import { findImageRows, findTagDigests, type ImageRow } from "../../storage/image-records";
import type { ControlContext } from "../context";
import { invalidParameter, isObject, type Input, type JsonObject } from "../input";
import { repositoryName, requireRepository } from "./repositories";

/** ECR's longest image tag in a request. */
export const MAX_TAG_LENGTH = 300;

// ---- image ids ------------------------------------------------------------------------------

export type ImageIdFailureCode = "InvalidImageDigest" | "InvalidImageTag" | "MissingDigestAndTag";

/** A requested image id: well formed (a target), or a failure BatchGet/BatchDelete report. */
export type ParsedImageId =
  | { target: ImageTarget }
  | { failure: { imageId: JsonObject; failureCode: ImageIdFailureCode; failureReason: string } };

export function readImageId(item: unknown, where: string): ParsedImageId {
  if (!isObject(item)) throw invalidParameter(`${where} must be an object with imageDigest and/or imageTag`);
  const { imageDigest, imageTag } = item;
  if (imageDigest !== undefined && imageDigest !== null && typeof imageDigest !== "string")
    throw invalidParameter(`${where}.imageDigest must be a string`);
  if (imageTag !== undefined && imageTag !== null && typeof imageTag !== "string")
    throw invalidParameter(`${where}.imageTag must be a string`);
  const digest = typeof imageDigest === "string" ? imageDigest : undefined;
  const tag = typeof imageTag === "string" ? imageTag : undefined;
  const imageId = imageIdShape(digest, tag);
  if (digest === undefined && tag === undefined) {
    return {
      failure: {
        imageId,
        failureCode: "MissingDigestAndTag",
        failureReason: "Invalid request parameters: both tag and digest cannot be null",
      },
    };
  }
  if (digest !== undefined && parseDigest(digest) === null) {
    return {
      failure: {
        imageId,
        failureCode: "InvalidImageDigest",
        failureReason: `Invalid request parameters: image digest "${digest}" is not a sha256 or sha512 digest`,
      },
    };
  }
  if (tag !== undefined && (tag.length > MAX_TAG_LENGTH || !isValidTag(tag))) {
    return {
      failure: {
        imageId,
        failureCode: "InvalidImageTag",
        failureReason: `Invalid request parameters: image tag "${tag}" does not match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`,
      },
    };
  }
  return { target: { ...(digest === undefined ? {} : { digest }), ...(tag === undefined ? {} : { tag }) } };
}

export function readImageIds(input: Input, required: boolean): ParsedImageId[] | undefined {
  const list = required ? input.list("imageIds", 1, 100) : input.optionalList("imageIds", 1, 100);
  return list?.map((item, index) => readImageId(item, `imageIds[${index}]`));
}

/** `imageId` as ECR echoes it. */
export function imageIdShape(digest: string | undefined | null, tag: string | undefined | null): JsonObject {
  return { ...(digest ? { imageDigest: digest } : {}), ...(tag ? { imageTag: tag } : {}) };
}

export function targetShape(target: ImageTarget): JsonObject {
  return imageIdShape(target.digest, target.tag);
}

/** Where requested ids point: the digest a tag names, checked against a digest given with it. */
export type Resolution = { digest: string } | { missing: "not-found" | "tag-mismatch" };

export async function resolveTargets(
  ctx: ControlContext,
  name: string,
  targets: readonly ImageTarget[],
): Promise<Resolution[]> {
  const tags = targets.flatMap((target) => (target.tag === undefined ? [] : [target.tag]));
  const tagDigests = await findTagDigests(ctx.db, name, tags);
  return targets.map((target) => {
    if (target.tag === undefined)
      return target.digest === undefined ? { missing: "not-found" } : { digest: target.digest };
    const digest = tagDigests.get(target.tag);
    if (digest === undefined) return { missing: "not-found" };
    if (target.digest !== undefined && target.digest !== digest) return { missing: "tag-mismatch" };
    return { digest };
  });
}

export function imageNotFound(ctx: ControlContext, name: string, target: ImageTarget): RegistryError {
  return new RegistryError(
    EcrError.ImageNotFoundException,
    `The image with imageId {imageDigest:'${target.digest ?? "null"}', imageTag:'${target.tag ?? "null"}'} does not exist within the repository with name '${name}' in the registry with id '${ctx.config.accountId}'`,
  );
}

/**
 * The image an action on one image names (`repositoryName`, `imageId`), after authorizing the
 * action on the repository: its digest, the tag asked for, and its row. ImageNotFoundException
 * when it does not exist.
 */
export async function requireImage(
  ctx: ControlContext,
  action: string,
): Promise<{ name: string; digest: string; tag: string | null; row: ImageRow }> {
  const name = repositoryName(ctx);
  const id = ctx.input.optionalObject("imageId");
  if (id === undefined) throw invalidParameter("imageId is required");
  const parsed = readImageId(id.members(), "imageId");
  if ("failure" in parsed) throw invalidParameter(`imageId: ${parsed.failure.failureReason}`);
  await ctx.authorize(action, name);
  await requireRepository(ctx, name);
  const [resolution] = await resolveTargets(ctx, name, [parsed.target]);
  const digest = resolution !== undefined && "digest" in resolution ? resolution.digest : undefined;
  const row = digest === undefined ? undefined : (await findImageRows(ctx.db, name, [digest])).get(digest);
  if (digest === undefined || row === undefined) throw imageNotFound(ctx, name, parsed.target);
  return { name, digest, tag: parsed.target.tag ?? null, row };
}
