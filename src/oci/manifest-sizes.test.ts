/**
 * The sizes a manifest's descriptors declare, and how sizeMismatches compares them with what the repository stores.
 */
import { describe, expect, it } from "vitest";
import { describeSizeMismatches, layersOfStored, parseManifest, sizeMismatches } from "./manifest-format";
import {
  OCI_MANIFEST,
  OCI_LAYER,
  d,
  bytes,
  descriptor,
  ociManifest,
  ociIndex,
} from "../../test/support/manifest-fixtures";

describe("parseManifest: declared sizes", () => {
  it("lists config and distributable layers as blobs, and the subject as a manifest", () => {
    const manifest = ociManifest({
      layers: [
        descriptor(OCI_LAYER, d("2"), 5678),
        descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", d("7"), 70),
        descriptor(OCI_LAYER, d("3"), 9),
      ],
      subject: descriptor(OCI_MANIFEST, d("9"), 42),
    });
    expect(parseManifest(bytes(manifest), null).declaredSizes).toEqual({
      blobs: [
        { where: "config", digest: d("1"), size: 1234 },
        { where: "layers[0]", digest: d("2"), size: 5678 },
        { where: "layers[2]", digest: d("3"), size: 9 },
      ],
      manifests: [{ where: "subject", digest: d("9"), size: 42 }],
    });
  });

  it("lists an index's children (and its subject) as manifests", () => {
    const index = ociIndex({ subject: descriptor(OCI_MANIFEST, d("9"), 42) });
    expect(parseManifest(bytes(index), null).declaredSizes).toEqual({
      blobs: [],
      manifests: [
        { where: "manifests[0]", digest: d("a"), size: 500 },
        { where: "manifests[1]", digest: d("b"), size: 501 },
        { where: "subject", digest: d("9"), size: 42 },
      ],
    });
  });

  it("keeps every descriptor of a digest listed twice, so each declared size is compared", () => {
    const manifest = ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), 5678), descriptor(OCI_LAYER, d("2"), 1)] });
    expect(parseManifest(bytes(manifest), null).declaredSizes.blobs.map((entry) => entry.size)).toEqual([
      1234, 5678, 1,
    ]);
  });
});

describe("sizeMismatches", () => {
  const declaredSizes = {
    blobs: [
      { where: "config", digest: d("1"), size: 10 },
      { where: "layers[0]", digest: d("2"), size: 20 },
    ],
    manifests: [
      { where: "manifests[0]", digest: d("a"), size: 30 },
      { where: "subject", digest: d("9"), size: 40 },
    ],
  };

  it("is empty when every stored size matches, and ignores what is not stored", () => {
    expect(
      sizeMismatches(declaredSizes, {
        blobs: new Map([
          [d("1"), 10],
          [d("2"), 20],
        ]),
        manifests: new Map([[d("a"), 30]]),
      }),
    ).toEqual([]);
  });

  it("reports each descriptor whose stored content has another size", () => {
    const found = sizeMismatches(declaredSizes, {
      blobs: new Map([
        [d("1"), 10],
        [d("2"), 21],
      ]),
      manifests: new Map([
        [d("a"), 29],
        [d("9"), 41],
      ]),
    });
    expect(found).toEqual([
      { where: "layers[0]", digest: d("2"), size: 20, storedSize: 21 },
      { where: "manifests[0]", digest: d("a"), size: 30, storedSize: 29 },
      { where: "subject", digest: d("9"), size: 40, storedSize: 41 },
    ]);
    expect(describeSizeMismatches(found.slice(0, 1))).toBe(
      `manifest descriptor sizes do not match the stored content: layers[0] declares size 20 for ${d("2")}, which is 21 bytes`,
    );
  });

  it("does not take a blob's size for a manifest's or the reverse", () => {
    const sameDigest = {
      blobs: [{ where: "config", digest: d("1"), size: 10 }],
      manifests: [{ where: "subject", digest: d("1"), size: 99 }],
    };
    expect(sizeMismatches(sameDigest, { blobs: new Map([[d("1"), 10]]), manifests: new Map() })).toEqual([]);
  });
});

describe("layersOfStored", () => {
  it("reads a stored image manifest's layers bottom first, and refuses what is not one", () => {
    const text = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: "sha256:c", size: 2 },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: "sha256:a", size: 10 },
        { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: "sha256:b", size: 20 },
      ],
    });
    expect(layersOfStored(text)).toEqual([
      { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: "sha256:a", size: 10 },
      { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: "sha256:b", size: 20 },
    ]);
    expect(layersOfStored(JSON.stringify({ manifests: [] }))).toBeNull();
    expect(layersOfStored("{")).toBeNull();
    expect(layersOfStored(JSON.stringify({ layers: [{ digest: "sha256:a" }] }))).toBeNull();
  });
});
