/**
 * Round trips with the real skopeo: OCI layout -> registry -> new OCI layout, comparing the
 * manifest (by digest and bytes) and every blob byte for byte with what was generated.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fetchBlob, fetchManifest, useTempDir } from "./support/context";
import {
  buildMultiArchLayout,
  buildSingleArchLayout,
  MediaTypes,
  readBlob,
  readLayoutEntry,
  sha256,
  type BuiltImage,
} from "./support/image-builder";
import { dockerRef, ociRef, skopeo } from "./support/skopeo";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Asserts that `layout` holds `image` exactly: manifest, config and layers, byte for byte. */
async function expectImageInLayout(layout: string, image: BuiltImage): Promise<void> {
  const manifest = await readBlob(layout, image.manifest.digest);
  expect(sha256(manifest)).toBe(image.manifest.digest);
  expect(manifest.equals(image.manifest.bytes), "manifest bytes differ").toBe(true);
  const config = await readBlob(layout, image.config.digest);
  expect(config.equals(image.config.bytes), "config bytes differ").toBe(true);
  for (const layer of image.layers) {
    const bytes = await readBlob(layout, layer.blob.digest);
    expect(bytes.length, `layer ${layer.blob.digest} size`).toBe(layer.blob.bytes.length);
    expect(bytes.equals(layer.blob.bytes), `layer ${layer.blob.digest} bytes differ`).toBe(true);
  }
}

/** Asserts the registry serves `image` in `repository` exactly, read over plain HTTP. */
async function expectImageInRegistry(repository: string, image: BuiltImage): Promise<void> {
  const served = await fetchManifest(repository, image.manifest.digest);
  expect(served.digest).toBe(image.manifest.digest);
  expect(served.contentType).toBe(MediaTypes.OCI_MANIFEST);
  expect(served.bytes.equals(image.manifest.bytes), "served manifest bytes differ").toBe(true);
  for (const blob of [image.config, ...image.layers.map((l) => l.blob)]) {
    const bytes = await fetchBlob(repository, blob.digest);
    expect(bytes.equals(blob.bytes), `served blob ${blob.digest} differs`).toBe(true);
  }
}

describe("skopeo copy round trip", () => {
  const tmp = useTempDir("copy-");

  it("copies a 3-layer image in and back out unchanged", async () => {
    const source = await buildSingleArchLayout({
      seed: "copy/single",
      tag: "1.0.0",
      layers: [{ size: 300 * KiB }, { size: 200 * KiB, files: 4 }, { size: 400 * KiB, files: 2 }],
      dir: join(tmp.path, "source"),
    });
    const repository = "team-a/web-app";
    const digestFile = join(tmp.path, "pushed-digest");

    await skopeo(
      [
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--digestfile",
        digestFile,
        ociRef(source.path, "1.0.0"),
        dockerRef(repository, "1.0.0"),
      ],
      { tmpDir: tmp.path },
    );
    expect((await readFile(digestFile, "utf8")).trim()).toBe(source.manifestDigest);
    const byTag = await fetchManifest(repository, "1.0.0");
    expect(byTag.digest).toBe(source.manifestDigest);
    await expectImageInRegistry(repository, source.image);

    const out = join(tmp.path, "pulled");
    await skopeo(
      ["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef(repository, "1.0.0"), ociRef(out, "pulled")],
      {
        tmpDir: tmp.path,
      },
    );
    const entry = await readLayoutEntry(out, "pulled");
    expect(entry.digest).toBe(source.manifestDigest);
    expect(entry.mediaType).toBe(MediaTypes.OCI_MANIFEST);
    expect(entry.size).toBe(source.image.manifest.bytes.length);
    await expectImageInLayout(out, source.image);
  });

  it("copies a multi-arch index with --all and back out unchanged", async () => {
    const source = await buildMultiArchLayout({
      seed: "copy/multi",
      tag: "2.0",
      layers: [{ size: 256 * KiB }, { size: 128 * KiB }],
      dir: join(tmp.path, "source"),
    });
    const repository = "team-a/multi-arch";

    await skopeo(
      [
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(source.path, "2.0"),
        dockerRef(repository, "2.0"),
      ],
      {
        tmpDir: tmp.path,
      },
    );
    const index = await fetchManifest(repository, "2.0");
    expect(index.digest).toBe(source.indexDigest);
    expect(index.contentType).toBe(MediaTypes.OCI_INDEX);
    expect(index.bytes.equals(source.index.bytes), "served index bytes differ").toBe(true);
    for (const image of source.images) await expectImageInRegistry(repository, image);

    const out = join(tmp.path, "pulled");
    await skopeo(
      [
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        dockerRef(repository, "2.0"),
        ociRef(out, "2.0"),
      ],
      {
        tmpDir: tmp.path,
      },
    );
    const entry = await readLayoutEntry(out, "2.0");
    expect(entry.digest).toBe(source.indexDigest);
    expect(entry.mediaType).toBe(MediaTypes.OCI_INDEX);
    expect((await readBlob(out, source.indexDigest)).equals(source.index.bytes), "pulled index bytes differ").toBe(
      true,
    );
    const pulledIndex = JSON.parse((await readBlob(out, source.indexDigest)).toString("utf8")) as {
      manifests: { digest: string }[];
    };
    expect(pulledIndex.manifests.map((m) => m.digest)).toEqual(source.manifestDigests);
    for (const image of source.images) await expectImageInLayout(out, image);
  });

  it("copies a 20 MiB layer (several 8 MiB upload parts) in and back out unchanged", async () => {
    const source = await buildSingleArchLayout({
      seed: "copy/large",
      tag: "big",
      layers: [{ size: 20 * MiB + 12345, files: 3 }, { size: 64 * KiB }],
      dir: join(tmp.path, "source"),
    });
    const repository = "team-a/large-layer";
    await skopeo(
      [
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(source.path, "big"),
        dockerRef(repository, "big"),
      ],
      {
        tmpDir: tmp.path,
        timeoutMs: 180_000,
      },
    );
    const out = join(tmp.path, "pulled");
    await skopeo(
      ["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef(repository, "big"), ociRef(out, "big")],
      {
        tmpDir: tmp.path,
        timeoutMs: 180_000,
      },
    );
    expect((await readLayoutEntry(out, "big")).digest).toBe(source.manifestDigest);
    await expectImageInLayout(out, source.image);
  });
});
