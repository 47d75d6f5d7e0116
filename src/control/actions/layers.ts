/**
 * Layer actions: BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
 * CompleteLayerUpload, GetDownloadUrlForLayer. Uploads are `/v2`'s upload sessions
 * (src/images/upload-steps.ts): the repository's Durable Object holds them and
 * `UploadWriter` streams each part into R2, so a layer pushed here is pulled through `/v2`.
 *
 * Where ECR leaves room:
 * - BatchCheckLayerAvailability reports a blob's media type as the repository's latest pushed
 *   manifest referencing it declares it (the config's type for a config blob, the layer's for a
 *   layer), read in the same query as the links (src/storage/layer-records.ts). A blob no
 *   manifest of the repository references yet (uploaded, its image not yet put) reports ECR's
 *   default for an unknown one, `application/vnd.docker.image.rootfs.diff.tar.gzip`.
 * - BatchCheckLayerAvailability lists a well-formed digest the repository does not link as
 *   UNAVAILABLE; a malformed digest is a failure InvalidLayerDigest, an empty one
 *   MissingLayerDigest.
 * - A part must continue the upload exactly. InvalidLayerPartException's
 *   `lastValidByteReceived` is the offset of the last byte received, -1 before any.
 * - CompleteLayerUpload takes exactly one digest. A digest mismatch cancels the upload
 *   (InvalidLayerException), as on `/v2`. When the repository already links the layer,
 *   LayerAlreadyExistsException is raised once the bytes are verified, and the session is
 *   closed all the same: the layer is there, and nothing is left to resume.
 * - UploadLayerPart and CompleteLayerUpload do not look the repository up: sessions live only
 *   in an existing repository (deleting it aborts them), so there it is UploadNotFoundException.
 * - GetDownloadUrlForLayer answers a presigned R2 URL when R2's S3 API is configured, else a
 *   URL of this registry carrying a download token (src/auth/download-urls.ts). A digest the
 *   repository does not link is LayersNotFoundException; LayerInaccessibleException (ECR's for
 *   a layer no image references) is not told apart.
 */
import { mintDownloadUrl } from "../../auth/download-urls";
import { parseDigest, type ParsedDigest } from "../../oci/grammar";
import {
  appendToUpload,
  closeUpload,
  completeUpload,
  holdingUpload,
  linkUploadedBlob,
  type UploadFailures,
} from "../../images/upload-steps";
import { EcrError, RegistryError } from "../../errors";
import { refusePushIntoCache } from "../../pull-through/targets";
import { repositoryObject } from "../../repository/stub";
import type { UploadSession } from "../../storage/upload-writer";
import { findBlobLink } from "../../storage/blob-links";
import { findLayerRecords, type LayerRecord } from "../../storage/layer-records";
import { presignConfig, presignGet } from "../../storage/presign";
import type { ActionHandler, ControlContext } from "../context";
import { invalidParameter, type JsonObject } from "../input";
import { repositoryName, repositoryNotFound, requireRepository } from "./repositories";

/** What ECR reports as a layer's media type when it does not know it. */
export const UNKNOWN_LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/** ECR's limit on one decoded layerPartBlob. */
export const MAX_LAYER_PART_BYTES = 20_971_520;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---- parameters -----------------------------------------------------------------------------

function uploadId(ctx: ControlContext): string {
  return ctx.input.string("uploadId", { pattern: UPLOAD_ID });
}

function layerDigest(value: string, member: string): ParsedDigest {
  const digest = parseDigest(value);
  if (digest === null) throw invalidParameter(`${member} "${value}" is not a sha256 or sha512 digest`);
  return digest;
}

function byteOffset(ctx: ControlContext, member: string): number {
  const value = ctx.input.optionalInteger(member, 0, Number.MAX_SAFE_INTEGER);
  if (value === undefined) throw invalidParameter(`${member} is required`);
  return value;
}

/** `layerPartBlob`, which AWS JSON carries as base64. */
function layerPartBlob(ctx: ControlContext): Uint8Array {
  const text = ctx.input.string("layerPartBlob");
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw invalidParameter("layerPartBlob is not base64");
  }
  if (binary.length > MAX_LAYER_PART_BYTES)
    throw invalidParameter(`layerPartBlob must be at most ${MAX_LAYER_PART_BYTES} bytes`);
  const bytes = new Uint8Array(binary.length);
  for (let at = 0; at < binary.length; at++) bytes[at] = binary.charCodeAt(at);
  return bytes;
}

// ---- exceptions -----------------------------------------------------------------------------

function uploadNotFound(ctx: ControlContext, name: string, id: string): RegistryError {
  return new RegistryError(
    EcrError.UploadNotFoundException,
    `The upload with id '${id}' does not exist in the repository with name '${name}' in the registry with id '${ctx.config.accountId}'`,
  );
}

function invalidPart(ctx: ControlContext, name: string, session: UploadSession, message: string): RegistryError {
  return new RegistryError(EcrError.InvalidLayerPartException, message, {
    registryId: ctx.config.accountId,
    repositoryName: name,
    uploadId: session.id,
    lastValidByteReceived: session.offset - 1,
  });
}

function invalidLayer(message: string): RegistryError {
  return new RegistryError(EcrError.InvalidLayerException, message);
}

/** How the upload steps' failures are reported as ECR exceptions. */
function layerFailures(ctx: ControlContext, name: string, id: string): UploadFailures {
  return {
    unknown: () => uploadNotFound(ctx, name, id),
    outOfOrder: (session) =>
      invalidPart(
        ctx,
        name,
        session,
        `the part must start at byte ${session.offset}, where the upload stands (or another request is writing it)`,
      ),
    sizeMismatch: (message) => new RegistryError(EcrError.InvalidLayerPartException, message),
    digestMismatch: (expected, actual) =>
      invalidLayer(`the uploaded layer has digest ${actual ?? "(another)"}, not ${expected}; the upload is cancelled`),
    wrongAlgorithm: (session, digest) =>
      invalidLayer(`this upload computed a ${session.algorithm} digest, not ${digest.algorithm}`),
    collected: (message) => invalidLayer(message),
    tooLarge: (message) => new RegistryError(EcrError.LimitExceededException, message),
    stalled: (message) => new RegistryError(EcrError.RequestTimeoutException, message),
  };
}

function layersNotFound(name: string, digest: string): RegistryError {
  return new RegistryError(
    EcrError.LayersNotFoundException,
    `The layer with digest '${digest}' does not exist within the repository with name '${name}'`,
  );
}

// ---- BatchCheckLayerAvailability ----------------------------------------------------------

/** One entry of `layers` or `failures` for a requested digest. */
function availability(digest: string, link: LayerRecord | undefined): { layer: JsonObject } | { failure: JsonObject } {
  if (digest === "")
    return {
      failure: { layerDigest: digest, failureCode: "MissingLayerDigest", failureReason: "the layer digest is empty" },
    };
  if (parseDigest(digest) === null) {
    return {
      failure: {
        layerDigest: digest,
        failureCode: "InvalidLayerDigest",
        failureReason: "not a sha256 or sha512 digest",
      },
    };
  }
  if (link === undefined) return { layer: { layerDigest: digest, layerAvailability: "UNAVAILABLE" } };
  return {
    layer: {
      layerDigest: digest,
      layerAvailability: "AVAILABLE",
      layerSize: link.size,
      mediaType: link.mediaType ?? UNKNOWN_LAYER_MEDIA_TYPE,
    },
  };
}

// ---- actions --------------------------------------------------------------------------------

export const layerActions: Record<string, ActionHandler> = {
  async BatchCheckLayerAvailability(ctx) {
    const name = repositoryName(ctx);
    const digests = ctx.input.stringList("layerDigests", 1, 100, { max: 1000 });
    await ctx.authorize("ecr:BatchCheckLayerAvailability", name);
    await requireRepository(ctx, name);
    const links = await findLayerRecords(
      ctx.db,
      name,
      digests.filter((digest) => parseDigest(digest) !== null),
    );
    const layers: JsonObject[] = [];
    const failures: JsonObject[] = [];
    for (const digest of digests) {
      const entry = availability(digest, links.get(digest));
      if ("layer" in entry) layers.push(entry.layer);
      else failures.push(entry.failure);
    }
    return { layers, failures };
  },

  async InitiateLayerUpload(ctx) {
    const name = repositoryName(ctx);
    await ctx.authorize("ecr:InitiateLayerUpload", name);
    await requireRepository(ctx, name);
    await refusePushIntoCache(ctx.c, name, EcrError.InvalidParameterException);
    const session = await repositoryObject(ctx.c.env, name).createUpload(name, "sha256");
    // Deleted since requireRepository, and no template may create it again.
    if (session === null) throw repositoryNotFound(ctx, name);
    return { uploadId: session.id, partSize: session.partSize };
  },

  async UploadLayerPart(ctx) {
    const name = repositoryName(ctx);
    const id = uploadId(ctx);
    const first = byteOffset(ctx, "partFirstByte");
    const last = byteOffset(ctx, "partLastByte");
    const part = layerPartBlob(ctx);
    await ctx.authorize("ecr:UploadLayerPart", name);
    const failures = layerFailures(ctx, name, id);
    return holdingUpload(ctx.c, name, id, first, failures, async (held) => {
      if (last < first || last - first + 1 !== part.length) {
        throw invalidPart(
          ctx,
          name,
          held.session,
          `bytes ${first}-${last} are ${last - first + 1} bytes but layerPartBlob has ${part.length}`,
        );
      }
      const next = await appendToUpload(ctx.c, held, new Blob([part]).stream(), part.length, failures);
      return {
        registryId: ctx.config.accountId,
        repositoryName: name,
        uploadId: id,
        lastByteReceived: next.offset - 1,
      };
    });
  },

  async CompleteLayerUpload(ctx) {
    const name = repositoryName(ctx);
    const id = uploadId(ctx);
    const digests = ctx.input.stringList("layerDigests", 1, 100);
    if (digests.length !== 1) throw invalidParameter("layerDigests must hold exactly one digest, the uploaded layer's");
    const digest = layerDigest(digests[0] ?? "", "layerDigests[0]");
    await ctx.authorize("ecr:CompleteLayerUpload", name);
    const failures = layerFailures(ctx, name, id);
    return holdingUpload(ctx.c, name, id, null, failures, async (held) => {
      if (held.session.offset === 0) {
        throw new RegistryError(
          EcrError.EmptyUploadException,
          `The upload with id '${id}' does not contain any layer parts`,
        );
      }
      const location = await completeUpload(ctx.c, held, digest, null, null, failures);
      await closeUpload(held);
      if (!(await linkUploadedBlob(ctx.c, name, digest.digest, location, failures))) {
        throw new RegistryError(
          EcrError.LayerAlreadyExistsException,
          `The layer with digest '${digest.digest}' already exists in the repository with name '${name}'`,
        );
      }
      return { registryId: ctx.config.accountId, repositoryName: name, uploadId: id, layerDigest: digest.digest };
    });
  },

  async GetDownloadUrlForLayer(ctx) {
    const name = repositoryName(ctx);
    const digest = layerDigest(ctx.input.string("layerDigest"), "layerDigest");
    await ctx.authorize("ecr:GetDownloadUrlForLayer", name);
    await requireRepository(ctx, name);
    const link = await findBlobLink(ctx.db, name, digest.digest);
    if (!link) throw layersNotFound(name, digest.digest);
    const presign = presignConfig(ctx.c.var.settings.presign);
    const downloadUrl = presign
      ? await presignGet(presign, link.objectKey)
      : await mintDownloadUrl(new URL(ctx.c.req.url).origin, ctx.config, ctx.principal, {
          repository: name,
          digest: digest.digest,
        });
    return { downloadUrl, layerDigest: digest.digest };
  },
};
