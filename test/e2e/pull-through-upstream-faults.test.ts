/**
 * A pull-through cache facing an upstream that misbehaves, as Docker Hub sometimes does:
 * tampered bytes, rate limits (429), outages, unknown images; 20 concurrent first pulls; and
 * tags revalidated with a HEAD once the interval has passed, served from the cache when the
 * upstream cannot answer. What the upstream said is visible at GET /admin/pull-through.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PutImageTagMutabilityCommand } from "@aws-sdk/client-ecr";
import { registryFetch, useTempDir } from "./support/context";
import { ecrClient } from "./support/ecr";
import { buildSingleArchLayout, readBlob, sha256 } from "./support/image-builder";
import { blobGets, manifestRequests, seedLayout, upstreamStatus, useHubCache } from "./support/pull-through";
import { PULL_THROUGH_TAG_REVALIDATE_SECONDS } from "./support/registry-process";
import { dockerRef, ociRef, runSkopeo, skopeo } from "./support/skopeo";

const KiB = 1024;
const MiB = 1024 * KiB;
const ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("pull-through cache: upstream faults", () => {
  const cache = useHubCache("faults");
  const tmp = useTempDir("ptc-faults-");

  it("rejects a tampered upstream blob, never caches it, and fetches it cleanly once the upstream is fixed", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/tampered",
      tag: "1",
      layers: [{ size: 256 * KiB }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/tampered:1");
    const layer = source.layerDigests[0]!;
    cache.hub.modes.tamperedBlobs.add(layer);

    const failed = await runSkopeo([
      "copy",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/tampered`, "1"),
      ociRef(join(tmp.path, "out"), "1"),
    ]);
    expect(failed.code, failed.stderr).not.toBe(0);

    // Straight over HTTP: the transfer breaks off before the last bytes.
    const direct = await registryFetch("GET", `/v2/${cache.prefix}/tampered/blobs/${layer}`);
    expect(direct.status).toBe(200);
    await expect(direct.arrayBuffer()).rejects.toThrow();
    const status = await upstreamStatus(cache.prefix, (s) => s.upstream?.lastError?.includes(layer) ?? false);
    expect(status.upstream?.lastError).toContain(layer);

    // Not cached: once the upstream serves the right bytes, they are fetched (once) and served.
    cache.hub.modes.tamperedBlobs.clear();
    const before = blobGets(cache.hub, layer);
    const fixed = await registryFetch("GET", `/v2/${cache.prefix}/tampered/blobs/${layer}`);
    expect(fixed.status).toBe(200);
    expect(sha256(Buffer.from(await fixed.arrayBuffer()))).toBe(layer);
    expect(blobGets(cache.hub, layer)).toBe(before + 1);
    const again = await registryFetch("GET", `/v2/${cache.prefix}/tampered/blobs/${layer}`);
    expect(sha256(Buffer.from(await again.arrayBuffer()))).toBe(layer);
    expect(blobGets(cache.hub, layer)).toBe(before + 1);
  });

  it("makes exactly one upstream fetch per blob for 20 concurrent first pulls of the same image", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/concurrent",
      tag: "1",
      layers: [{ size: 2 * MiB }, { size: 1 * MiB }, { size: 512 * KiB }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/concurrent:1");
    cache.hub.modes.blobDelayMs = 300;
    const repository = `${cache.prefix}/concurrent`;
    const pull = async () => {
      const manifest = await registryFetch("GET", `/v2/${repository}/manifests/1`, { headers: { Accept: ACCEPT } });
      expect(manifest.status).toBe(200);
      expect(manifest.headers.get("Docker-Content-Digest")).toBe(source.manifestDigest);
      await manifest.arrayBuffer();
      return Promise.all(
        source.blobDigests.map(async (digest) => {
          const blob = await registryFetch("GET", `/v2/${repository}/blobs/${digest}`);
          expect(blob.status).toBe(200);
          return sha256(Buffer.from(await blob.arrayBuffer()));
        }),
      );
    };
    const results = await Promise.all(Array.from({ length: 20 }, pull));
    for (const digests of results) expect(digests).toEqual(source.blobDigests);
    expect(manifestRequests(cache.hub, "GET")).toBe(1);
    for (const digest of source.blobDigests) expect(blobGets(cache.hub, digest), `upstream GETs of ${digest}`).toBe(1);

    // And 5 concurrent skopeo copies of the now cached image make no upstream request at all.
    cache.hub.reset();
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        skopeo([
          "copy",
          "--src-tls-verify=false",
          dockerRef(repository, "1"),
          ociRef(join(tmp.path, `copy-${i}`), "1"),
        ]),
      ),
    );
    expect(cache.hub.count({ kind: "blob" }) + manifestRequests(cache.hub, "GET")).toBe(0);
    const layer = await readBlob(join(tmp.path, "copy-4"), source.layerDigests[0]!);
    expect(sha256(layer)).toBe(source.layerDigests[0]);
  });

  it("answers the upstream's 429 when nothing is cached, and records the rate-limit headers", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/limited",
      tag: "1",
      layers: [{ size: 8 * KiB }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/limited:1");
    // A successful pull first, so the rate-limit headers have been seen.
    const ok = await registryFetch("GET", `/v2/${cache.prefix}/limited/manifests/1`, { headers: { Accept: ACCEPT } });
    expect(ok.status).toBe(200);
    const seen = await upstreamStatus(
      cache.prefix,
      (s) => s.upstream?.rateLimit.limit !== null && s.upstream?.rateLimit.limit !== undefined,
    );
    expect(seen.upstream?.rateLimit.limit).toBe("100;w=21600");
    expect(seen.upstream?.rateLimit.remaining).toMatch(/^\d+;w=21600$/);
    expect(seen.upstream?.rateLimit.source).toBe("127.0.0.1");

    cache.hub.modes.rateLimited = true;
    const started = Date.now();
    const limited = await registryFetch("GET", `/v2/${cache.prefix}/limited/manifests/${"sha256:" + "0".repeat(64)}`, {
      headers: { Accept: ACCEPT },
    });
    expect(limited.status).toBe(429);
    expect(await errorCode(limited)).toBe("TOOMANYREQUESTS");
    const byTag = await registryFetch("GET", `/v2/${cache.prefix}/other/manifests/latest`, {
      headers: { Accept: ACCEPT },
    });
    expect(byTag.status).toBe(429);
    expect(Date.now() - started).toBeLessThan(10_000);
    const status = await upstreamStatus(cache.prefix, (s) => s.upstream?.rateLimitedAt !== null);
    expect(status.upstream?.rateLimitedAt).not.toBeNull();
    expect(status.upstream?.lastStatus).toBe(429);

    // The cached tag is still served while the upstream rate-limits.
    const cached = await registryFetch("GET", `/v2/${cache.prefix}/limited/manifests/1`, {
      headers: { Accept: ACCEPT },
    });
    expect(cached.status).toBe(200);
    expect(cached.headers.get("Docker-Content-Digest")).toBe(source.manifestDigest);
  });

  it("answers 404 for what the upstream does not have, and 502 when it is down and nothing is cached", async () => {
    const known = await buildSingleArchLayout({
      seed: "ptc/known",
      tag: "1",
      layers: [{ size: 4 * KiB }],
      dir: join(tmp.path, "known"),
    });
    await seedLayout(cache.hub, known, "library/known:1");
    const unknownTag = await registryFetch("GET", `/v2/${cache.prefix}/library/known/manifests/nope`, {
      headers: { Accept: ACCEPT },
    });
    expect(unknownTag.status).toBe(404);
    expect(await errorCode(unknownTag)).toBe("MANIFEST_UNKNOWN");
    const unknown = await registryFetch("GET", `/v2/${cache.prefix}/library/no-such-image/manifests/latest`, {
      headers: { Accept: ACCEPT },
    });
    expect(unknown.status).toBe(404);
    // distribution answers MANIFEST_UNKNOWN for a repository it does not have; the code is passed on.
    expect(await errorCode(unknown)).toBe("MANIFEST_UNKNOWN");
    const unknownBlob = await registryFetch(
      "GET",
      `/v2/${cache.prefix}/library/no-such-image/blobs/sha256:${"1".repeat(64)}`,
    );
    expect(unknownBlob.status).toBe(404);
    expect(await errorCode(unknownBlob)).toBe("BLOB_UNKNOWN");

    cache.hub.modes.failAll = 503;
    const failing = await registryFetch("GET", `/v2/${cache.prefix}/library/down/manifests/latest`, {
      headers: { Accept: ACCEPT },
    });
    expect(failing.status).toBe(502);
    expect(await errorCode(failing)).toBe("UNAVAILABLE");
    cache.hub.modes.failAll = null;

    await cache.hub.pause();
    try {
      const started = Date.now();
      const down = await registryFetch("GET", `/v2/${cache.prefix}/library/down/manifests/latest`, {
        headers: { Accept: ACCEPT },
      });
      expect(down.status).toBe(502);
      expect(await errorCode(down)).toBe("UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await cache.hub.resume();
    }
  });

  it("revalidates a cached tag with one HEAD once the interval has passed, follows a moved tag, and serves the cache when the upstream is down", async () => {
    const v1 = await buildSingleArchLayout({
      seed: "ptc/moving-1",
      tag: "latest",
      layers: [{ size: 16 * KiB }],
      dir: join(tmp.path, "v1"),
    });
    const v2 = await buildSingleArchLayout({
      seed: "ptc/moving-2",
      tag: "latest",
      layers: [{ size: 16 * KiB }],
      dir: join(tmp.path, "v2"),
    });
    await seedLayout(cache.hub, v1, "library/moving:latest");
    await seedLayout(cache.hub, v1, "library/pinned:latest");
    const digestOf = async (repository: string) => {
      const response = await registryFetch("GET", `/v2/${cache.prefix}/${repository}/manifests/latest`, {
        headers: { Accept: ACCEPT },
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      return response.headers.get("Docker-Content-Digest");
    };
    const digestNow = () => digestOf("moving");
    // A second cache repository made immutable after its first pull keeps its tag.
    expect(await digestOf("pinned")).toBe(v1.manifestDigest);
    await ecrClient().send(
      new PutImageTagMutabilityCommand({ repositoryName: `${cache.prefix}/pinned`, imageTagMutability: "IMMUTABLE" }),
    );
    await seedLayout(cache.hub, v2, "library/pinned:latest");
    cache.hub.reset();
    expect(await digestNow()).toBe(v1.manifestDigest);
    expect(await digestNow()).toBe(v1.manifestDigest);
    expect(manifestRequests(cache.hub, "GET")).toBe(1);
    expect(manifestRequests(cache.hub, "HEAD")).toBe(0);

    // The upstream moves the tag; within the interval the cache keeps serving what it has.
    await seedLayout(cache.hub, v2, "library/moving:latest");
    expect(await digestNow()).toBe(v1.manifestDigest);
    await sleep(PULL_THROUGH_TAG_REVALIDATE_SECONDS * 1000 + 500);
    cache.hub.reset();
    expect(await digestNow()).toBe(v2.manifestDigest);
    expect(manifestRequests(cache.hub, "HEAD")).toBe(1);
    expect(manifestRequests(cache.hub, "GET")).toBe(1);
    // The immutable one: checked (HEAD, GET of the new digest), not moved, and not asked
    // again until the next interval.
    cache.hub.reset();
    expect(await digestOf("pinned")).toBe(v1.manifestDigest);
    expect(await digestOf("pinned")).toBe(v1.manifestDigest);
    expect(manifestRequests(cache.hub, "HEAD")).toBe(1);
    expect(manifestRequests(cache.hub, "GET")).toBe(1);

    // Unchanged after the next interval: one HEAD (free on Docker Hub), no GET.
    await sleep(PULL_THROUGH_TAG_REVALIDATE_SECONDS * 1000 + 500);
    cache.hub.reset();
    expect(await digestNow()).toBe(v2.manifestDigest);
    expect(await digestNow()).toBe(v2.manifestDigest);
    expect(manifestRequests(cache.hub, "HEAD")).toBe(1);
    expect(manifestRequests(cache.hub, "GET")).toBe(0);

    // Due again, with the upstream down or rate-limiting: the cached copy, at once.
    await sleep(PULL_THROUGH_TAG_REVALIDATE_SECONDS * 1000 + 500);
    cache.hub.modes.rateLimitHeads = true;
    cache.hub.modes.rateLimited = true;
    expect(await digestNow()).toBe(v2.manifestDigest);
    cache.hub.modes.rateLimited = false;
    await cache.hub.pause();
    try {
      expect(await digestNow()).toBe(v2.manifestDigest);
    } finally {
      await cache.hub.resume();
    }
  });
});
