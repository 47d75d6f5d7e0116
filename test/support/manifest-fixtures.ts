/**
 * Manifests for the tests of src/oci/manifest-format.ts (split by what they test): media types,
 * digests, descriptors, a well-formed OCI manifest and index to vary, and the error a rejected
 * manifest throws.
 */
import { expect } from "vitest";
import { OciFormatError } from "../../src/oci/errors";
import { parseManifest } from "../../src/oci/manifest-format";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
export const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
export const EMPTY = "application/vnd.oci.empty.v1+json";
export const EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/** A distinct, well-formed sha256 digest per seed character. */
export function d(seed: string): string {
  return `sha256:${seed.repeat(64)}`;
}
export const D512 = `sha512:${"c".repeat(128)}`;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function bytes(value: Json): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function descriptor(
  mediaType: string,
  digest: string,
  size = 100,
  extra: { [key: string]: Json } = {},
): { [key: string]: Json } {
  return { mediaType, digest, size, ...extra };
}

export function ociManifest(extra: { [key: string]: Json } = {}): { [key: string]: Json } {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(OCI_CONFIG, d("1"), 1234),
    layers: [descriptor(OCI_LAYER, d("2"), 5678), descriptor(OCI_LAYER, d("3"), 9)],
    ...extra,
  };
}

export function ociIndex(extra: { [key: string]: Json } = {}): { [key: string]: Json } {
  return {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      descriptor(OCI_MANIFEST, d("a"), 500, { platform: { architecture: "amd64", os: "linux" } }),
      descriptor(OCI_MANIFEST, d("b"), 501, { platform: { architecture: "arm64", os: "linux", variant: "v8" } }),
    ],
    ...extra,
  };
}

/** Replaces one key of a manifest, or deletes it when `value` is undefined. */
export function withKey(base: { [key: string]: Json }, key: string, value: Json | undefined): { [key: string]: Json } {
  const copy = { ...base };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy;
}

export function failure(body: Uint8Array, contentType: string | null): OciFormatError {
  try {
    parseManifest(body, contentType);
  } catch (error) {
    expect(error).toBeInstanceOf(OciFormatError);
    return error as OciFormatError;
  }
  throw new Error("expected parseManifest to throw");
}
