/**
 * Blob bytes come from the replica bucket nearest the request when it holds them, else from
 * the home bucket (us-east-1); the link check runs first whatever the bucket.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { call, digestOf, expectError, pushImage, randomBytes } from "../support/registry";
import { bindingsOf, callFrom, drainReplication, replicateEverywhere, syncReadReplica, tripsOf } from "./support";

const CACHES_OFF = { off: ["caches" as const] };

describe("nearest replica bucket", () => {
  beforeEach(async () => {
    await replicateEverywhere();
  });

  it("serves each location from its nearest copy: Singapore, Frankfurt, Virginia", async () => {
    const layer = randomBytes(4096);
    const name = "near/app";
    await pushImage(name, "v1", { layers: [layer] });
    await drainReplication();
    await syncReadReplica();
    const digest = await digestOf(layer);
    const expected = {
      singapore: "r2:BLOBS_AP_SOUTHEAST_1",
      tokyo: "r2:BLOBS_AP_SOUTHEAST_1",
      frankfurt: "r2:BLOBS_EU_WEST_1",
      virginia: "r2:BLOBS",
      "sao-paulo": "r2:BLOBS",
    };
    for (const [location, bucket] of Object.entries(expected)) {
      const response = await callFrom(location, "GET", `/v2/${name}/blobs/${digest}`, CACHES_OFF);
      expect(response.status).toBe(200);
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(layer);
      // The link check (read replica) before the bytes; one bucket read.
      expect(bindingsOf(response), location).toEqual(["d1-replica", bucket]);
    }
  });

  it("falls back to the home bucket for a blob the replica does not hold yet, and serves ranges from the replica", async () => {
    const name = "near/fallback";
    const layer = randomBytes(10_000);
    await pushImage(name, "v1", { layers: [layer] });
    const digest = await digestOf(layer);
    // Not replicated yet: the replica bucket is asked, then home.
    const before = await callFrom("singapore", "GET", `/v2/${name}/blobs/${digest}`, CACHES_OFF);
    expect(before.status).toBe(200);
    expect(new Uint8Array(await before.arrayBuffer())).toEqual(layer);
    // Nor is the read replica up to date: its miss is asked again at the primary.
    expect(bindingsOf(before)).toEqual(["d1-replica", "d1-primary", "r2:BLOBS_AP_SOUTHEAST_1", "r2:BLOBS"]);

    await drainReplication();
    const ranged = await callFrom("singapore", "GET", `/v2/${name}/blobs/${digest}`, {
      ...CACHES_OFF,
      headers: { Range: "bytes=100-199" },
    });
    expect(ranged.status).toBe(206);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(layer.slice(100, 200));
    expect(bindingsOf(ranged).slice(-1)).toEqual(["r2:BLOBS_AP_SOUTHEAST_1"]);
    expect(bindingsOf(ranged)).not.toContain("r2:BLOBS");
  });

  it("never serves a replica's object without the repository's link", async () => {
    const layer = randomBytes(2048);
    await pushImage("near/linked", "v1", { layers: [layer] });
    await drainReplication();
    const digest = await digestOf(layer);
    expect(await env.BLOBS_AP_SOUTHEAST_1!.head(`blobs/${digest.replace(":", "/")}`)).not.toBeNull();
    await pushImage("near/other", "v1");
    const response = await callFrom("singapore", "GET", `/v2/near/other/blobs/${digest}`, CACHES_OFF);
    expect(response.status).toBe(404);
    expect((await response.json<{ errors: { code: string }[] }>()).errors[0]!.code).toBe("BLOB_UNKNOWN");
    expect(bindingsOf(response).filter((binding) => binding.startsWith("r2:"))).toEqual([]);
  });

  it("reports the simulated latency of each step", async () => {
    const layer = randomBytes(1024);
    await pushImage("near/latency", "v1", { layers: [layer] });
    const digest = await digestOf(layer);
    const response = await callFrom("singapore", "HEAD", `/v2/near/latency/blobs/${digest}`, {
      off: ["caches", "d1-replicas"],
    });
    expect(response.status).toBe(200);
    const trips = tripsOf(response);
    // Singapore to Virginia: 15,500 km, so 5 + 155 ms for the one primary query.
    expect(trips.home).toBe(1);
    expect(trips.steps).toHaveLength(1);
    expect(trips.steps[0]).toMatch(/^d1-primary@us-east-1=1[56]\d$/);
    expect(trips.ms).toBeGreaterThan(150);
  });
});

describe("simulated requests that name what does not exist", () => {
  it("refuses an unknown location or feature with 400", async () => {
    for (const headers of [
      { "X-Simulated-Location": "atlantis" } as Record<string, string>,
      { "X-Simulated-Location": "singapore", "X-Simulated-Off": "caches,teleport" },
    ]) {
      const response = await call("GET", "/v2/", { headers });
      await expectError(response, 400, "UNSUPPORTED");
    }
  });
});
