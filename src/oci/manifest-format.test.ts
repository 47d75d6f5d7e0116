/**
 * parseManifest on the manifests it accepts (OCI and Docker manifests and indexes, artifacts, subjects, annotations) and the image size it reports. Rejections are in manifest-format-rejected.test.ts, descriptor sizes in manifest-sizes.test.ts.
 */
import { describe, expect, it } from "vitest";
import { imageSizeOfStored, parseManifest, type ManifestSummary } from "./manifest-format";
import {
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_LIST,
  OCI_CONFIG,
  DOCKER_CONFIG,
  OCI_LAYER,
  DOCKER_LAYER,
  EMPTY,
  EMPTY_DIGEST,
  d,
  D512,
  bytes,
  descriptor,
  ociManifest,
  ociIndex,
  withKey,
} from "../../test/support/manifest-fixtures";

describe("parseManifest: accepted manifests", () => {
  it.each<[string, Uint8Array, string | null, Omit<ManifestSummary, "imageSize" | "declaredSizes">]>([
    [
      "OCI image manifest",
      bytes(ociManifest()),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "OCI image manifest without a mediaType field",
      bytes(withKey(ociManifest(), "mediaType", undefined)),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "OCI image manifest identified by its mediaType field only",
      bytes(ociManifest()),
      null,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "OCI image manifest sent as application/octet-stream",
      bytes(ociManifest()),
      "application/octet-stream",
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "OCI image manifest sent with an empty Content-Type",
      bytes(ociManifest()),
      "",
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "Content-Type with a charset parameter",
      bytes(ociManifest()),
      `${OCI_MANIFEST}; charset=utf-8`,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "Content-Type in upper case with spaces",
      bytes(ociManifest()),
      `  APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON ;charset=UTF-8`,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "image manifest without layers",
      bytes(withKey(ociManifest(), "layers", [])),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1")],
        childDigests: [],
      },
    ],
    [
      "sha512 digests",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, D512, 1)] })),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), D512],
        childDigests: [],
      },
    ],
    [
      "zero-size layer",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), 0)] })),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2")],
        childDigests: [],
      },
    ],
    [
      "Docker schema 2 manifest",
      bytes({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: descriptor(DOCKER_CONFIG, d("4"), 1469),
        layers: [descriptor(DOCKER_LAYER, d("5"), 2_811_969), descriptor(DOCKER_LAYER, d("6"), 100)],
      }),
      DOCKER_MANIFEST,
      {
        mediaType: DOCKER_MANIFEST,
        artifactType: DOCKER_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("4"), d("5"), d("6")],
        childDigests: [],
      },
    ],
    [
      "OCI index",
      bytes(ociIndex()),
      OCI_INDEX,
      {
        mediaType: OCI_INDEX,
        artifactType: null,
        subject: null,
        annotations: null,
        blobDigests: [],
        childDigests: [d("a"), d("b")],
      },
    ],
    [
      "OCI index without a mediaType field",
      bytes(withKey(ociIndex(), "mediaType", undefined)),
      OCI_INDEX,
      {
        mediaType: OCI_INDEX,
        artifactType: null,
        subject: null,
        annotations: null,
        blobDigests: [],
        childDigests: [d("a"), d("b")],
      },
    ],
    [
      "empty OCI index",
      bytes(ociIndex({ manifests: [] })),
      OCI_INDEX,
      {
        mediaType: OCI_INDEX,
        artifactType: null,
        subject: null,
        annotations: null,
        blobDigests: [],
        childDigests: [],
      },
    ],
    [
      "OCI index with artifactType, subject and annotations",
      bytes(
        ociIndex({
          artifactType: "application/vnd.example.bundle",
          subject: descriptor(OCI_MANIFEST, d("9"), 42),
          annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
        }),
      ),
      OCI_INDEX,
      {
        mediaType: OCI_INDEX,
        artifactType: "application/vnd.example.bundle",
        subject: d("9"),
        annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
        blobDigests: [],
        childDigests: [d("a"), d("b")],
      },
    ],
    [
      "index whose children are indexes and have annotations",
      bytes(
        ociIndex({
          manifests: [
            descriptor(OCI_INDEX, d("a"), 1, { annotations: { "org.opencontainers.image.ref.name": "v1" } }),
            descriptor(OCI_MANIFEST, d("b"), 2, { artifactType: "application/vnd.example.sig" }),
          ],
        }),
      ),
      OCI_INDEX,
      {
        mediaType: OCI_INDEX,
        artifactType: null,
        subject: null,
        annotations: null,
        blobDigests: [],
        childDigests: [d("a"), d("b")],
      },
    ],
    [
      "Docker manifest list",
      bytes({
        schemaVersion: 2,
        mediaType: DOCKER_LIST,
        manifests: [
          descriptor(DOCKER_MANIFEST, d("c"), 528, { platform: { architecture: "amd64", os: "linux" } }),
          descriptor(DOCKER_MANIFEST, d("d"), 528, { platform: { architecture: "ppc64le", os: "linux" } }),
        ],
      }),
      DOCKER_LIST,
      {
        mediaType: DOCKER_LIST,
        artifactType: null,
        subject: null,
        annotations: null,
        blobDigests: [],
        childDigests: [d("c"), d("d")],
      },
    ],
    [
      "artifact manifest with an empty config",
      bytes({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.example.sbom.v1+json",
        config: descriptor(EMPTY, EMPTY_DIGEST, 2),
        layers: [descriptor("application/spdx+json", d("7"), 321)],
      }),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.example.sbom.v1+json",
        subject: null,
        annotations: null,
        blobDigests: [EMPTY_DIGEST, d("7")],
        childDigests: [],
      },
    ],
    [
      "artifact manifest with a subject and annotations (a referrer)",
      bytes({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
        config: descriptor(EMPTY, EMPTY_DIGEST, 2),
        layers: [descriptor(EMPTY, EMPTY_DIGEST, 2)],
        subject: descriptor(OCI_MANIFEST, d("e"), 1024),
        annotations: { "org.opencontainers.image.created": "2024-05-01T12:00:00Z", empty: "" },
      }),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
        subject: d("e"),
        annotations: { "org.opencontainers.image.created": "2024-05-01T12:00:00Z", empty: "" },
        blobDigests: [EMPTY_DIGEST],
        childDigests: [],
      },
    ],
    [
      "image manifest with a subject: artifactType falls back to the config media type",
      bytes(ociManifest({ subject: descriptor(OCI_INDEX, d("f"), 7) })),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: d("f"),
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "empty annotations object",
      bytes(ociManifest({ annotations: {} })),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: {},
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "foreign Docker layer is not stored",
      bytes({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: descriptor(DOCKER_CONFIG, d("4"), 1),
        layers: [
          descriptor("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", d("5"), 2, {
            urls: ["https://go.microsoft.com/fwlink/?linkid=837858"],
          }),
          descriptor(DOCKER_LAYER, d("6"), 3),
        ],
      }),
      DOCKER_MANIFEST,
      {
        mediaType: DOCKER_MANIFEST,
        artifactType: DOCKER_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("4"), d("6")],
        childDigests: [],
      },
    ],
    [
      "OCI non-distributable layers are not stored",
      bytes(
        ociManifest({
          layers: [
            descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar", d("5"), 1),
            descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", d("6"), 1),
            descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", d("7"), 1),
            descriptor(OCI_LAYER, d("8"), 1),
          ],
        }),
      ),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("8")],
        childDigests: [],
      },
    ],
    [
      "a distributable layer with urls must still be stored",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("5"), 1, { urls: ["https://example.com/layer"] })] })),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("5")],
        childDigests: [],
      },
    ],
    [
      "duplicate layer digests are deduplicated",
      bytes(
        ociManifest({
          layers: [
            descriptor(OCI_LAYER, d("2"), 5),
            descriptor(OCI_LAYER, d("3"), 6),
            descriptor(OCI_LAYER, d("2"), 5),
            descriptor(OCI_LAYER, d("3"), 6),
          ],
        }),
      ),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "layer with the config's digest is deduplicated",
      bytes(ociManifest({ config: descriptor(EMPTY, EMPTY_DIGEST, 2), layers: [descriptor(EMPTY, EMPTY_DIGEST, 2)] })),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: EMPTY,
        subject: null,
        annotations: null,
        blobDigests: [EMPTY_DIGEST],
        childDigests: [],
      },
    ],
    [
      "duplicate index children are deduplicated",
      bytes(
        ociIndex({
          manifests: [
            descriptor(OCI_MANIFEST, d("a")),
            descriptor(OCI_MANIFEST, d("b")),
            descriptor(OCI_MANIFEST, d("a")),
          ],
        }),
      ),
      OCI_INDEX,
      {
        mediaType: OCI_INDEX,
        artifactType: null,
        subject: null,
        annotations: null,
        blobDigests: [],
        childDigests: [d("a"), d("b")],
      },
    ],
    [
      "unknown top-level fields are ignored",
      bytes(ociManifest({ "x-extension": { anything: [1, 2, 3] } })),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
    [
      "whitespace around the JSON",
      new TextEncoder().encode(`\n  ${JSON.stringify(ociManifest())}  \n`),
      OCI_MANIFEST,
      {
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        annotations: null,
        blobDigests: [d("1"), d("2"), d("3")],
        childDigests: [],
      },
    ],
  ])("%s", (_label, body, contentType, expected) => {
    const { imageSize: _imageSize, declaredSizes: _declaredSizes, ...summary } = parseManifest(body, contentType);
    expect(summary).toEqual(expected);
  });
});

describe("parseManifest: imageSize (ECR's imageSizeInBytes)", () => {
  it.each<[string, Uint8Array, number | null]>([
    ["OCI image manifest: config plus layers", bytes(ociManifest()), 1234 + 5678 + 9],
    ["image manifest without layers: the config alone", bytes(withKey(ociManifest(), "layers", [])), 1234],
    [
      "non-distributable layers count too",
      bytes(
        ociManifest({
          layers: [descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", d("7"), 70)],
        }),
      ),
      1234 + 70,
    ],
    ["an index has none", bytes(ociIndex()), null],
  ])("%s", (_label, body, expected) => {
    expect(parseManifest(body, null).imageSize).toBe(expected);
  });

  it("is computed the same way from stored manifest text", () => {
    expect(imageSizeOfStored(JSON.stringify(ociManifest()))).toBe(1234 + 5678 + 9);
    expect(imageSizeOfStored(JSON.stringify(ociIndex()))).toBeNull();
    expect(imageSizeOfStored("not json")).toBeNull();
  });
});
