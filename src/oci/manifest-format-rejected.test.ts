/**
 * parseManifest on the manifests it refuses: each is an OciFormatError with the code and message the surfaces report.
 */
import { describe, expect, it } from "vitest";
import {
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_LIST,
  OCI_CONFIG,
  OCI_LAYER,
  d,
  bytes,
  descriptor,
  ociManifest,
  ociIndex,
  withKey,
  failure,
} from "../../test/support/manifest-fixtures";

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
