/**
 * A pull-through cache in front of an upstream that, like Docker Hub, answers blob GETs with
 * `307 Temporary Redirect` to a CDN on another origin (support/docker-hub-upstream.ts,
 * `modes.blobRedirect`): skopeo copies through the cache, each blob is fetched from the CDN
 * once and then served from the cache, the upstream's credentials never reach the CDN, and a
 * tampered blob behind the redirect is refused and never cached.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registryFetch, useTempDir } from "./support/context";
import type { DockerHubUpstream } from "./support/docker-hub-upstream";
import { buildSingleArchLayout, sha256 } from "./support/image-builder";
import {
  blobGets,
  expectImageInLayout,
  manifestRequests,
  seedLayout,
  upstreamStatus,
  useHubCache,
} from "./support/pull-through";
import { dockerRef, ociRef, runSkopeo, skopeo } from "./support/skopeo";

const KiB = 1024;

/** CDN GETs of `digest` (the redirect targets), whatever they were answered. */
function cdnGets(hub: DockerHubUpstream, digest: string) {
  return hub.requests.filter((r) => r.kind === "cdn" && r.method === "GET" && r.path.startsWith(`/blobs/${digest}?`));
}

describe("pull-through cache: blobs redirected to a CDN", () => {
  const cache = useHubCache("redirects");
  const tmp = useTempDir("ptc-redirects-");

  it("follows the upstream's 307 to the CDN without credentials, fetches each blob once, then serves it from the cache", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/redirected",
      tag: "1.0",
      layers: [{ size: 300 * KiB }, { size: 100 * KiB, files: 3 }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/redirected:1.0");
    cache.hub.modes.blobRedirect = true;

    const first = join(tmp.path, "first");
    await skopeo([
      "copy",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/redirected`, "1.0"),
      ociRef(first, "1.0"),
    ]);
    await expectImageInLayout(first, source.image);
    expect(manifestRequests(cache.hub, "GET")).toBe(1);
    for (const digest of source.blobDigests) {
      const front = cache.hub.requests.filter(
        (r) => r.kind === "blob" && r.method === "GET" && r.path.includes(digest),
      );
      expect(
        front.map((r) => [r.status, r.authorized]),
        `front GETs of ${digest}`,
      ).toEqual([[307, true]]);
      expect(
        cdnGets(cache.hub, digest).map((r) => r.status),
        `CDN GETs of ${digest}`,
      ).toEqual([200]);
    }
    const cdnRequests = cache.hub.requests.filter((r) => r.kind === "cdn");
    expect(cdnRequests).toHaveLength(source.blobDigests.length);
    expect(
      cdnRequests.filter((r) => r.authorized),
      "CDN requests that carried an Authorization header",
    ).toEqual([]);

    cache.hub.reset();
    cache.hub.modes.blobRedirect = true;
    const second = join(tmp.path, "second");
    await skopeo([
      "copy",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/redirected`, "1.0"),
      ociRef(second, "1.0"),
    ]);
    await expectImageInLayout(second, source.image);
    expect(cache.hub.count({ kind: "blob" }), "front blob requests on the second copy").toBe(0);
    expect(cache.hub.count({ kind: "cdn" }), "CDN requests on the second copy").toBe(0);
  });

  it("refuses a tampered blob served behind the redirect, caches nothing, and fetches it from the CDN again once it is fixed", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/redirect-tampered",
      tag: "1",
      layers: [{ size: 256 * KiB }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/redirect-tampered:1");
    const layer = source.layerDigests[0]!;
    cache.hub.modes.blobRedirect = true;
    cache.hub.modes.tamperedBlobs.add(layer);

    const failed = await runSkopeo([
      "copy",
      "--src-tls-verify=false",
      dockerRef(`${cache.prefix}/redirect-tampered`, "1"),
      ociRef(join(tmp.path, "out"), "1"),
    ]);
    expect(failed.code, failed.stderr).not.toBe(0);
    // The tampered bytes came from the CDN (the front only redirected), and without credentials.
    const tamperedFetches = cdnGets(cache.hub, layer);
    expect(tamperedFetches.length).toBeGreaterThanOrEqual(1);
    expect(tamperedFetches.every((r) => r.status === 200 && !r.authorized)).toBe(true);
    expect(blobGets(cache.hub, layer)).toBe(tamperedFetches.length);
    const status = await upstreamStatus(cache.prefix, (s) => s.upstream?.lastError?.includes(layer) ?? false);
    expect(status.upstream?.lastError).toContain(layer);

    // Nothing was cached: the clean bytes are fetched from the CDN again (once), then served from the cache.
    cache.hub.modes.tamperedBlobs.clear();
    const before = cdnGets(cache.hub, layer).length;
    const fixed = await registryFetch("GET", `/v2/${cache.prefix}/redirect-tampered/blobs/${layer}`);
    expect(fixed.status).toBe(200);
    expect(sha256(Buffer.from(await fixed.arrayBuffer()))).toBe(layer);
    expect(cdnGets(cache.hub, layer).length).toBe(before + 1);
    const again = await registryFetch("GET", `/v2/${cache.prefix}/redirect-tampered/blobs/${layer}`);
    expect(sha256(Buffer.from(await again.arrayBuffer()))).toBe(layer);
    expect(cdnGets(cache.hub, layer).length).toBe(before + 1);
    expect(cache.hub.requests.filter((r) => r.kind === "cdn" && r.authorized)).toEqual([]);
  });
});
