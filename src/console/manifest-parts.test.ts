/**
 * What the console pages read from stored manifest and config bytes: an index's children and
 * their platforms (buildx attestations set apart), an image config's platform, a manifest's
 * annotations and config descriptor. Bytes are parsed defensively: whatever a row holds, the
 * functions answer null or nothing instead of throwing.
 */
import { describe, expect, it } from "vitest";
import {
  configDescriptor,
  configPlatform,
  indexEntries,
  indexPlatforms,
  manifestAnnotations,
  platformText,
} from "./manifest-parts";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";

function d(seed: string): string {
  return `sha256:${seed.repeat(64)}`;
}

/** A buildx-style multi-platform OCI index: two images and the attestation manifest of the first. */
const buildxIndex = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: [
    { mediaType: OCI_MANIFEST, digest: d("a"), size: 1050, platform: { architecture: "amd64", os: "linux" } },
    {
      mediaType: OCI_MANIFEST,
      digest: d("b"),
      size: 1051,
      platform: { architecture: "arm", os: "linux", variant: "v7" },
    },
    {
      mediaType: OCI_MANIFEST,
      digest: d("c"),
      size: 840,
      annotations: {
        "vnd.docker.reference.digest": d("a"),
        "vnd.docker.reference.type": "attestation-manifest",
      },
      platform: { architecture: "unknown", os: "unknown" },
    },
  ],
});

/** A Docker manifest list as `docker manifest push` writes it. */
const dockerList = JSON.stringify({
  schemaVersion: 2,
  mediaType: DOCKER_LIST,
  manifests: [
    {
      mediaType: DOCKER_MANIFEST,
      digest: d("1"),
      size: 528,
      platform: { architecture: "amd64", os: "linux" },
    },
    {
      mediaType: DOCKER_MANIFEST,
      digest: d("2"),
      size: 528,
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
    },
    {
      mediaType: DOCKER_MANIFEST,
      digest: d("3"),
      size: 1162,
      platform: { architecture: "amd64", os: "windows", "os.version": "10.0.17763.5820" },
    },
  ],
});

const imageManifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: OCI_CONFIG, digest: d("f"), size: 1469 },
  layers: [{ mediaType: OCI_LAYER, digest: d("e"), size: 3_623_807 }],
  annotations: { "org.opencontainers.image.created": "2024-05-01T12:00:00Z" },
});

describe("indexEntries", () => {
  it("lists an OCI index's children in order, with digest, media type, size and platform", () => {
    expect(indexEntries(buildxIndex)).toEqual([
      {
        digest: d("a"),
        mediaType: OCI_MANIFEST,
        size: 1050,
        platform: { os: "linux", architecture: "amd64", variant: null },
        attestation: false,
      },
      {
        digest: d("b"),
        mediaType: OCI_MANIFEST,
        size: 1051,
        platform: { os: "linux", architecture: "arm", variant: "v7" },
        attestation: false,
      },
      {
        digest: d("c"),
        mediaType: OCI_MANIFEST,
        size: 840,
        platform: { os: "unknown", architecture: "unknown", variant: null },
        attestation: true,
      },
    ]);
  });

  it("reads a Docker manifest list the same way, ignoring platform fields other than os, architecture and variant", () => {
    expect(indexEntries(dockerList)?.map((entry) => entry.platform)).toEqual([
      { os: "linux", architecture: "amd64", variant: null },
      { os: "linux", architecture: "arm64", variant: "v8" },
      { os: "windows", architecture: "amd64", variant: null },
    ]);
  });

  it("marks a child as an attestation by its vnd.docker.reference.type annotation, whatever its value", () => {
    const index = JSON.stringify({
      manifests: [
        { digest: d("a"), annotations: { "vnd.docker.reference.type": "" } },
        { digest: d("b"), annotations: { "vnd.docker.reference.type": null } },
        { digest: d("c"), annotations: { "vnd.docker.reference.digest": d("a") } },
        { digest: d("d"), annotations: ["vnd.docker.reference.type"] },
      ],
    });
    expect(indexEntries(index)?.map((entry) => entry.attestation)).toEqual([true, true, false, false]);
  });

  it("gives a child no platform when its descriptor names none, or names one without string os and architecture", () => {
    const index = JSON.stringify({
      manifests: [
        { digest: d("a") },
        { digest: d("b"), platform: null },
        { digest: d("c"), platform: "linux/amd64" },
        { digest: d("d"), platform: { os: "linux" } },
        { digest: d("e"), platform: { architecture: "amd64" } },
        { digest: d("f"), platform: { os: "linux", architecture: 64 } },
        { digest: d("0"), platform: [{ os: "linux", architecture: "amd64" }] },
      ],
    });
    expect(indexEntries(index)?.map((entry) => entry.platform)).toEqual([null, null, null, null, null, null, null]);
  });

  it("keeps a platform whose variant is not a string, without the variant", () => {
    const index = JSON.stringify({
      manifests: [{ digest: d("a"), platform: { os: "linux", architecture: "arm", variant: 7 } }],
    });
    expect(indexEntries(index)?.[0]?.platform).toEqual({ os: "linux", architecture: "arm", variant: null });
  });

  it("defaults a missing or mistyped media type to an empty string and size to 0", () => {
    const index = JSON.stringify({
      manifests: [{ digest: d("a") }, { digest: d("b"), mediaType: 42, size: "528" }],
    });
    expect(indexEntries(index)).toEqual([
      { digest: d("a"), mediaType: "", size: 0, platform: null, attestation: false },
      { digest: d("b"), mediaType: "", size: 0, platform: null, attestation: false },
    ]);
  });

  it("skips children that are not objects or have no string digest, keeping the others in order", () => {
    const index = JSON.stringify({
      manifests: [null, "sha256:x", { size: 3 }, { digest: 7 }, { digest: d("a") }, [d("b")], { digest: d("c") }],
    });
    expect(indexEntries(index)?.map((entry) => entry.digest)).toEqual([d("a"), d("c")]);
  });

  it("answers an empty list for an index without children", () => {
    expect(indexEntries(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }))).toEqual([]);
  });

  it("answers null for text that is not an index", () => {
    expect(indexEntries(null)).toBeNull();
    expect(indexEntries("")).toBeNull();
    expect(indexEntries("{not json")).toBeNull();
    expect(indexEntries(imageManifest)).toBeNull();
    expect(indexEntries(JSON.stringify({ manifests: { digest: d("a") } }))).toBeNull();
    expect(indexEntries(JSON.stringify([{ manifests: [] }]))).toBeNull();
    expect(indexEntries("null")).toBeNull();
    expect(indexEntries('"text"')).toBeNull();
  });
});

describe("indexPlatforms", () => {
  it("lists the runnable platforms of an index, leaving attestation manifests out", () => {
    expect(indexPlatforms(buildxIndex)).toEqual([
      { os: "linux", architecture: "amd64", variant: null },
      { os: "linux", architecture: "arm", variant: "v7" },
    ]);
  });

  it("lists every platform of a Docker manifest list", () => {
    expect(indexPlatforms(dockerList).map(platformText)).toEqual(["linux/amd64", "linux/arm64/v8", "windows/amd64"]);
  });

  it("leaves out children without a platform", () => {
    const index = JSON.stringify({
      manifests: [{ digest: d("a") }, { digest: d("b"), platform: { os: "linux", architecture: "s390x" } }],
    });
    expect(indexPlatforms(index)).toEqual([{ os: "linux", architecture: "s390x", variant: null }]);
  });

  it("goes by the attestation annotation, not the platform's name: an unannotated unknown/unknown child is listed", () => {
    const index = JSON.stringify({
      manifests: [{ digest: d("a"), platform: { os: "unknown", architecture: "unknown" } }],
    });
    expect(indexPlatforms(index)).toEqual([{ os: "unknown", architecture: "unknown", variant: null }]);
  });

  it("answers no platforms for text that is not an index", () => {
    expect(indexPlatforms(null)).toEqual([]);
    expect(indexPlatforms("]")).toEqual([]);
    expect(indexPlatforms(imageManifest)).toEqual([]);
  });
});

describe("configPlatform", () => {
  it("reads the top-level os, architecture and variant of an image config", () => {
    const config = JSON.stringify({
      architecture: "arm64",
      os: "linux",
      variant: "v8",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: [d("9")] },
    });
    expect(configPlatform(config)).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
  });

  it("gives a config without a variant a null variant", () => {
    expect(configPlatform(JSON.stringify({ architecture: "amd64", os: "linux" }))).toEqual({
      os: "linux",
      architecture: "amd64",
      variant: null,
    });
  });

  it("answers null for a config without string os and architecture (an artifact's empty config)", () => {
    expect(configPlatform("{}")).toBeNull();
    expect(configPlatform(JSON.stringify({ os: "linux" }))).toBeNull();
    expect(configPlatform(JSON.stringify({ os: "linux", architecture: null }))).toBeNull();
  });

  it("answers null for text that is not a JSON object", () => {
    expect(configPlatform("")).toBeNull();
    expect(configPlatform('{"os":')).toBeNull();
    expect(configPlatform(JSON.stringify([{ os: "linux", architecture: "amd64" }]))).toBeNull();
  });
});

describe("platformText", () => {
  it("joins os and architecture with a slash", () => {
    expect(platformText({ os: "linux", architecture: "amd64", variant: null })).toBe("linux/amd64");
  });

  it("appends the variant when there is one", () => {
    expect(platformText({ os: "linux", architecture: "arm", variant: "v6" })).toBe("linux/arm/v6");
  });
});

describe("manifestAnnotations", () => {
  it("lists a manifest's string annotations in their order", () => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: d("f"), size: 2 },
      layers: [],
      annotations: {
        "org.opencontainers.image.source": "https://github.com/example/app",
        "org.opencontainers.image.revision": "3f2c1a9",
        "org.opencontainers.image.created": "2024-05-01T12:00:00Z",
      },
    });
    expect(manifestAnnotations(manifest)).toEqual([
      ["org.opencontainers.image.source", "https://github.com/example/app"],
      ["org.opencontainers.image.revision", "3f2c1a9"],
      ["org.opencontainers.image.created", "2024-05-01T12:00:00Z"],
    ]);
  });

  it("reads an index's own annotations too", () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [],
      annotations: { "org.opencontainers.image.ref.name": "1.2.3" },
    });
    expect(manifestAnnotations(index)).toEqual([["org.opencontainers.image.ref.name", "1.2.3"]]);
  });

  it("drops annotations whose values are not strings", () => {
    const manifest = JSON.stringify({ annotations: { a: "1", b: 2, c: null, d: { e: "f" }, g: ["h"], i: "" } });
    expect(manifestAnnotations(manifest)).toEqual([
      ["a", "1"],
      ["i", ""],
    ]);
  });

  it("answers no annotations when the manifest has none, or they are not an object", () => {
    expect(manifestAnnotations(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }))).toEqual([]);
    expect(manifestAnnotations(JSON.stringify({ annotations: [["a", "b"]] }))).toEqual([]);
    expect(manifestAnnotations(JSON.stringify({ annotations: "a=b" }))).toEqual([]);
  });

  it("answers no annotations for null or malformed text", () => {
    expect(manifestAnnotations(null)).toEqual([]);
    expect(manifestAnnotations('{"annotations": {')).toEqual([]);
    expect(manifestAnnotations("[]")).toEqual([]);
  });
});

describe("configDescriptor", () => {
  it("reads an OCI image manifest's config descriptor", () => {
    expect(configDescriptor(imageManifest)).toEqual({ digest: d("f"), mediaType: OCI_CONFIG, size: 1469 });
  });

  it("reads a Docker image manifest's config descriptor", () => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_CONFIG, size: 7023, digest: d("7") },
      layers: [],
    });
    expect(configDescriptor(manifest)).toEqual({ digest: d("7"), mediaType: DOCKER_CONFIG, size: 7023 });
  });

  it("defaults a missing or mistyped media type to an empty string and size to 0", () => {
    expect(configDescriptor(JSON.stringify({ config: { digest: d("7") } }))).toEqual({
      digest: d("7"),
      mediaType: "",
      size: 0,
    });
    expect(configDescriptor(JSON.stringify({ config: { digest: d("7"), mediaType: 1, size: "2" } }))).toEqual({
      digest: d("7"),
      mediaType: "",
      size: 0,
    });
  });

  it("answers null when there is no config with a string digest", () => {
    expect(configDescriptor(buildxIndex)).toBeNull();
    expect(configDescriptor(JSON.stringify({ config: { mediaType: OCI_CONFIG, size: 2 } }))).toBeNull();
    expect(configDescriptor(JSON.stringify({ config: { digest: 7 } }))).toBeNull();
    expect(configDescriptor(JSON.stringify({ config: d("7") }))).toBeNull();
    expect(configDescriptor(JSON.stringify({ config: [{ digest: d("7") }] }))).toBeNull();
  });

  it("answers null for null or malformed text", () => {
    expect(configDescriptor(null)).toBeNull();
    expect(configDescriptor("")).toBeNull();
    expect(configDescriptor('{"config":{"digest":')).toBeNull();
    expect(configDescriptor("42")).toBeNull();
  });
});

describe("platformText with an empty variant", () => {
  it("leaves the empty variant out", () => {
    expect(platformText({ os: "linux", architecture: "arm", variant: "" })).toBe("linux/arm");
  });
});
