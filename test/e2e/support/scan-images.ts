/**
 * The scanning fixture images (test/support/scan-fixtures.ts) as OCI image layouts skopeo can
 * push (`oci:<dir>:<tag>`), written with image-builder's layout writer, and an image whose
 * layer claims zstd compression (its bytes are not decoded by anyone, so they need not be zstd).
 */
import { gunzipSync } from "node:zlib";
import type { FixtureImage } from "../../support/scan-fixtures";
import { FIXED_MTIME, MediaTypes, randomBytes, sha256, writeLayout, type Blob } from "./image-builder";

export const OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";

export interface LayoutLayer {
  mediaType: string;
  bytes: Uint8Array;
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
}

export interface WrittenImage {
  /** The layout directory; `oci:<path>:<tag>` names the image. */
  path: string;
  tag: string;
  manifestDigest: string;
}

const blobOf = (bytes: Uint8Array | string): Blob => {
  const buffer = Buffer.from(bytes);
  return { digest: sha256(buffer), bytes: buffer };
};

/** A fixture image's gzip layers, bottom first. */
export function fixtureLayers(image: FixtureImage): LayoutLayer[] {
  return image.layers.map((bytes) => ({
    mediaType: MediaTypes.OCI_LAYER_GZIP,
    bytes,
    diffId: sha256(gunzipSync(bytes)),
  }));
}

/** One layer that says it is a zstd-compressed tar (the bytes start with zstd's magic number only). */
export function zstdLayer(seed: string): LayoutLayer {
  const bytes = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(seed, 1024)]);
  return { mediaType: OCI_LAYER_ZSTD, bytes, diffId: sha256(randomBytes(`${seed}/tar`, 32)) };
}

/** Writes a linux/amd64 image of `layers` as an OCI layout in `dir`, tagged `tag`. */
export async function writeImageLayout(
  dir: string,
  tag: string,
  layers: readonly LayoutLayer[],
): Promise<WrittenImage> {
  const created = new Date(FIXED_MTIME * 1000).toISOString();
  const config = blobOf(
    JSON.stringify({
      created,
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
      rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) },
    }),
  );
  const layerBlobs = layers.map((layer) => blobOf(layer.bytes));
  const manifest = blobOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.OCI_MANIFEST,
      config: { mediaType: MediaTypes.OCI_CONFIG, digest: config.digest, size: config.bytes.length },
      layers: layers.map((layer, index) => ({
        mediaType: layer.mediaType,
        digest: layerBlobs[index]!.digest,
        size: layer.bytes.length,
      })),
    }),
  );
  await writeLayout(
    dir,
    [config, ...layerBlobs, manifest],
    { mediaType: MediaTypes.OCI_MANIFEST, digest: manifest.digest, size: manifest.bytes.length },
    tag,
  );
  return { path: dir, tag, manifestDigest: manifest.digest };
}
