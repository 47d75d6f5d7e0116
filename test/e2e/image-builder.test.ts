/**
 * The test-image builder itself: valid ustar, deterministic output, incompressible content,
 * configs whose diff_ids match the layers, and layouts skopeo can name by tag.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { useTempDir } from "./support/context";
import {
  buildImage,
  buildMultiArchLayout,
  buildSingleArchLayout,
  FIXED_MTIME,
  MediaTypes,
  randomBytes,
  readBlob,
  REF_NAME_ANNOTATION,
  sha256,
  tar,
} from "./support/image-builder";

interface TarEntry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  type: string;
  content: Buffer;
}

/** A strict ustar reader: checks magic, checksums, padding and the two closing zero blocks. */
function readTar(archive: Buffer): TarEntry[] {
  expect(archive.length % 512).toBe(0);
  const entries: TarEntry[] = [];
  let at = 0;
  const octal = (header: Buffer, offset: number, length: number) =>
    parseInt(
      header
        .subarray(offset, offset + length)
        .toString("latin1")
        .replace(/\0.*$/, "")
        .trim() || "0",
      8,
    );
  for (;;) {
    const header = archive.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) {
      expect(archive.subarray(at + 512, at + 1024).every((byte) => byte === 0)).toBe(true);
      expect(archive.length).toBe(at + 1024);
      return entries;
    }
    expect(header.subarray(257, 263).toString("latin1")).toBe("ustar\0");
    expect(header.subarray(263, 265).toString("latin1")).toBe("00");
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    expect(octal(header, 148, 8)).toBe(sum);
    const size = octal(header, 124, 12);
    entries.push({
      name: header.subarray(0, 100).toString("utf8").replace(/\0.*$/, ""),
      mode: octal(header, 100, 8),
      uid: octal(header, 108, 8),
      gid: octal(header, 116, 8),
      mtime: octal(header, 136, 12),
      type: String.fromCharCode(header[156]!),
      content: archive.subarray(at + 512, at + 512 + size),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

describe("image builder", () => {
  const tmp = useTempDir("builder-");

  it("writes ustar archives with fixed metadata, 512-byte blocks and two zero blocks at the end", () => {
    const files = [
      { name: "a.txt", content: Buffer.from("hello\n") },
      { name: "dir/b.bin", content: randomBytes("b", 1536) },
      { name: "empty", content: Buffer.alloc(0), mode: 0o600 },
    ];
    const entries = readTar(tar(files));
    expect(entries.map((e) => e.name)).toEqual(["a.txt", "dir/b.bin", "empty"]);
    for (const [index, entry] of entries.entries()) {
      expect(entry.content.equals(files[index]!.content)).toBe(true);
      expect(entry).toMatchObject({ uid: 0, gid: 0, mtime: FIXED_MTIME, type: "0" });
    }
    expect(entries.map((e) => e.mode)).toEqual([0o644, 0o644, 0o600]);
  });

  it("is deterministic, and layers do not shrink under gzip", () => {
    const spec = { seed: "builder/determinism", layers: [{ size: 100_000 }, { size: 50_000, files: 3 }] };
    const one = buildImage(spec);
    const two = buildImage(spec);
    expect(two.manifest.digest).toBe(one.manifest.digest);
    expect(two.layers.map((l) => l.blob.digest)).toEqual(one.layers.map((l) => l.blob.digest));
    expect(buildImage({ ...spec, seed: "builder/other" }).manifest.digest).not.toBe(one.manifest.digest);
    expect(one.layers[0]!.blob.bytes.length).toBeGreaterThan(100_000);
    expect(one.layers[1]!.blob.bytes.length).toBeGreaterThan(50_000);
  });

  it("describes each layer correctly in the manifest and the config", () => {
    const image = buildImage({
      seed: "builder/config",
      layers: [{ size: 10_000 }, { size: 20_000, compression: "none" }],
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
    });
    const config = JSON.parse(image.config.bytes.toString("utf8")) as {
      architecture: string;
      os: string;
      variant: string;
      rootfs: { type: string; diff_ids: string[] };
    };
    expect(config).toMatchObject({ architecture: "arm64", os: "linux", variant: "v8", rootfs: { type: "layers" } });
    expect(config.rootfs.diff_ids).toEqual([
      sha256(gunzipSync(image.layers[0]!.blob.bytes)),
      sha256(image.layers[1]!.blob.bytes),
    ]);
    const manifest = JSON.parse(image.manifest.bytes.toString("utf8")) as {
      mediaType: string;
      config: { digest: string; size: number; mediaType: string };
      layers: { digest: string; size: number; mediaType: string }[];
    };
    expect(manifest.mediaType).toBe(MediaTypes.OCI_MANIFEST);
    expect(manifest.config).toEqual({
      mediaType: MediaTypes.OCI_CONFIG,
      digest: image.config.digest,
      size: image.config.bytes.length,
    });
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([MediaTypes.OCI_LAYER_GZIP, MediaTypes.OCI_LAYER_TAR]);
    for (const [index, layer] of image.layers.entries()) {
      expect(manifest.layers[index]).toEqual({
        mediaType: layer.descriptor.mediaType,
        digest: sha256(layer.blob.bytes),
        size: layer.blob.bytes.length,
      });
      expect(readTar(layer.tar)).toHaveLength(1);
    }
  });

  it("writes OCI layouts whose index.json tags the image or the index", async () => {
    const single = await buildSingleArchLayout({
      seed: "builder/layout",
      tag: "v1",
      layers: [{ size: 1000 }],
      dir: join(tmp.path, "single"),
    });
    expect(JSON.parse(await readFile(join(single.path, "oci-layout"), "utf8"))).toEqual({
      imageLayoutVersion: "1.0.0",
    });
    const index = JSON.parse(await readFile(join(single.path, "index.json"), "utf8")) as {
      schemaVersion: number;
      manifests: unknown[];
    };
    expect(index).toEqual({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MediaTypes.OCI_MANIFEST,
          digest: single.manifestDigest,
          size: single.image.manifest.bytes.length,
          annotations: { [REF_NAME_ANNOTATION]: "v1" },
        },
      ],
    });
    for (const digest of [single.manifestDigest, ...single.blobDigests])
      expect(sha256(await readBlob(single.path, digest))).toBe(digest);

    const multi = await buildMultiArchLayout({
      seed: "builder/multi",
      tag: "m",
      layers: [{ size: 1000 }],
      dir: join(tmp.path, "multi"),
    });
    const top = JSON.parse(await readFile(join(multi.path, "index.json"), "utf8")) as {
      manifests: { mediaType: string; digest: string }[];
    };
    expect(top.manifests).toHaveLength(1);
    expect(top.manifests[0]).toMatchObject({ mediaType: MediaTypes.OCI_INDEX, digest: multi.indexDigest });
    const imageIndex = JSON.parse((await readBlob(multi.path, multi.indexDigest)).toString("utf8")) as {
      manifests: { digest: string; platform: { architecture: string; os: string } }[];
    };
    expect(imageIndex.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual([
      "linux/amd64",
      "linux/arm64",
    ]);
    expect(imageIndex.manifests.map((m) => m.digest)).toEqual(multi.manifestDigests);
    for (const digest of [...multi.manifestDigests, ...multi.blobDigests])
      expect(sha256(await readBlob(multi.path, digest))).toBe(digest);
  });
});
