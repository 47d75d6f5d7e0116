/**
 * ECR's imageSizeInBytes as DescribeImages and the console compute it: an image manifest's
 * config plus layers (stored at push, computed from its bytes for older rows), an index's
 * largest child, a missing child counting 0. Rows here hold their bytes inline, so R2 is read
 * only by the tests of a manifest kept there (workerd's R2, a key of its own per test).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { imageSizesOf, sizeSources, storedImageSize, type SizedImage } from "./image-sizes";
import { parseDigest } from "../oci/grammar";
import type { ManifestBodyRow } from "../storage/image-records";
import { manifestKey } from "../storage/keys";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

function d(seed: string): string {
  return `sha256:${seed.repeat(64)}`;
}

/** An image manifest's bytes with these config and layer sizes. */
function manifestText(configSize: number, layerSizes: number[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: d("c"), size: configSize },
    layers: layerSizes.map((size, i) => ({ mediaType: OCI_LAYER, digest: d(String(i)), size })),
  });
}

function image(digest: string, imageSize: number | null, mediaType: string = OCI_MANIFEST): SizedImage {
  return { digest, mediaType, imageSize, childDigests: [] };
}

function index(digest: string, childDigests: string[], mediaType: string = OCI_INDEX): SizedImage {
  return { digest, mediaType, imageSize: null, childDigests };
}

function row(digest: string, imageSize: number | null, body: string | null, mediaType = OCI_MANIFEST): ManifestBodyRow {
  return { digest, mediaType, imageSize, body };
}

function byDigest(rows: ManifestBodyRow[]): Map<string, ManifestBodyRow> {
  return new Map(rows.map((source) => [source.digest, source]));
}

/** Stores manifest bytes in R2 where a row without a body says they are. */
async function putManifest(digest: string, text: string): Promise<void> {
  const parsed = parseDigest(digest);
  if (parsed === null) throw new Error(`not a digest: ${digest}`);
  await env.BLOBS.put(manifestKey(parsed), text);
}

describe("sizeSources", () => {
  it("names nothing for image manifests whose rows hold their size", () => {
    expect(sizeSources([image(d("a"), 100), image(d("b"), 0)])).toEqual([]);
  });

  it("names an image manifest whose row predates the stored size", () => {
    expect(sizeSources([image(d("a"), 100), image(d("b"), null)])).toEqual([d("b")]);
  });

  it("names every child of an OCI index or a Docker manifest list", () => {
    expect(sizeSources([index(d("a"), [d("1"), d("2")]), index(d("b"), [d("3")], DOCKER_LIST)])).toEqual([
      d("1"),
      d("2"),
      d("3"),
    ]);
  });

  it("names each manifest once, in the order first needed", () => {
    const rows = [index(d("a"), [d("1"), d("2")]), index(d("b"), [d("2"), d("1")]), image(d("1"), null)];
    expect(sizeSources(rows)).toEqual([d("1"), d("2")]);
  });

  it("names nothing for an index without children or an empty list", () => {
    expect(sizeSources([index(d("a"), [])])).toEqual([]);
    expect(sizeSources([])).toEqual([]);
  });
});

describe("storedImageSize", () => {
  it("answers the size stored at push without reading the bytes", async () => {
    expect(await storedImageSize(env.BLOBS, row(d("a"), 4321, "not a manifest"))).toBe(4321);
  });

  it("sums config and layer sizes of an inline image manifest written before sizes were stored", async () => {
    expect(await storedImageSize(env.BLOBS, row(d("a"), null, manifestText(1469, [3_623_807, 512])))).toBe(
      1469 + 3_623_807 + 512,
    );
    expect(await storedImageSize(env.BLOBS, row(d("a"), null, manifestText(2, []), DOCKER_MANIFEST))).toBe(2);
  });

  it("answers null for an index row without a stored size (an index is sized by its children)", async () => {
    const indexBody = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    expect(await storedImageSize(env.BLOBS, row(d("a"), null, indexBody, OCI_INDEX))).toBeNull();
  });

  it("answers null when an image row's bytes are not an image manifest", async () => {
    expect(await storedImageSize(env.BLOBS, row(d("a"), null, "{"))).toBeNull();
    expect(await storedImageSize(env.BLOBS, row(d("a"), null, JSON.stringify({ config: {} })))).toBeNull();
  });

  it("reads the bytes of a manifest kept in R2", async () => {
    const digest = d("7");
    await putManifest(digest, manifestText(100, [1000, 10_000]));
    expect(await storedImageSize(env.BLOBS, row(digest, null, null))).toBe(11_100);
  });

  it("answers null when R2 no longer holds a manifest the row says is there", async () => {
    expect(await storedImageSize(env.BLOBS, row(d("8"), null, null))).toBeNull();
  });
});

describe("imageSizesOf", () => {
  it("sizes an image manifest by the size its row stores", async () => {
    const sizes = await imageSizesOf(env.BLOBS, [image(d("a"), 5000)], new Map());
    expect(sizes).toEqual(new Map([[d("a"), 5000]]));
  });

  it("computes an older image manifest's size from its source row's bytes", async () => {
    const rows = [image(d("a"), null)];
    const sources = byDigest([row(d("a"), null, manifestText(10, [20, 30]))]);
    expect(await imageSizesOf(env.BLOBS, rows, sources)).toEqual(new Map([[d("a"), 60]]));
  });

  it("sizes an index as its largest child", async () => {
    const rows = [index(d("a"), [d("1"), d("2"), d("3")])];
    const sources = byDigest([
      row(d("1"), 3_000_000, null),
      row(d("2"), null, manifestText(1000, [4_000_000])),
      row(d("3"), 2_000_000, null),
    ]);
    expect(await imageSizesOf(env.BLOBS, rows, sources)).toEqual(new Map([[d("a"), 4_001_000]]));
  });

  it("sizes a Docker manifest list the same way", async () => {
    const rows = [index(d("a"), [d("1"), d("2")], DOCKER_LIST)];
    const sources = byDigest([row(d("1"), 700, null, DOCKER_MANIFEST), row(d("2"), 900, null, DOCKER_MANIFEST)]);
    expect(await imageSizesOf(env.BLOBS, rows, sources)).toEqual(new Map([[d("a"), 900]]));
  });

  it("counts a missing child, or one that cannot be sized, as 0", async () => {
    const rows = [index(d("a"), [d("1"), d("2")]), index(d("b"), [d("9")])];
    const sources = byDigest([row(d("1"), null, "{"), row(d("2"), 250, null)]);
    expect(await imageSizesOf(env.BLOBS, rows, sources)).toEqual(
      new Map([
        [d("a"), 250],
        [d("b"), 0],
      ]),
    );
  });

  it("sizes an index without children as 0", async () => {
    expect(await imageSizesOf(env.BLOBS, [index(d("a"), [])], new Map())).toEqual(new Map([[d("a"), 0]]));
  });

  it("sizes an older image manifest whose source row is missing as 0", async () => {
    expect(await imageSizesOf(env.BLOBS, [image(d("a"), null)], new Map())).toEqual(new Map([[d("a"), 0]]));
  });

  it("sizes every row of a mixed list, with the sources sizeSources named", async () => {
    const rows = [image(d("a"), 1234), image(d("b"), null), index(d("c"), [d("1"), d("2")])];
    expect(sizeSources(rows)).toEqual([d("b"), d("1"), d("2")]);
    const sources = byDigest([
      row(d("b"), null, manifestText(1, [2, 3])),
      row(d("1"), 10, null),
      row(d("2"), 20, null),
    ]);
    expect(await imageSizesOf(env.BLOBS, rows, sources)).toEqual(
      new Map([
        [d("a"), 1234],
        [d("b"), 6],
        [d("c"), 20],
      ]),
    );
  });
});
