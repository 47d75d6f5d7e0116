/**
 * Beyond the plain OCI round trip: Docker schema 2 manifests (skopeo converts on push with
 * --format v2s2), pushing and deleting by digest, and registry-to-registry copies of a
 * multi-arch index with --all.
 */
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { basename, join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { fetchBlob, fetchManifest, registryFetch, useTempDir } from "./support/context";
import { buildMultiArchLayout, buildSingleArchLayout, MediaTypes, sha256 } from "./support/image-builder";
import {
  describeRun,
  dockerRef,
  isMountRequest,
  ociRef,
  requestsOf,
  runSkopeo,
  skopeo,
  summarize,
  uploadRequests,
} from "./support/skopeo";

const KiB = 1024;
const MiB = 1024 * KiB;
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";

interface ManifestJson {
  mediaType: string;
  config: { mediaType: string; digest: string; size: number };
  layers: { mediaType: string; digest: string; size: number }[];
}

describe("other manifest formats and references", () => {
  const tmp = useTempDir("formats-");

  it("stores a Docker schema 2 manifest (skopeo copy --format v2s2) and serves it unchanged", async () => {
    const image = await buildSingleArchLayout({
      seed: "formats/v2s2",
      tag: "v1",
      layers: [{ size: 120 * KiB }, { size: 80 * KiB }],
      dir: join(tmp.path, "image"),
    });
    const repository = "team-a/docker-format";
    const digestFile = join(tmp.path, "digest");
    await skopeo(
      [
        "copy",
        "--format",
        "v2s2",
        "--dest-tls-verify=false",
        "--digestfile",
        digestFile,
        ociRef(image.path, "v1"),
        dockerRef(repository, "v1"),
      ],
      {
        tmpDir: tmp.path,
      },
    );
    const pushedDigest = (await readFile(digestFile, "utf8")).trim();

    const served = await fetchManifest(repository, "v1");
    expect(served.contentType).toBe(DOCKER_MANIFEST);
    expect(served.digest).toBe(pushedDigest);
    expect(sha256(served.bytes)).toBe(pushedDigest);
    const manifest = JSON.parse(served.bytes.toString("utf8")) as ManifestJson;
    expect(manifest.mediaType).toBe(DOCKER_MANIFEST);
    expect(manifest.config.mediaType).toBe(DOCKER_CONFIG);
    // The compressed layers are the same bytes under Docker media types.
    expect(manifest.layers.map((l) => l.digest)).toEqual(image.layerDigests);
    expect(manifest.layers.every((l) => l.mediaType === DOCKER_LAYER)).toBe(true);

    // Pull it into a dir: layout, which keeps the manifest as the registry serves it.
    const out = join(tmp.path, "pulled");
    await skopeo(["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef(repository, "v1"), `dir:${out}`], {
      tmpDir: tmp.path,
    });
    const pulledManifest = await readFile(join(out, "manifest.json"));
    expect(pulledManifest.equals(served.bytes), "dir: manifest differs from the served one").toBe(true);
    for (const layer of image.image.layers) {
      const bytes = await readFile(join(out, layer.blob.digest.slice("sha256:".length)));
      expect(bytes.equals(layer.blob.bytes), `layer ${layer.blob.digest} differs`).toBe(true);
    }
    const config = await readFile(join(out, manifest.config.digest.slice("sha256:".length)));
    expect(config.equals(await fetchBlob(repository, manifest.config.digest))).toBe(true);

    const inspected = JSON.parse(
      (await skopeo(["inspect", "--tls-verify=false", dockerRef(repository, "v1")])).stdoutText,
    ) as { Digest: string };
    expect(inspected.Digest).toBe(pushedDigest);
  });

  it("takes layers skopeo compresses while pushing (uploads of unknown length)", async () => {
    const image = await buildSingleArchLayout({
      seed: "formats/uncompressed",
      tag: "raw",
      // The last one gzips to more than one 8 MiB upload part.
      layers: [
        { size: 300 * KiB, compression: "none" },
        { size: 150 * KiB, files: 2, compression: "none" },
        { size: 10 * MiB, compression: "none" },
      ],
      dir: join(tmp.path, "image"),
    });
    expect(image.image.layers.every((l) => l.descriptor.mediaType === MediaTypes.OCI_LAYER_TAR)).toBe(true);
    const repository = "team-a/compressed-on-push";
    const digestFile = join(tmp.path, "digest");
    // skopeo gzips plain-tar layers for a registry, streaming each without knowing its size.
    await skopeo(
      [
        "copy",
        "--dest-tls-verify=false",
        "--digestfile",
        digestFile,
        ociRef(image.path, "raw"),
        dockerRef(repository, "v1"),
      ],
      {
        tmpDir: tmp.path,
      },
    );
    const pushedDigest = (await readFile(digestFile, "utf8")).trim();
    expect(pushedDigest).not.toBe(image.manifestDigest);

    const served = await fetchManifest(repository, "v1");
    expect(served.digest).toBe(pushedDigest);
    const manifest = JSON.parse(served.bytes.toString("utf8")) as ManifestJson;
    expect(manifest.config.digest).toBe(image.configDigest);
    expect((await fetchBlob(repository, image.configDigest)).equals(image.image.config.bytes)).toBe(true);
    expect(manifest.layers).toHaveLength(image.image.layers.length);
    for (const [index, descriptor] of manifest.layers.entries()) {
      expect(descriptor.mediaType).toBe(MediaTypes.OCI_LAYER_GZIP);
      const blob = await fetchBlob(repository, descriptor.digest);
      expect(sha256(blob)).toBe(descriptor.digest);
      expect(blob.length).toBe(descriptor.size);
      expect(
        gunzipSync(blob).equals(image.image.layers[index]!.tar),
        `layer ${index} does not unpack to the original tar`,
      ).toBe(true);
    }

    // And it pulls back as pushed.
    const out = join(tmp.path, "pulled");
    await skopeo(
      ["copy", "--preserve-digests", "--src-tls-verify=false", dockerRef(repository, "v1"), ociRef(out, "v1")],
      { tmpDir: tmp.path },
    );
    const pulled = await readFile(join(out, "blobs", "sha256", pushedDigest.slice("sha256:".length)));
    expect(pulled.equals(served.bytes)).toBe(true);
  });

  it("pushes by digest (untagged), inspects by digest, and deletes by digest", async () => {
    const image = await buildSingleArchLayout({
      seed: "formats/by-digest",
      tag: "v1",
      layers: [{ size: 64 * KiB }],
      dir: join(tmp.path, "image"),
    });
    const repository = "team-a/by-digest";
    await skopeo(
      [
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(image.path, "v1"),
        dockerRef(repository, image.manifestDigest),
      ],
      {
        tmpDir: tmp.path,
      },
    );
    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", dockerRef(repository, image.manifestDigest)]);
    expect(raw.stdout.equals(image.image.manifest.bytes)).toBe(true);
    const tags = JSON.parse((await skopeo(["list-tags", "--tls-verify=false", dockerRef(repository)])).stdoutText) as {
      Tags: string[];
    };
    expect(tags.Tags).toEqual([]);

    await skopeo(["delete", "--tls-verify=false", dockerRef(repository, image.manifestDigest)]);
    const gone = await runSkopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      dockerRef(repository, image.manifestDigest),
    ]);
    expect(gone.code, describeRun(gone)).not.toBe(0);
    expect(gone.stderr, describeRun(gone)).toMatch(/manifest unknown/i);
    expect((await registryFetch("GET", `/v2/${repository}/manifests/${image.manifestDigest}`)).status).toBe(404);
  });

  it("copies a multi-arch index registry to registry (--all), mounting every layer", async () => {
    const source = await buildMultiArchLayout({
      seed: `formats/r2r/${basename(inject("e2eTempDir"))}`,
      tag: "1.0",
      layers: [{ size: 100 * KiB }, { size: 60 * KiB }],
      dir: join(tmp.path, "image"),
    });
    await skopeo(
      [
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        ociRef(source.path, "1.0"),
        dockerRef("team-a/base", "1.0"),
      ],
      {
        tmpDir: tmp.path,
      },
    );
    const copied = await skopeo(
      [
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        dockerRef("team-a/base", "1.0"),
        dockerRef("team-c/base", "1.0"),
      ],
      { tmpDir: tmp.path, debug: true },
    );
    const requests = requestsOf(copied.stderr);
    const layerDigests = source.images.flatMap((image) => image.layers.map((l) => l.blob.digest));
    const uploads = uploadRequests(requests);
    for (const digest of layerDigests) {
      expect(
        uploads.some(
          (r) =>
            isMountRequest(r) &&
            r.url.searchParams.get("mount") === digest &&
            r.url.searchParams.get("from") === "team-a/base",
        ),
        `layer ${digest} was not mounted:\n${summarize(requests)}`,
      ).toBe(true);
    }
    const finished = uploads.filter((r) => r.method === "PUT").map((r) => r.url.searchParams.get("digest"));
    expect(
      finished.filter((d) => d !== null && layerDigests.includes(d)),
      summarize(requests),
    ).toEqual([]);

    const index = await fetchManifest("team-c/base", "1.0");
    expect(index.digest).toBe(source.indexDigest);
    expect(index.bytes.equals(source.index.bytes)).toBe(true);
    for (const image of source.images) {
      const child = await fetchManifest("team-c/base", image.manifest.digest);
      expect(child.bytes.equals(image.manifest.bytes)).toBe(true);
    }
  });
});
