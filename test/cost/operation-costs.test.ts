/**
 * What each registry operation costs in D1 queries and R2 operations, counted by the bench
 * instrumentation (REGISTRY_BENCH_MODE=1 in this project). Counts, not timings: these are the
 * budgets the pull path is held to.
 */
import { describe, expect, it } from "vitest";
import type { OperationCounts } from "../../src/bench/counters";
import {
  adminAuthorization,
  bearerAuthorization,
  bytesOf,
  call,
  digestOf,
  fetchToken,
  randomBytes,
} from "../support/registry";

async function drain(): Promise<OperationCounts> {
  const response = await call("GET", "/_bench/counters");
  expect(response.status).toBe(200);
  return await response.json<OperationCounts>();
}

/** Pushes an image the way skopeo does (HEAD, POST, PATCH, PUT per blob; then the manifest). */
async function pushLikeAClient(
  name: string,
  layers: number,
  authorization: string,
): Promise<{ digest: string; layerDigests: string[] }> {
  const blobs = [
    bytesOf(JSON.stringify({ os: "linux", seed: Math.random() })),
    ...Array.from({ length: layers }, () => randomBytes(2048)),
  ];
  const digests: string[] = [];
  for (const blob of blobs) {
    const digest = await digestOf(blob);
    digests.push(digest);
    expect(
      (await call("HEAD", `/v2/${name}/blobs/${digest}`, { headers: { Authorization: authorization } })).status,
    ).toBe(404);
    const started = await call("POST", `/v2/${name}/blobs/uploads/`, { headers: { Authorization: authorization } });
    expect(started.status).toBe(202);
    const location = started.headers.get("Location")!;
    expect((await call("PATCH", location, { body: blob, headers: { Authorization: authorization } })).status).toBe(202);
    expect(
      (await call("PUT", `${location}?digest=${digest}`, { headers: { Authorization: authorization } })).status,
    ).toBe(201);
  }
  const manifest = bytesOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digests[0], size: blobs[0]!.length },
      layers: digests
        .slice(1)
        .map((digest) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size: 2048 })),
    }),
  );
  const put = await call("PUT", `/v2/${name}/manifests/latest`, {
    body: manifest,
    headers: { Authorization: authorization, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
  });
  expect(put.status).toBe(201);
  return { digest: await digestOf(manifest), layerDigests: digests.slice(1) };
}

describe("operation costs", () => {
  it("a push of an N-layer image to an existing repository costs at most N + 3 D1 write statements", async () => {
    const name = "team-a/costly";
    const token = bearerAuthorization(await fetchToken([`repository:${name}:pull,push`], adminAuthorization()));
    await pushLikeAClient(name, 1, token); // creates the repository
    await drain();
    const layers = 10;
    await pushLikeAClient(name, layers, token);
    const counts = await drain();
    expect(counts.d1WriteStatements).toBeLessThanOrEqual(layers + 3);
  });

  it("a manifest GET by digest with a bearer token costs 1 D1 query (to the nearest read replica) and no R2 operation", async () => {
    const name = "team-a/pull";
    const pushToken = bearerAuthorization(await fetchToken([`repository:${name}:pull,push`], adminAuthorization()));
    const { digest, layerDigests } = await pushLikeAClient(name, 1, pushToken);
    const pullToken = bearerAuthorization(await fetchToken([`repository:${name}:pull`], adminAuthorization()));
    await drain();
    const manifest = await call("GET", `/v2/${name}/manifests/${digest}`, { headers: { Authorization: pullToken } });
    expect(manifest.status).toBe(200);
    await manifest.arrayBuffer();
    // Read through a D1 session (the nearest read replica; the primary only for a row it lacks).
    expect(await drain()).toMatchObject({ d1Queries: 1, d1ReplicaQueries: 1, r2ClassA: 0, r2ClassB: 0 });

    // By tag: one query too, at the primary (a tag moves; the pusher must read its own move).
    const tagged = await call("GET", `/v2/${name}/manifests/latest`, { headers: { Authorization: pullToken } });
    expect(tagged.status).toBe(200);
    await tagged.arrayBuffer();
    expect(await drain()).toMatchObject({ d1Queries: 1, d1ReplicaQueries: 0, r2ClassA: 0, r2ClassB: 0 });

    const blob = await call("GET", `/v2/${name}/blobs/${layerDigests[0]}`, { headers: { Authorization: pullToken } });
    expect(blob.status).toBe(200);
    await blob.arrayBuffer();
    expect(await drain()).toMatchObject({ d1Queries: 1, d1ReplicaQueries: 1, r2ClassA: 0, r2ClassB: 1 });

    const head = await call("HEAD", `/v2/${name}/blobs/${layerDigests[0]}`, { headers: { Authorization: pullToken } });
    expect(head.status).toBe(200);
    expect(await drain()).toMatchObject({ d1Queries: 1, r2ClassA: 0, r2ClassB: 0 });
  });
});

describe("edge cache", () => {
  it("serves a repeated blob GET from the edge cache, never before the repository check", async () => {
    const name = "team-a/cached";
    const token = bearerAuthorization(
      await fetchToken([`repository:${name}:pull,push,delete`, "repository:team-b/other:pull"], adminAuthorization()),
    );
    const { digest: manifestDigest, layerDigests } = await pushLikeAClient(name, 1, token);
    const digest = layerDigests[0]!;
    await drain();
    const first = await call("GET", `/v2/${name}/blobs/${digest}`, { headers: { Authorization: token } });
    const bytes = new Uint8Array(await first.arrayBuffer());
    expect(first.headers.get("Cache-Control")).toBe("private, max-age=31536000, immutable");
    expect(await drain()).toMatchObject({ d1Queries: 1, r2ClassB: 1 });
    const second = await call("GET", `/v2/${name}/blobs/${digest}`, { headers: { Authorization: token } });
    expect(new Uint8Array(await second.arrayBuffer())).toEqual(bytes);
    expect(second.headers.get("Content-Length")).toBe(String(bytes.length));
    expect(await drain()).toMatchObject({ d1Queries: 1, r2ClassB: 0 });
    // Another repository without the blob is refused although the bytes are cached.
    const other = await call("GET", `/v2/team-b/other/blobs/${digest}`, { headers: { Authorization: token } });
    expect(other.status).toBe(404);
    // So is this repository once the blob is unlinked (after its manifest: a referenced blob stays).
    expect(
      (await call("DELETE", `/v2/${name}/manifests/${manifestDigest}`, { headers: { Authorization: token } })).status,
    ).toBe(202);
    expect((await call("DELETE", `/v2/${name}/blobs/${digest}`, { headers: { Authorization: token } })).status).toBe(
      202,
    );
    expect((await call("GET", `/v2/${name}/blobs/${digest}`, { headers: { Authorization: token } })).status).toBe(404);
  });
});
