/**
 * DescribeImageReplicationStatus through the ECR API: the image is found by tag or digest, its
 * recorded replication work is reported per destination (the newest per destination, with the
 * failure code of a FAILED one), and bad or unknown ids get ECR's exceptions.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ecrCall } from "../support/ecr";
import { ACCOUNT_ID, allowPolicy, createUser, pushImage } from "../support/registry";

const NAME = "replication-status/app";

/** Records replication work as the repository's Durable Object will, straight into D1. */
async function recordWork(
  digest: string,
  rows: { registryId: string; region: string; status: string; failureCode?: string }[],
): Promise<void> {
  for (const row of rows) {
    await env.DB.prepare(
      `INSERT INTO replication_items (repository, digest, tag, registry_id, region, status, failure_code, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, 'v1', ?, ?, ?, ?, 0, 0, 0)`,
    )
      .bind(NAME, digest, row.registryId, row.region, row.status, row.failureCode ?? null)
      .run();
  }
}

describe("DescribeImageReplicationStatus", () => {
  it("reports no statuses for an image pushed without replication, by tag and by digest", async () => {
    const { digest } = await pushImage(NAME, "plain");
    const byTag = await ecrCall("DescribeImageReplicationStatus", {
      repositoryName: NAME,
      imageId: { imageTag: "plain" },
    });
    expect(byTag).toMatchObject({
      status: 200,
      body: { repositoryName: NAME, imageId: { imageDigest: digest, imageTag: "plain" }, replicationStatuses: [] },
    });
    const byDigest = await ecrCall("DescribeImageReplicationStatus", {
      repositoryName: NAME,
      imageId: { imageDigest: digest },
    });
    expect(byDigest.body).toEqual({ repositoryName: NAME, imageId: { imageDigest: digest }, replicationStatuses: [] });
  });

  it("reports each destination's newest status, with the failure code of a failed one", async () => {
    const { digest } = await pushImage(NAME, "v1");
    await recordWork(digest, [
      { registryId: "210987654321", region: "us-west-2", status: "FAILED", failureCode: "DESTINATION_UNAVAILABLE" },
      { registryId: ACCOUNT_ID, region: "eu-west-1", status: "COMPLETE" },
      { registryId: "333333333333", region: "us-east-1", status: "FAILED", failureCode: "REGISTRY_POLICY_DENIED" },
      // A later push of the same image to the first destination.
      { registryId: "210987654321", region: "us-west-2", status: "IN_PROGRESS" },
    ]);
    const described = await ecrCall("DescribeImageReplicationStatus", {
      repositoryName: NAME,
      imageId: { imageTag: "v1" },
    });
    expect(described.status).toBe(200);
    expect(described.body.replicationStatuses).toEqual([
      { region: "us-west-2", registryId: "210987654321", status: "IN_PROGRESS" },
      { region: "eu-west-1", registryId: ACCOUNT_ID, status: "COMPLETE" },
      { region: "us-east-1", registryId: "333333333333", status: "FAILED", failureCode: "REGISTRY_POLICY_DENIED" },
    ]);
  });

  it("answers ECR's exceptions for unknown images and repositories and for bad ids", async () => {
    await pushImage(NAME, "present");
    const call = (input: Record<string, unknown>) => ecrCall("DescribeImageReplicationStatus", input);
    const unknownDigest = `sha256:${"0".repeat(64)}`;
    expect((await call({ repositoryName: NAME, imageId: { imageTag: "absent" } })).type).toBe("ImageNotFoundException");
    expect((await call({ repositoryName: NAME, imageId: { imageDigest: unknownDigest } })).type).toBe(
      "ImageNotFoundException",
    );
    expect((await call({ repositoryName: "replication-status/none", imageId: { imageTag: "x" } })).type).toBe(
      "RepositoryNotFoundException",
    );
    for (const input of [
      { repositoryName: NAME },
      { repositoryName: NAME, imageId: {} },
      { repositoryName: NAME, imageId: { imageDigest: "sha256:short" } },
      { repositoryName: NAME, imageId: "present" },
    ]) {
      const refused = await call(input);
      expect(refused.status, JSON.stringify(input)).toBe(400);
      expect(refused.type, JSON.stringify(input)).toBe("InvalidParameterException");
    }
  });

  it("needs ecr:DescribeImageReplicationStatus on the repository", async () => {
    await pushImage(NAME, "guarded");
    const user = await createUser("replication-status-reader", allowPolicy(["ecr:DescribeImages"]));
    const refused = await ecrCall(
      "DescribeImageReplicationStatus",
      { repositoryName: NAME, imageId: { imageTag: "guarded" } },
      { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
    );
    expect(refused.type).toBe("AccessDeniedException");
  });
});
