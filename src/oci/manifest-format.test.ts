import { describe, expect, it } from "vitest";
import { OciFormatError } from "./errors";
import {
  describeSizeMismatches,
  imageSizeOfStored,
  parseManifest,
  sizeMismatches,
  type ManifestSummary,
} from "./manifest-format";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const EMPTY = "application/vnd.oci.empty.v1+json";
const EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/** A distinct, well-formed sha256 digest per seed character. */
function d(seed: string): string {
  return `sha256:${seed.repeat(64)}`;
}
const D512 = `sha512:${"c".repeat(128)}`;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function bytes(value: Json): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function descriptor(
  mediaType: string,
  digest: string,
  size = 100,
  extra: { [key: string]: Json } = {},
): { [key: string]: Json } {
  return { mediaType, digest, size, ...extra };
}

function ociManifest(extra: { [key: string]: Json } = {}): { [key: string]: Json } {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(OCI_CONFIG, d("1"), 1234),
    layers: [descriptor(OCI_LAYER, d("2"), 5678), descriptor(OCI_LAYER, d("3"), 9)],
    ...extra,
  };
}

function ociIndex(extra: { [key: string]: Json } = {}): { [key: string]: Json } {
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
function withKey(base: { [key: string]: Json }, key: string, value: Json | undefined): { [key: string]: Json } {
  const copy = { ...base };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy;
}

function failure(body: Uint8Array, contentType: string | null): OciFormatError {
  try {
    parseManifest(body, contentType);
  } catch (error) {
    expect(error).toBeInstanceOf(OciFormatError);
    return error as OciFormatError;
  }
  throw new Error("expected parseManifest to throw");
}

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

describe("parseManifest: rejected manifests", () => {
  const DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";
  const DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
  const OCI_ARTIFACT = "application/vnd.oci.artifact.manifest.v1+json";

  it.each<[string, Uint8Array, string | null, RegExp]>([
    // Bytes and JSON.
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), OCI_MANIFEST, /not valid UTF-8/],
    [
      "truncated UTF-8 sequence",
      new Uint8Array([0x7b, 0x22, 0xe2, 0x82, 0x22, 0x3a, 0x31, 0x7d]),
      OCI_MANIFEST,
      /not valid UTF-8/,
    ],
    [
      "overlong UTF-8 encoding",
      new Uint8Array([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]),
      OCI_MANIFEST,
      /not valid UTF-8/,
    ],
    ["empty body", new Uint8Array(0), OCI_MANIFEST, /not valid JSON/],
    ["invalid JSON", new TextEncoder().encode("{not json"), OCI_MANIFEST, /not valid JSON/],
    [
      "truncated JSON",
      new TextEncoder().encode(JSON.stringify(ociManifest()).slice(0, -1)),
      OCI_MANIFEST,
      /not valid JSON/,
    ],
    ["trailing garbage", new TextEncoder().encode(JSON.stringify(ociManifest()) + "x"), OCI_MANIFEST, /not valid JSON/],
    [
      "byte order mark",
      new TextEncoder().encode("\uFEFF" + JSON.stringify(ociManifest())),
      OCI_MANIFEST,
      /not valid JSON/,
    ],
    ["JSON array", bytes([ociManifest()]), OCI_MANIFEST, /must be a JSON object/],
    ["JSON string", bytes("manifest"), OCI_MANIFEST, /must be a JSON object/],
    ["JSON number", bytes(2), OCI_MANIFEST, /must be a JSON object/],
    ["JSON null", bytes(null), OCI_MANIFEST, /must be a JSON object/],
    ["JSON true", bytes(true), OCI_MANIFEST, /must be a JSON object/],

    // Media type.
    [
      "no Content-Type and no mediaType",
      bytes(withKey(ociManifest(), "mediaType", undefined)),
      null,
      /media type is missing/,
    ],
    [
      "octet-stream and no mediaType",
      bytes(withKey(ociManifest(), "mediaType", undefined)),
      "application/octet-stream",
      /media type is missing/,
    ],
    ["non-string mediaType", bytes(ociManifest({ mediaType: 2 })), OCI_MANIFEST, /mediaType must be a string/],
    ["null mediaType", bytes(ociManifest({ mediaType: null })), OCI_MANIFEST, /mediaType must be a string/],
    [
      "Content-Type and mediaType disagree",
      bytes(ociManifest()),
      DOCKER_MANIFEST,
      /Content-Type "application\/vnd\.docker\.distribution\.manifest\.v2\+json" does not match the manifest's mediaType "application\/vnd\.oci\.image\.manifest\.v1\+json"/,
    ],
    [
      "index Content-Type on an image manifest",
      bytes(ociManifest()),
      OCI_INDEX,
      /does not match the manifest's mediaType/,
    ],
    ["image Content-Type on an index", bytes(ociIndex()), OCI_MANIFEST, /does not match the manifest's mediaType/],
    [
      "mediaType field in a different case",
      bytes(ociManifest({ mediaType: OCI_MANIFEST.toUpperCase() })),
      OCI_MANIFEST,
      /does not match/,
    ],
    [
      "plain JSON Content-Type",
      bytes(ociManifest()),
      "application/json",
      /unsupported manifest media type "application\/json"/,
    ],
    [
      "Docker schema 1",
      bytes({ schemaVersion: 1, name: "x", tag: "latest", fsLayers: [] }),
      DOCKER_SCHEMA1,
      /unsupported manifest media type "application\/vnd\.docker\.distribution\.manifest\.v1\+json"/,
    ],
    [
      "signed Docker schema 1",
      bytes({ schemaVersion: 1, name: "x", tag: "latest" }),
      DOCKER_SCHEMA1_SIGNED,
      /unsupported manifest media type/,
    ],
    [
      "schema 1 by mediaType field",
      bytes({ schemaVersion: 1, mediaType: DOCKER_SCHEMA1 }),
      null,
      /unsupported manifest media type/,
    ],
    [
      "withdrawn OCI artifact manifest",
      bytes({ mediaType: OCI_ARTIFACT, artifactType: "application/vnd.example", blobs: [] }),
      OCI_ARTIFACT,
      /unsupported manifest media type "application\/vnd\.oci\.artifact\.manifest\.v1\+json"/,
    ],
    [
      "withdrawn OCI artifact manifest by mediaType field",
      bytes({ mediaType: OCI_ARTIFACT, artifactType: "application/vnd.example", blobs: [] }),
      null,
      /unsupported manifest media type "application\/vnd\.oci\.artifact\.manifest\.v1\+json"/,
    ],
    ["config media type as Content-Type", bytes(ociManifest()), OCI_CONFIG, /unsupported manifest media type/],

    // schemaVersion.
    [
      "schemaVersion missing",
      bytes(withKey(ociManifest(), "schemaVersion", undefined)),
      OCI_MANIFEST,
      /schemaVersion must be 2/,
    ],
    ["schemaVersion 1", bytes(ociManifest({ schemaVersion: 1 })), OCI_MANIFEST, /schemaVersion must be 2/],
    ["schemaVersion 3", bytes(ociManifest({ schemaVersion: 3 })), OCI_MANIFEST, /schemaVersion must be 2/],
    ["schemaVersion as a string", bytes(ociManifest({ schemaVersion: "2" })), OCI_MANIFEST, /schemaVersion must be 2/],
    [
      "schemaVersion on an index",
      bytes(withKey(ociIndex(), "schemaVersion", undefined)),
      OCI_INDEX,
      /schemaVersion must be 2/,
    ],

    // Image manifest structure.
    ["no config", bytes(withKey(ociManifest(), "config", undefined)), OCI_MANIFEST, /needs a config descriptor/],
    ["config is a string", bytes(ociManifest({ config: d("1") })), OCI_MANIFEST, /config must be a descriptor object/],
    ["config is null", bytes(ociManifest({ config: null })), OCI_MANIFEST, /config must be a descriptor object/],
    [
      "config is an array",
      bytes(ociManifest({ config: [descriptor(OCI_CONFIG, d("1"))] })),
      OCI_MANIFEST,
      /config must be a descriptor object/,
    ],
    [
      "layers is an object",
      bytes(ociManifest({ layers: descriptor(OCI_LAYER, d("2")) })),
      OCI_MANIFEST,
      /layers must be an array of descriptors/,
    ],
    ["layers is null", bytes(ociManifest({ layers: null })), OCI_MANIFEST, /layers must be an array of descriptors/],
    [
      "a layer is a string",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2")), d("3")] })),
      OCI_MANIFEST,
      /layers\[1\] must be a descriptor object/,
    ],

    // Index structure.
    [
      "index without manifests",
      bytes(withKey(ociIndex(), "manifests", undefined)),
      OCI_INDEX,
      /manifests must be an array of descriptors/,
    ],
    [
      "manifest list without manifests",
      bytes({ schemaVersion: 2, mediaType: DOCKER_LIST }),
      DOCKER_LIST,
      /manifests must be an array of descriptors/,
    ],
    [
      "index manifests is an object",
      bytes(ociIndex({ manifests: {} })),
      OCI_INDEX,
      /manifests must be an array of descriptors/,
    ],
    [
      "index child without digest",
      bytes(ociIndex({ manifests: [{ mediaType: OCI_MANIFEST, size: 1 }] })),
      OCI_INDEX,
      /manifests\[0\]\.digest must be a sha256 or sha512 digest/,
    ],
    [
      "index child without mediaType",
      bytes(ociIndex({ manifests: [descriptor(OCI_MANIFEST, d("a")), { digest: d("b"), size: 1 }] })),
      OCI_INDEX,
      /manifests\[1\]\.mediaType must be a media type/,
    ],

    // Descriptor digests.
    [
      "config without digest",
      bytes(ociManifest({ config: { mediaType: OCI_CONFIG, size: 1 } })),
      OCI_MANIFEST,
      /config\.digest must be a sha256 or sha512 digest/,
    ],
    [
      "image manifest with no layers field",
      bytes(withKey(ociManifest(), "layers", undefined)),
      OCI_MANIFEST,
      /needs a layers array/,
    ],
    [
      "layer without digest",
      bytes(ociManifest({ layers: [{ mediaType: OCI_LAYER, size: 1 }] })),
      OCI_MANIFEST,
      /layers\[0\]\.digest must be a sha256 or sha512 digest/,
    ],
    [
      "digest is a number",
      bytes(ociManifest({ config: descriptor(OCI_CONFIG, d("1"), 1, { digest: 12 }) })),
      OCI_MANIFEST,
      /config\.digest must be/,
    ],
    [
      "digest with uppercase hex",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, `sha256:${"A".repeat(64)}`)] })),
      OCI_MANIFEST,
      /layers\[0\]\.digest must be/,
    ],
    [
      "digest too short",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, `sha256:${"a".repeat(63)}`)] })),
      OCI_MANIFEST,
      /layers\[0\]\.digest must be/,
    ],
    [
      "digest of an unsupported algorithm",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, `sha384:${"a".repeat(96)}`)] })),
      OCI_MANIFEST,
      /layers\[0\]\.digest must be/,
    ],
    [
      "digest without algorithm",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, "a".repeat(64))] })),
      OCI_MANIFEST,
      /layers\[0\]\.digest must be/,
    ],
    [
      "third layer has a bad digest",
      bytes(
        ociManifest({
          layers: [descriptor(OCI_LAYER, d("2")), descriptor(OCI_LAYER, d("3")), descriptor(OCI_LAYER, "sha256:xyz")],
        }),
      ),
      OCI_MANIFEST,
      /layers\[2\]\.digest must be/,
    ],

    // Descriptor sizes.
    [
      "size missing",
      bytes(ociManifest({ config: { mediaType: OCI_CONFIG, digest: d("1") } })),
      OCI_MANIFEST,
      /config\.size must be a non-negative integer/,
    ],
    [
      "negative size",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), -1)] })),
      OCI_MANIFEST,
      /layers\[0\]\.size must be a non-negative integer/,
    ],
    [
      "fractional size",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), 1.5)] })),
      OCI_MANIFEST,
      /layers\[0\]\.size must be a non-negative integer/,
    ],
    [
      "size as a string",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), 1, { size: "100" })] })),
      OCI_MANIFEST,
      /layers\[0\]\.size must be a non-negative integer/,
    ],
    [
      "size null",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), 1, { size: null })] })),
      OCI_MANIFEST,
      /layers\[0\]\.size must be a non-negative integer/,
    ],
    [
      "size beyond safe integers",
      new TextEncoder().encode(JSON.stringify(ociManifest()).replace('"size":9}', '"size":9007199254740993}')),
      OCI_MANIFEST,
      /layers\[1\]\.size must be a non-negative integer/,
    ],
    [
      "size in exponent form beyond safe integers",
      new TextEncoder().encode(JSON.stringify(ociManifest()).replace('"size":9}', '"size":1e300}')),
      OCI_MANIFEST,
      /layers\[1\]\.size must be a non-negative integer/,
    ],

    // Descriptor media types.
    [
      "config without mediaType",
      bytes(ociManifest({ config: { digest: d("1"), size: 1 } })),
      OCI_MANIFEST,
      /config\.mediaType must be a media type/,
    ],
    [
      "layer mediaType without a slash",
      bytes(ociManifest({ layers: [descriptor("tar", d("2"))] })),
      OCI_MANIFEST,
      /layers\[0\]\.mediaType must be a media type/,
    ],
    [
      "layer mediaType with parameters",
      bytes(ociManifest({ layers: [descriptor(`${OCI_LAYER}; x=y`, d("2"))] })),
      OCI_MANIFEST,
      /layers\[0\]\.mediaType must be a media type/,
    ],
    [
      "layer mediaType empty",
      bytes(ociManifest({ layers: [descriptor("", d("2"))] })),
      OCI_MANIFEST,
      /layers\[0\]\.mediaType must be a media type/,
    ],
    [
      "descriptor artifactType not a media type",
      bytes(ociIndex({ manifests: [descriptor(OCI_MANIFEST, d("a"), 1, { artifactType: "sbom" })] })),
      OCI_INDEX,
      /manifests\[0\]\.artifactType must be a media type/,
    ],

    // Annotations.
    [
      "non-string annotation value",
      bytes(ociManifest({ annotations: { "org.example.count": 3 } })),
      OCI_MANIFEST,
      /manifest\.annotations\["org\.example\.count"\] must be a string/,
    ],
    [
      "null annotation value",
      bytes(ociManifest({ annotations: { a: "ok", b: null } })),
      OCI_MANIFEST,
      /manifest\.annotations\["b"\] must be a string/,
    ],
    [
      "object annotation value",
      bytes(ociIndex({ annotations: { nested: { x: "y" } } })),
      OCI_INDEX,
      /manifest\.annotations\["nested"\] must be a string/,
    ],
    [
      "annotations is an array",
      bytes(ociManifest({ annotations: ["a=b"] })),
      OCI_MANIFEST,
      /manifest\.annotations must be an object of strings/,
    ],
    [
      "annotations is a string",
      bytes(ociManifest({ annotations: "a=b" })),
      OCI_MANIFEST,
      /manifest\.annotations must be an object of strings/,
    ],
    [
      "annotations is null",
      bytes(ociManifest({ annotations: null })),
      OCI_MANIFEST,
      /manifest\.annotations must be an object of strings/,
    ],
    [
      "layer annotation value is a boolean",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), 1, { annotations: { flag: true } })] })),
      OCI_MANIFEST,
      /layers\[0\]\.annotations\["flag"\] must be a string/,
    ],
    [
      "config annotations is an array",
      bytes(ociManifest({ config: descriptor(OCI_CONFIG, d("1"), 1, { annotations: [] }) })),
      OCI_MANIFEST,
      /config\.annotations must be an object of strings/,
    ],

    // urls.
    [
      "urls is a string",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), 1, { urls: "https://example.com" })] })),
      OCI_MANIFEST,
      /layers\[0\]\.urls must be an array of strings/,
    ],
    [
      "urls holds a number",
      bytes(ociManifest({ layers: [descriptor(OCI_LAYER, d("2"), 1, { urls: ["https://example.com", 7] })] })),
      OCI_MANIFEST,
      /layers\[0\]\.urls must be an array of strings/,
    ],

    // Subject and artifactType.
    [
      "subject is a string",
      bytes(ociManifest({ subject: d("9") })),
      OCI_MANIFEST,
      /subject must be a descriptor object/,
    ],
    [
      "subject without digest",
      bytes(ociManifest({ subject: { mediaType: OCI_MANIFEST, size: 1 } })),
      OCI_MANIFEST,
      /subject\.digest must be a sha256 or sha512 digest/,
    ],
    [
      "subject with a negative size",
      bytes(ociManifest({ subject: descriptor(OCI_MANIFEST, d("9"), -5) })),
      OCI_MANIFEST,
      /subject\.size must be a non-negative integer/,
    ],
    [
      "artifactType is a number",
      bytes(ociManifest({ artifactType: 1 })),
      OCI_MANIFEST,
      /^artifactType must be a media type$/,
    ],
    [
      "artifactType is not a media type",
      bytes(ociManifest({ artifactType: "sbom" })),
      OCI_MANIFEST,
      /^artifactType must be a media type$/,
    ],
    [
      "artifactType on an index is checked",
      bytes(ociIndex({ artifactType: "" })),
      OCI_INDEX,
      /^artifactType must be a media type$/,
    ],
  ])("%s", (_label, body, contentType, message) => {
    const error = failure(body, contentType);
    expect(error.code).toBe("manifest-invalid");
    expect(error.message).toMatch(message);
  });

  it("reports the JSON parser's reason", () => {
    const error = failure(new TextEncoder().encode("{"), OCI_MANIFEST);
    expect(error.message).toMatch(/^manifest is not valid JSON: .+/);
  });
});

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
