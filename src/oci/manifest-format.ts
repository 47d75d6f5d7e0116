/**
 * Validation of pushed manifests: OCI image manifests and indexes, Docker schema 2 manifests
 * and manifest lists, and OCI artifacts (image manifests with `artifactType`). Pure: bytes and
 * Content-Type in, a summary of what the manifest references out, or an OciFormatError
 * (`manifest-invalid`) that each surface reports its own way.
 */
import { OciFormatError } from "./errors";
import { parseDigest } from "./grammar";
import {
  essence,
  IMAGE_MANIFEST_TYPES,
  INDEX_TYPES,
  MANIFEST_TYPES,
  NON_DISTRIBUTABLE_LAYER_TYPES,
} from "./media-types";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
  urls?: string[];
}

export interface ManifestSummary {
  mediaType: string;
  /** What the referrers API reports: artifactType, else config.mediaType for image manifests. */
  artifactType: string | null;
  subject: string | null;
  annotations: Record<string, string> | null;
  /** Blobs that must be linked in the repository (config and distributable layers). */
  blobDigests: string[];
  /** Manifests that must exist in the repository (children of an index). */
  childDigests: string[];
  /** ECR's imageSizeInBytes: config plus every layer for an image manifest; null for an index. */
  imageSize: number | null;
  /** The sizes the manifest declares for what it references, to check against what is stored. */
  declaredSizes: DeclaredSizes;
}

/** A descriptor's size as the manifest declares it; `where` names the descriptor in messages. */
export interface DeclaredSize {
  where: string;
  digest: string;
  size: number;
}

export interface DeclaredSizes {
  /** Config and distributable layers: compared with the repository's blob links. */
  blobs: DeclaredSize[];
  /** An index's children and the subject: compared with the repository's manifests, when stored. */
  manifests: DeclaredSize[];
}

export interface SizeMismatch extends DeclaredSize {
  storedSize: number;
}

type JsonObject = Record<string, unknown>;

function invalid(message: string): OciFormatError {
  return new OciFormatError("manifest-invalid", message);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const MEDIA_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function readAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(`${where}.annotations must be an object of strings`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") throw invalid(`${where}.annotations["${key}"] must be a string`);
  }
  return value as Record<string, string>;
}

function readMediaType(value: unknown, where: string): string {
  if (typeof value !== "string" || !MEDIA_TYPE_PATTERN.test(value)) throw invalid(`${where} must be a media type`);
  return value;
}

function readDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const mediaType = readMediaType(value.mediaType, `${where}.mediaType`);
  const { digest, size } = value;
  if (typeof digest !== "string" || parseDigest(digest) === null) {
    throw invalid(`${where}.digest must be a sha256 or sha512 digest`);
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  const descriptor: Descriptor = { mediaType, digest, size };
  const annotations = readAnnotations(value.annotations, where);
  if (annotations) descriptor.annotations = annotations;
  if (value.artifactType !== undefined)
    descriptor.artifactType = readMediaType(value.artifactType, `${where}.artifactType`);
  if (value.urls !== undefined) {
    if (!Array.isArray(value.urls) || !value.urls.every((url) => typeof url === "string")) {
      throw invalid(`${where}.urls must be an array of strings`);
    }
    descriptor.urls = value.urls;
  }
  return descriptor;
}

function readDescriptorList(value: unknown, where: string): Descriptor[] {
  if (!Array.isArray(value)) throw invalid(`${where} must be an array of descriptors`);
  return value.map((entry, index) => readDescriptor(entry, `${where}[${index}]`));
}

function parseJson(bytes: Uint8Array): JsonObject {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw invalid("manifest is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`manifest is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isObject(value)) throw invalid("manifest must be a JSON object");
  return value;
}

/** Decides the manifest's media type from the Content-Type header and its `mediaType` field. */
function resolveMediaType(manifest: JsonObject, contentType: string | null): string {
  const declared = manifest.mediaType;
  if (declared !== undefined && typeof declared !== "string") throw invalid("mediaType must be a string");
  const header = essence(contentType);
  const mediaType = header !== "" && header !== "application/octet-stream" ? header : declared;
  if (mediaType === undefined) throw invalid("manifest media type is missing: send Content-Type or a mediaType field");
  if (!MANIFEST_TYPES.has(mediaType)) throw invalid(`unsupported manifest media type "${mediaType}"`);
  if (declared !== undefined && declared !== mediaType) {
    throw invalid(`Content-Type "${mediaType}" does not match the manifest's mediaType "${declared}"`);
  }
  return mediaType;
}

export function parseManifest(bytes: Uint8Array, contentType: string | null): ManifestSummary {
  const manifest = parseJson(bytes);
  const mediaType = resolveMediaType(manifest, contentType);
  if (manifest.schemaVersion !== 2) throw invalid("schemaVersion must be 2");
  const annotations = readAnnotations(manifest.annotations, "manifest") ?? null;
  const subjectDescriptor = manifest.subject === undefined ? null : readDescriptor(manifest.subject, "subject");
  const subject = subjectDescriptor?.digest ?? null;
  const subjectSizes = subjectDescriptor === null ? [] : [declared("subject", subjectDescriptor)];
  const declaredArtifactType =
    manifest.artifactType === undefined ? null : readMediaType(manifest.artifactType, "artifactType");

  if (IMAGE_MANIFEST_TYPES.has(mediaType)) {
    if (manifest.config === undefined) throw invalid("an image manifest needs a config descriptor");
    const config = readDescriptor(manifest.config, "config");
    if (manifest.layers === undefined) throw invalid("an image manifest needs a layers array");
    const layers = readDescriptorList(manifest.layers, "layers");
    const storedLayers = layers.flatMap((layer, index) =>
      NON_DISTRIBUTABLE_LAYER_TYPES.has(layer.mediaType) ? [] : [declared(`layers[${index}]`, layer)],
    );
    return {
      mediaType,
      artifactType: declaredArtifactType ?? config.mediaType,
      subject,
      annotations,
      blobDigests: unique([config.digest, ...storedLayers.map((layer) => layer.digest)]),
      childDigests: [],
      imageSize: layers.reduce((total, layer) => total + layer.size, config.size),
      declaredSizes: { blobs: [declared("config", config), ...storedLayers], manifests: subjectSizes },
    };
  }
  if (INDEX_TYPES.has(mediaType)) {
    const children = readDescriptorList(manifest.manifests, "manifests");
    return {
      mediaType,
      artifactType: declaredArtifactType,
      subject,
      annotations,
      blobDigests: [],
      childDigests: unique(children.map((child) => child.digest)),
      imageSize: null,
      declaredSizes: {
        blobs: [],
        manifests: [...children.map((child, index) => declared(`manifests[${index}]`, child)), ...subjectSizes],
      },
    };
  }
  throw invalid(`unsupported manifest media type "${mediaType}"`);
}

function declared(where: string, descriptor: Descriptor): DeclaredSize {
  return { where, digest: descriptor.digest, size: descriptor.size };
}

/**
 * The declared sizes that differ from the stored content's (a pull would fetch other bytes than
 * the descriptor promises, and clients verify sizes). Content not stored is not compared: a
 * missing blob or child is reported on its own, and a subject may be pushed after its referrers.
 */
export function sizeMismatches(
  declaredSizes: DeclaredSizes,
  stored: { blobs: ReadonlyMap<string, number>; manifests: ReadonlyMap<string, number> },
): SizeMismatch[] {
  const compare = (entries: DeclaredSize[], sizes: ReadonlyMap<string, number>) =>
    entries.flatMap((entry) => {
      const storedSize = sizes.get(entry.digest);
      return storedSize === undefined || storedSize === entry.size ? [] : [{ ...entry, storedSize }];
    });
  return [...compare(declaredSizes.blobs, stored.blobs), ...compare(declaredSizes.manifests, stored.manifests)];
}

/** The message of a push refused for size mismatches (MANIFEST_INVALID on `/v2`). */
export function describeSizeMismatches(mismatches: readonly SizeMismatch[]): string {
  const each = mismatches.map(
    (m) => `${m.where} declares size ${m.size} for ${m.digest}, which is ${m.storedSize} bytes`,
  );
  return `manifest descriptor sizes do not match the stored content: ${each.join("; ")}`;
}

/**
 * imageSizeInBytes of a stored image manifest (config plus layer sizes), for rows written
 * before the size was kept; null when the text is not an image manifest.
 */
export function imageSizeOfStored(text: string): number | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || !isObject(value.config) || !Array.isArray(value.layers)) return null;
  const layers: unknown[] = value.layers;
  const sizes = [value.config, ...layers].map((entry: unknown) =>
    isObject(entry) && typeof entry.size === "number" ? entry.size : 0,
  );
  return sizes.reduce((total, size) => total + size, 0);
}

/** A layer of a stored image manifest, as scanning reads it. */
export interface StoredLayer {
  digest: string;
  mediaType: string;
  size: number;
}

/**
 * The layers of a stored image manifest (checked when it was pushed), bottom first; null when
 * the text is not an image manifest or a layer descriptor lacks its digest, type or size.
 */
export function layersOfStored(text: string): StoredLayer[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || !Array.isArray(value.layers)) return null;
  const entries: unknown[] = value.layers;
  const layers: StoredLayer[] = [];
  for (const entry of entries) {
    if (!isObject(entry) || typeof entry.digest !== "string" || typeof entry.mediaType !== "string") return null;
    if (typeof entry.size !== "number") return null;
    layers.push({ digest: entry.digest, mediaType: entry.mediaType, size: entry.size });
  }
  return layers;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
