/**
 * What each registry operation costs in D1 queries and R2 operations, counted by the bench
 * instrumentation (REGISTRY_BENCH_MODE=1 in this project). Counts, not timings: these are the
 * budgets the pull path is held to.
 */
import { describe, expect, it } from "vitest";
import type { OperationCounts } from "../../src/bench/counters";
import { waitUntilStored } from "../support/audit";
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

/**
 * Waits until the audit trail holds a record of each of `writeRequests` write requests, then
 * drains the counters. Each write request's record is written after its response (waitUntil,
 * src/audit/capture.ts): without the wait, a push's last records would land in the counts of
 * whatever is measured next.
 */
async function drainOnceRecorded(writeRequests: number): Promise<OperationCounts> {
  expect(await waitUntilStored("request_id IS NOT NULL", writeRequests)).toBeGreaterThanOrEqual(writeRequests);
  return drain();
}

/**
 * Pushes an image the way skopeo does (HEAD, POST, PATCH, PUT per blob; then the manifest).
 * `writeRequests`: the requests the audit trail records one each (POST, PATCH, PUT per blob and
 * the manifest PUT; the HEADs are reads, counted in its per-minute aggregates).
 */
async function pushLikeAClient(
  name: string,
  layers: number,
  authorization: string,
): Promise<{ digest: string; layerDigests: string[]; writeRequests: number }> {
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
  return { digest: await digestOf(manifest), layerDigests: digests.slice(1), writeRequests: 3 * blobs.length + 1 };
}

describe("operation costs", () => {
  it("a push of an N-layer image to an existing repository costs at most N + 3 D1 write statements, plus one audit record per write request", async () => {
    const name = "team-a/costly";
    const token = bearerAuthorization(await fetchToken([`repository:${name}:pull,push`], adminAuthorization()));
    const first = await pushLikeAClient(name, 1, token); // creates the repository
    await drainOnceRecorded(first.writeRequests);
    const layers = 10;
    const { writeRequests } = await pushLikeAClient(name, layers, token);
    const counts = await drainOnceRecorded(first.writeRequests + writeRequests);
    // The budget was N + 3 (a link per blob, the manifest, its tag, ...) before the audit trail
    // (src/audit/): every write request (POST, PATCH, PUT per blob, the manifest PUT: 3 (N + 1) + 1)
    // now adds its record, one INSERT INTO audit_events each, written after the response (hence
    // the wait above). The pull path's reads (the HEADs) add none: they are aggregated.
    // test/cost/audit-costs.test.ts holds the audit trail's own share to that.
    // The push's event ("ECR Image Action") is one more statement in the manifest's own batch
    // (no extra round trip); the events queue's consumer then fans it out (not the push's cost,
    // counted apart as it may or may not have run when the counters are drained).
    expect(counts.d1AuditWriteStatements).toBeLessThanOrEqual(writeRequests);
    expect(counts.d1EventWriteStatements, "the push's event").toBe(1);
    const own = counts.d1WriteStatements - counts.d1AuditWriteStatements - counts.d1EventDeliveryWriteStatements;
    expect(own - counts.d1EventWriteStatements, "the push's own statements").toBeLessThanOrEqual(layers + 3);
    expect(own).toBeLessThanOrEqual(layers + 4 + writeRequests);
  });

  it("a manifest GET by digest with a bearer token costs 1 D1 query (to the nearest read replica) and no R2 operation", async () => {
    const name = "team-a/pull";
    const pushToken = bearerAuthorization(await fetchToken([`repository:${name}:pull,push`], adminAuthorization()));
    const { digest, layerDigests, writeRequests } = await pushLikeAClient(name, 1, pushToken);
    const pullToken = bearerAuthorization(await fetchToken([`repository:${name}:pull`], adminAuthorization()));
    await drainOnceRecorded(writeRequests);
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
    const { digest: manifestDigest, layerDigests, writeRequests } = await pushLikeAClient(name, 1, token);
    const digest = layerDigests[0]!;
    await drainOnceRecorded(writeRequests);
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
