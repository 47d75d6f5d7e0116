/**
 * What ECR's BatchCheckLayerAvailability costs in D1 queries (bench counters, as in
 * operation-costs.test.ts): the media types of the blobs come with their links, in one query.
 */
import { describe, expect, it } from "vitest";
import type { OperationCounts } from "../../src/bench/counters";
import { ecr } from "../support/ecr";
import { call, pushImage, randomBytes } from "../support/registry";

async function drain(): Promise<OperationCounts> {
  const response = await call("GET", "/_bench/counters");
  expect(response.status).toBe(200);
  return await response.json<OperationCounts>();
}

describe("BatchCheckLayerAvailability cost", () => {
  // Measured against the same call with only a malformed digest (which reads no link): whatever
  // authentication and authorization cost, the links and their media types are one query more.
  it("reads the links of 100 digests over 10 images, media types included, in one D1 query", async () => {
    const name = "team-a/layer-costs";
    const digests: string[] = [];
    for (let image = 0; image < 10; image++) {
      const { manifest } = await pushImage(name, `v${image}`, {
        layers: Array.from({ length: 9 }, () => randomBytes(32)),
      });
      const typed = manifest as { config: { digest: string }; layers: { digest: string }[] };
      digests.push(typed.config.digest, ...typed.layers.map((layer) => layer.digest));
    }
    expect(digests).toHaveLength(100);
    await drain();
    await ecr("BatchCheckLayerAvailability", { repositoryName: name, layerDigests: ["sha256:nothex"] });
    const baseline = await drain();
    const { layers } = await ecr("BatchCheckLayerAvailability", { repositoryName: name, layerDigests: digests });
    const counts = await drain();
    expect(counts.d1Queries - baseline.d1Queries).toBe(1);
    expect(counts).toMatchObject({ r2ClassA: baseline.r2ClassA, r2ClassB: baseline.r2ClassB });
    const typed = layers as { mediaType: string }[];
    expect(typed.filter((layer) => layer.mediaType === "application/vnd.oci.image.config.v1+json")).toHaveLength(10);
    expect(typed.filter((layer) => layer.mediaType === "application/vnd.oci.image.layer.v1.tar+gzip")).toHaveLength(90);
  });
});
