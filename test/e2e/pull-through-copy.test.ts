/**
 * skopeo copies images through a pull-through cache rule whose upstream is a Docker Hub
 * stand-in on 127.0.0.1 (support/docker-hub-upstream.ts): single-arch and multi-arch, the
 * second copy served without a single upstream blob request, pulls by digest with the
 * upstream stopped, official images under `library/`, pushes refused, and credentials.
 */
import { DescribeRepositoriesCommand, ValidatePullThroughCacheRuleCommand } from "@aws-sdk/client-ecr";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registryFetch, useTempDir } from "./support/context";
import { ecrClient } from "./support/ecr";
import { buildMultiArchLayout, buildSingleArchLayout, readBlob, sha256 } from "./support/image-builder";
import { blobGets, expectImageInLayout, manifestRequests, seedLayout, useHubCache } from "./support/pull-through";
import { dockerRef, ociRef, runSkopeo, skopeo } from "./support/skopeo";

const KiB = 1024;

describe("pull-through cache: copies with skopeo", () => {
  const cache = useHubCache("hub");
  const tmp = useTempDir("ptc-copy-");

  it("copies a single-arch official image through the cache, then serves it again with no upstream blob request", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/alpine",
      tag: "3.20",
      layers: [{ size: 300 * KiB }, { size: 200 * KiB, files: 3 }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/alpine:3.20");

    // `<prefix>/alpine` is Docker Hub's official image `library/alpine`, as `docker pull alpine`.
    const first = join(tmp.path, "first");
    await skopeo([
      "copy",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/alpine`, "3.20"),
      ociRef(first, "3.20"),
    ]);
    await expectImageInLayout(first, source.image);
    for (const digest of source.blobDigests) expect(blobGets(cache.hub, digest), `upstream GETs of ${digest}`).toBe(1);
    expect(manifestRequests(cache.hub, "GET")).toBe(1);
    // One token for the repository, fetched once and reused for every request.
    expect(cache.hub.count({ kind: "token" })).toBe(1);

    const repositories = await ecrClient().send(
      new DescribeRepositoriesCommand({ repositoryNames: [`${cache.prefix}/alpine`] }),
    );
    expect(repositories.repositories?.[0]?.repositoryName).toBe(`${cache.prefix}/alpine`);

    cache.hub.reset();
    const second = join(tmp.path, "second");
    await skopeo([
      "copy",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/alpine`, "3.20"),
      ociRef(second, "3.20"),
    ]);
    await expectImageInLayout(second, source.image);
    expect(cache.hub.count({ kind: "blob" }), "upstream blob requests on the second copy").toBe(0);
    expect(manifestRequests(cache.hub, "GET"), "upstream manifest GETs on the second copy").toBe(0);

    // By digest, with the upstream unreachable: served from the cache alone.
    await cache.hub.pause();
    try {
      const third = join(tmp.path, "third");
      await skopeo([
        "copy",
        "--src-tls-verify=false",
        dockerRef(`${cache.prefix}/alpine`, source.manifestDigest),
        ociRef(third, "pinned"),
      ]);
      await expectImageInLayout(third, source.image);
    } finally {
      await cache.hub.resume();
    }
    expect(cache.hub.requests).toHaveLength(0);

    // ECR's spelling of the same image is another repository here: its blobs are linked from
    // the stored objects once the upstream confirms them (HEADs), not downloaded again.
    const ecrSpelling = join(tmp.path, "ecr-spelling");
    await skopeo([
      "copy",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/library/alpine`, "3.20"),
      ociRef(ecrSpelling, "3.20"),
    ]);
    await expectImageInLayout(ecrSpelling, source.image);
    expect(cache.hub.count({ kind: "blob", method: "GET" })).toBe(0);
    expect(cache.hub.requests.filter((r) => r.kind === "blob" && r.method === "HEAD" && r.authorized)).toHaveLength(
      source.blobDigests.length,
    );
  });

  it("never serves another repository's blob through the cache on its digest alone", async () => {
    const secret = await buildSingleArchLayout({
      seed: "ptc/secret",
      tag: "1",
      layers: [{ size: 12 * KiB }],
      dir: join(tmp.path, "secret"),
    });
    await skopeo(["copy", "--dest-tls-verify=false", ociRef(secret.path, "1"), dockerRef("team-private/secret", "1")]);
    const layer = secret.layerDigests[0]!;
    const probe = await registryFetch("GET", `/v2/${cache.prefix}/library/alpine/blobs/${layer}`);
    expect(probe.status).toBe(404);
    expect(((await probe.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe("BLOB_UNKNOWN");
    // The upstream was asked (and does not have it); nothing was linked.
    expect(cache.hub.requests.some((r) => r.kind === "blob" && r.path.includes(layer))).toBe(true);
    expect((await registryFetch("GET", `/v2/${cache.prefix}/library/alpine/blobs/${layer}`)).status).toBe(404);
  });

  it("copies a multi-arch index with every platform manifest, and the second copy makes no upstream blob request", async () => {
    const source = await buildMultiArchLayout({
      seed: "ptc/multi",
      tag: "1.0",
      layers: [{ size: 150 * KiB }, { size: 50 * KiB }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "team/multi:1.0");

    const first = join(tmp.path, "first");
    await skopeo([
      "copy",
      "--all",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/team/multi`, "1.0"),
      ociRef(first, "1.0"),
    ]);
    expect(sha256(await readBlob(first, source.indexDigest))).toBe(source.indexDigest);
    for (const image of source.images) await expectImageInLayout(first, image);
    for (const digest of source.blobDigests) expect(blobGets(cache.hub, digest)).toBe(1);
    // The index and each platform manifest once: the platform manifests came with the index.
    expect(manifestRequests(cache.hub, "GET")).toBe(1 + source.images.length);

    // Every platform manifest is in the cache, by digest, without asking upstream again.
    cache.hub.reset();
    for (const digest of source.manifestDigests) {
      const response = await registryFetch("HEAD", `/v2/${cache.prefix}/team/multi/manifests/${digest}`);
      expect(response.status).toBe(200);
    }
    const second = join(tmp.path, "second");
    await skopeo([
      "copy",
      "--all",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/team/multi`, "1.0"),
      ociRef(second, "1.0"),
    ]);
    for (const image of source.images) await expectImageInLayout(second, image);
    expect(cache.hub.count({ kind: "blob" })).toBe(0);
    expect(manifestRequests(cache.hub, "GET")).toBe(0);
  });

  it("refuses pushes into the cache's prefix with a clear error and creates nothing", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/push",
      tag: "1",
      layers: [{ size: 10 * KiB }],
      dir: join(tmp.path, "source"),
    });
    const repository = `${cache.prefix}/library/pushed`;
    const result = await runSkopeo([
      "copy",
      "--dest-tls-verify=false",
      ociRef(source.path, "1"),
      dockerRef(repository, "1"),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/pull-through cache/);

    const upload = await registryFetch("POST", `/v2/${repository}/blobs/uploads/`);
    expect(upload.status).toBe(403);
    const body = (await upload.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe("DENIED");
    expect(body.errors[0]?.message).toContain("pull-through cache");
    const manifest = await registryFetch("PUT", `/v2/${repository}/manifests/1`, {
      body: source.image.manifest.bytes,
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(manifest.status).toBe(403);
    const described = await ecrClient()
      .send(new DescribeRepositoriesCommand({ repositoryNames: [repository] }))
      .catch((error: Error) => error.name);
    expect(described).toBe("RepositoryNotFoundException");
    // skopeo's blob HEADs before the refused upload may be asked upstream (free); nothing is fetched.
    expect(
      cache.hub.count({ method: "GET", kind: "blob" }) + cache.hub.count({ method: "GET", kind: "manifest" }),
    ).toBe(0);
  });

  it("validates the rule against the upstream", async () => {
    const validated = await ecrClient().send(
      new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: cache.prefix }),
    );
    expect(validated.isValid).toBe(true);
    expect(validated.ecrRepositoryPrefix).toBe(cache.prefix);
    expect(validated.upstreamRegistryUrl).toBe(cache.hub.url);
    await cache.hub.pause();
    try {
      const down = await ecrClient().send(
        new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: cache.prefix }),
      );
      expect(down.isValid).toBe(false);
      expect(down.failure).toMatch(/could not be reached/);
    } finally {
      await cache.hub.resume();
    }
  });
});
