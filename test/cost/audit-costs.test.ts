/**
 * What the audit trail (src/audit/) costs in D1 write statements, counted by the bench
 * instrumentation (d1AuditWriteStatements: the statements appending to audit_events): at most
 * one per write request, none per pull (pulls are counted in this isolate and written at most
 * once per PULL_RECORD_INTERVAL_SECONDS, 60 s in this project, or before an admin query), and
 * one per refused login. Records are written after the response (waitUntil): each measure
 * waits until the records it expects are stored (read from D1 directly, which is not counted)
 * before it drains the counters. Counts, not timings.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { OperationCounts } from "../../src/bench/counters";
import { awaitLookupRecords, queryTrail, trail, waitUntilStored } from "../support/audit";
import { ecrCall } from "../support/ecr";
import {
  adminAuthorization,
  allowPolicy,
  basicAuthorization,
  bearerAuthorization,
  bytesOf,
  call,
  createUser,
  digestOf,
  fetchToken,
  OCI_MANIFEST,
  randomBytes,
  requestToken,
} from "../support/registry";

// The admin queries' own records are written after their responses: not cut off by the reset.
afterEach(awaitLookupRecords);

async function drain(): Promise<OperationCounts> {
  const response = await call("GET", "/_bench/counters");
  expect(response.status).toBe(200);
  return await response.json<OperationCounts>();
}

/** Records of single calls (aggregated rows have no request id). */
const RECORDED = "request_id IS NOT NULL";

/** Waits until `count` single-call records are stored, then drains the counters. */
async function drainOnceRecorded(count: number): Promise<OperationCounts> {
  expect(await waitUntilStored(RECORDED, count), "records stored").toBeGreaterThanOrEqual(count);
  return drain();
}

/** Uploads a blob in three requests (POST, PATCH, PUT): three write requests. */
async function uploadBlob(name: string, blob: Uint8Array, authorization: string): Promise<string> {
  const digest = await digestOf(blob);
  const started = await call("POST", `/v2/${name}/blobs/uploads/`, { headers: { Authorization: authorization } });
  expect(started.status).toBe(202);
  const location = started.headers.get("Location")!;
  const patched = await call("PATCH", location, { body: blob, headers: { Authorization: authorization } });
  expect(patched.status).toBe(202);
  const put = await call("PUT", `${location}?digest=${digest}`, { headers: { Authorization: authorization } });
  expect(put.status).toBe(201);
  return digest;
}

function manifestOf(config: { digest: string; size: number }, layers: { digest: string; size: number }[]): Uint8Array {
  return bytesOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: layers.map((layer) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer })),
    }),
  );
}

async function putManifest(name: string, reference: string, bytes: Uint8Array, authorization: string): Promise<void> {
  const response = await call("PUT", `/v2/${name}/manifests/${reference}`, {
    body: bytes,
    headers: { Authorization: authorization, "Content-Type": OCI_MANIFEST },
  });
  expect(response.status, await response.clone().text()).toBe(201);
}

/** Pushes an image of `layers` layers and a config (3 write requests per blob, 1 for the manifest). */
async function pushImage(
  name: string,
  reference: string,
  layers: number,
  authorization: string,
): Promise<{ digest: string; layerDigests: string[]; writeRequests: number }> {
  const config = bytesOf(JSON.stringify({ os: "linux", seed: Math.random() }));
  const configDigest = await uploadBlob(name, config, authorization);
  const layerDigests: string[] = [];
  for (let i = 0; i < layers; i++) layerDigests.push(await uploadBlob(name, randomBytes(2048), authorization));
  const manifest = manifestOf(
    { digest: configDigest, size: config.length },
    layerDigests.map((digest) => ({ digest, size: 2048 })),
  );
  await putManifest(name, reference, manifest, authorization);
  return { digest: await digestOf(manifest), layerDigests, writeRequests: 3 * (layers + 1) + 1 };
}

describe("the audit trail's cost on the push path", () => {
  it("a manifest PUT and a blob upload add one audit write statement per write request", async () => {
    const name = "audit-cost/push";
    const token = bearerAuthorization(await fetchToken([`repository:${name}:pull,push`], adminAuthorization()));
    const first = await pushImage(name, "v1", 1, token); // creates the repository
    let recorded = first.writeRequests;
    await drainOnceRecorded(recorded);

    // A blob upload: POST, PATCH, PUT.
    const layer = randomBytes(4096);
    const layerDigest = await uploadBlob(name, layer, token);
    recorded += 3;
    const upload = await drainOnceRecorded(recorded);
    expect(upload.d1AuditWriteStatements).toBeLessThanOrEqual(3);
    expect(upload.d1AuditWriteStatements).toBe(3); // each write request is recorded

    // A manifest PUT over it.
    const manifest = manifestOf({ digest: first.layerDigests[0]!, size: 2048 }, [{ digest: layerDigest, size: 4096 }]);
    await putManifest(name, "v2", manifest, token);
    recorded += 1;
    const put = await drainOnceRecorded(recorded);
    expect(put.d1AuditWriteStatements).toBe(1);
  });

  it("a push of an N-layer image: at most one audit statement per write request, none for its reads", async () => {
    const name = "audit-cost/layers";
    const token = bearerAuthorization(await fetchToken([`repository:${name}:pull,push`], adminAuthorization()));
    const first = await pushImage(name, "v1", 1, token);
    await drainOnceRecorded(first.writeRequests);
    const layers = 10;
    const pushed = await pushImage(name, "v2", layers, token);
    // Blob existence checks as clients make them: reads, aggregated, no statement.
    for (const digest of pushed.layerDigests) {
      const head = await call("HEAD", `/v2/${name}/blobs/${digest}`, { headers: { Authorization: token } });
      expect(head.status).toBe(200);
    }
    const counts = await drainOnceRecorded(first.writeRequests + pushed.writeRequests);
    expect(pushed.writeRequests).toBe(3 * (layers + 1) + 1);
    expect(counts.d1AuditWriteStatements).toBeLessThanOrEqual(pushed.writeRequests);
    // The other statements are the push's own (test/cost/operation-costs.test.ts holds them to N + 3).
    expect(counts.d1WriteStatements).toBeGreaterThan(counts.d1AuditWriteStatements);
  });
});

describe("the audit trail's cost on the pull path", () => {
  it("20 manifest GETs and 20 blob GETs by digest cost no D1 write; the admin query writes them in one statement", async () => {
    const name = "audit-cost/pull";
    const pushToken = bearerAuthorization(await fetchToken([`repository:${name}:pull,push`], adminAuthorization()));
    const { digest, layerDigests, writeRequests } = await pushImage(name, "latest", 1, pushToken);
    const pullToken = bearerAuthorization(await fetchToken([`repository:${name}:pull`], adminAuthorization()));
    await drainOnceRecorded(writeRequests);

    for (let i = 0; i < 20; i++) {
      const manifest = await call("GET", `/v2/${name}/manifests/${digest}`, { headers: { Authorization: pullToken } });
      expect(manifest.status).toBe(200);
      await manifest.arrayBuffer();
      const blob = await call("GET", `/v2/${name}/blobs/${layerDigests[0]}`, { headers: { Authorization: pullToken } });
      expect(blob.status).toBe(200);
      await blob.arrayBuffer();
    }
    // A recorded call after them, whose record is awaited: a write the GETs had scheduled
    // after their responses would have been counted by then. Its own cost: one audit write.
    const marker = await ecrCall("DescribeRegistry", {});
    expect(marker.status).toBe(200);
    const pulls = await drainOnceRecorded(writeRequests + 1);
    expect(pulls).toMatchObject({ d1WriteStatements: 1, d1AuditWriteStatements: 1 });

    // The admin query writes the buffered groups (one row per group, one statement for all),
    // then its own record: two audit statements.
    const response = await queryTrail({ repository: name, maxResults: "1000" });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    const flushed = await drainOnceRecorded(writeRequests + 2);
    expect(flushed).toMatchObject({ d1WriteStatements: 2, d1AuditWriteStatements: 2 });
    const events = await trail({ repository: name });
    const calls = (action: string) =>
      events.filter((event) => event.eventName === action).map((event) => event.additionalEventData?.calls);
    expect(calls("BatchGetImage")).toEqual([20]);
    expect(calls("GetDownloadUrlForLayer")).toEqual([20]);
  });
});

describe("the audit trail's cost of refused logins", () => {
  it("a refused Basic login or SigV4 request costs exactly one D1 write, its record", async () => {
    const user = await createUser("audit-cost-login", allowPolicy(["ecr:BatchGetImage", "ecr:DescribeRegistry"]));
    let recorded = 3; // createUser: the user, its access key, its policy
    await drainOnceRecorded(recorded);

    const refused = await requestToken(
      ["repository:audit-cost/any:pull"],
      basicAuthorization(user.accessKeyId, "wrong"),
    );
    expect(refused.status).toBe(401);
    await refused.body?.cancel();
    recorded += 1;
    expect(await drainOnceRecorded(recorded)).toMatchObject({ d1WriteStatements: 1, d1AuditWriteStatements: 1 });

    const onV2 = await call("GET", "/v2/audit-cost/any/tags/list", {
      headers: { Authorization: basicAuthorization(user.accessKeyId, "wrong-again") },
    });
    expect(onV2.status).toBe(401);
    await onV2.body?.cancel();
    recorded += 1;
    expect(await drainOnceRecorded(recorded)).toMatchObject({ d1WriteStatements: 1, d1AuditWriteStatements: 1 });

    const sigv4 = await ecrCall("DescribeRegistry", {}, { accessKeyId: user.accessKeyId, secretAccessKey: "wrong" });
    expect(sigv4.type).toBe("InvalidSignatureException");
    recorded += 1;
    expect(await drainOnceRecorded(recorded)).toMatchObject({ d1WriteStatements: 1, d1AuditWriteStatements: 1 });

    const admin = await ecrCall(
      "DescribeRegistry",
      {},
      { accessKeyId: env.REGISTRY_ADMIN_ACCESS_KEY_ID, secretAccessKey: "wrong" },
    );
    expect(admin.type).toBe("InvalidSignatureException");
    recorded += 1;
    expect(await drainOnceRecorded(recorded)).toMatchObject({ d1WriteStatements: 1, d1AuditWriteStatements: 1 });
  });
});
