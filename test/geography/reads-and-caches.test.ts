/**
 * D1 reads near the user and the bounded-staleness caches (READ_CACHE_SECONDS=2 here):
 * manifest and link reads by digest go to the read replica and fall back to the primary for a
 * row the replica lacks; tag reads go to the primary, or to the location's cache, which a push
 * updates at once; a delete made elsewhere stops being served within the TTL; the counts of a
 * 5-layer pull by tag and by digest from a location with a replica.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { repositoryObject } from "../../src/repository/stub";
import { adminAuthorization, digestOf, pushImage, randomBytes } from "../support/registry";
import { bindingsOf, callFrom, drainReplication, replicateEverywhere, syncReadReplica, tripsOf } from "./support";

const TTL_MS = 2000;
const MANIFEST_ACCEPT = { Accept: "application/vnd.oci.image.manifest.v1+json" };

/** Pulls the image like a client: the manifest (by tag or digest), then every blob; the trips of each request. */
async function pull(
  location: string,
  name: string,
  reference: string,
  off: ("caches" | "d1-replicas" | "r2-replicas")[] = [],
) {
  const manifestResponse = await callFrom(location, "GET", `/v2/${name}/manifests/${reference}`, {
    off,
    headers: MANIFEST_ACCEPT,
  });
  expect(manifestResponse.status).toBe(200);
  const manifest = await manifestResponse.json<{ config: { digest: string }; layers: { digest: string }[] }>();
  const trips = [tripsOf(manifestResponse)];
  for (const digest of [manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)]) {
    const blob = await callFrom(location, "GET", `/v2/${name}/blobs/${digest}`, { off });
    expect(blob.status).toBe(200);
    expect(await digestOf(new Uint8Array(await blob.arrayBuffer()))).toBe(digest);
    trips.push(tripsOf(blob));
  }
  return { home: trips.reduce((sum, trip) => sum + trip.home, 0), steps: trips.flatMap((trip) => trip.steps) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("reads near the user", () => {
  beforeEach(async () => {
    await replicateEverywhere();
  });

  it("a 5-layer pull from Singapore: 0 trips home by digest once replicated, 1 by tag, 0 by tag from the cache", async () => {
    const name = "geo/five";
    const image = await pushImage(name, "v1", { layers: Array.from({ length: 5 }, () => randomBytes(3000)) });
    await drainReplication();
    await syncReadReplica();

    const byDigest = await pull("singapore", name, image.digest, ["caches"]);
    expect(byDigest.home).toBe(0);
    expect(
      byDigest.steps.every((step) => /^(d1-replica@apac|r2:BLOBS_AP_SOUTHEAST_1@ap-southeast-1)=/.test(step)),
    ).toBe(true);

    const byTag = await pull("singapore", name, "v1", ["caches"]);
    expect(byTag.home).toBe(1);
    expect(byTag.steps[0]).toMatch(/^d1-primary@us-east-1=/);

    // Without any of the features, every step is a trip home.
    const homeOnly = await pull("singapore", name, "v1", ["caches", "d1-replicas", "r2-replicas"]);
    expect(homeOnly.home).toBe(homeOnly.steps.length);
    expect(homeOnly.home).toBe(1 + 6 * 2); // the manifest's query; each blob's link and read

    // With the caches: the first pull fills them, the next makes no trip at all.
    await pull("singapore", name, "v1");
    await sleep(50); // the fills run after each response
    const cached = await pull("singapore", name, "v1");
    expect(cached.home).toBe(0);
    expect(cached.steps).toEqual([]);
  });

  it("falls back to the primary for a manifest the read replica does not have yet", async () => {
    const name = "geo/lagging";
    const image = await pushImage(name, "v1");
    const response = await callFrom("frankfurt", "GET", `/v2/${name}/manifests/${image.digest}`, {
      off: ["caches"],
      headers: MANIFEST_ACCEPT,
    });
    expect(response.status).toBe(200);
    expect(await digestOf(new Uint8Array(await response.arrayBuffer()))).toBe(image.digest);
    expect(bindingsOf(response)).toEqual(["d1-replica", "d1-primary"]);
    await syncReadReplica();
    const caughtUp = await callFrom("frankfurt", "GET", `/v2/${name}/manifests/${image.digest}`, {
      off: ["caches"],
      headers: MANIFEST_ACCEPT,
    });
    expect(bindingsOf(caughtUp)).toEqual(["d1-replica"]);
  });

  it("a pusher reads its new tag back at once, with the tag cached", async () => {
    const name = "geo/pusher";
    const first = await pushImage(name, "latest");
    const before = await callFrom("singapore", "GET", `/v2/${name}/manifests/latest`, { headers: MANIFEST_ACCEPT });
    expect(before.headers.get("Docker-Content-Digest")).toBe(first.digest);
    await sleep(50); // the read's cache fill runs after its response
    const cachedRead = await callFrom("singapore", "GET", `/v2/${name}/manifests/latest`, { headers: MANIFEST_ACCEPT });
    expect(bindingsOf(cachedRead)).toEqual([]);
    const second = await pushImage(name, "latest");
    for (const location of ["singapore", "virginia"]) {
      const after = await callFrom(location, "GET", `/v2/${name}/manifests/latest`, { headers: MANIFEST_ACCEPT });
      expect(after.headers.get("Docker-Content-Digest"), location).toBe(second.digest);
    }
  });

  it("a delete made through this location is seen at once; one made elsewhere within the TTL", async () => {
    const name = "geo/deleted";
    const gone = await pushImage(name, "gone");
    const elsewhere = await pushImage(name, "elsewhere");
    await syncReadReplica();
    for (const digest of [gone.digest, elsewhere.digest]) {
      const fill = await callFrom("singapore", "GET", `/v2/${name}/manifests/${digest}`, { headers: MANIFEST_ACCEPT });
      expect(fill.status).toBe(200);
    }
    const tagFill = await callFrom("singapore", "GET", `/v2/${name}/manifests/gone`, { headers: MANIFEST_ACCEPT });
    expect(tagFill.status).toBe(200);
    await sleep(50);
    // Through the registry here: the cache entries (the digest's, and its tag's) are dropped with the delete.
    const deleted = await callFrom("virginia", "DELETE", `/v2/${name}/manifests/${gone.digest}`, {
      authorization: adminAuthorization(),
    });
    expect(deleted.status).toBe(202);
    await syncReadReplica();
    const afterDelete = await callFrom("singapore", "GET", `/v2/${name}/manifests/${gone.digest}`, {
      headers: MANIFEST_ACCEPT,
    });
    expect(afterDelete.status).toBe(404);
    const tagAfterDelete = await callFrom("singapore", "GET", `/v2/${name}/manifests/gone`, {
      headers: MANIFEST_ACCEPT,
    });
    expect(tagAfterDelete.status).toBe(404);

    // Elsewhere (the repository's object, as another location's Worker or a lifecycle run would):
    // served from the cache until its entry expires, never longer.
    const deletedAt = Date.now();
    expect(await repositoryObject(env, name).deleteManifest(name, elsewhere.digest)).toEqual(["elsewhere"]);
    await syncReadReplica();
    const stale = await callFrom("singapore", "GET", `/v2/${name}/manifests/${elsewhere.digest}`, {
      headers: MANIFEST_ACCEPT,
    });
    if (Date.now() - deletedAt < TTL_MS - 200) expect(stale.status).toBe(200);
    await sleep(TTL_MS + 100 - (Date.now() - deletedAt));
    const expired = await callFrom("singapore", "GET", `/v2/${name}/manifests/${elsewhere.digest}`, {
      headers: MANIFEST_ACCEPT,
    });
    expect(expired.status).toBe(404);
  });
});
