/**
 * Pull-through imports through ECR's API and under IAM policies: BatchGetImage pulls through
 * a cache repository (creating it) and reports ECR's upstream failure codes; a first pull needs
 * ecr:BatchImportUpstreamImage and, while the repository does not exist, ecr:CreateRepository.
 */
import { BatchGetImageCommand, DescribeRepositoriesCommand } from "@aws-sdk/client-ecr";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registryFetch, useTempDir } from "./support/context";
import { ACCOUNT_ID, createUser, ecrClient, REGION, uniqueName, type Credentials } from "./support/ecr";
import { buildSingleArchLayout } from "./support/image-builder";
import { manifestRequests, seedLayout, useHubCache } from "./support/pull-through";

const ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.accessKeyId}:${credentials.secretAccessKey}`).toString("base64")}`;
}

function policy(actions: string[]): object {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: actions, Resource: `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/*` }],
  };
}

describe("pull-through imports: ECR API and permissions", () => {
  const cache = useHubCache("perm");
  const tmp = useTempDir("ptc-perm-");

  it("BatchGetImage pulls through, creating the repository, and reports upstream failures with ECR's codes", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/ecr-api",
      tag: "2.0",
      layers: [{ size: 8 * 1024 }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/ecrapi:2.0");
    const repositoryName = `${cache.prefix}/ecrapi`;
    const got = await ecrClient().send(new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: "2.0" }] }));
    expect(got.failures).toEqual([]);
    expect(got.images?.[0]?.imageId).toEqual({ imageDigest: source.manifestDigest, imageTag: "2.0" });
    expect(got.images?.[0]?.imageManifest).toBe(source.image.manifest.bytes.toString("utf8"));
    const described = await ecrClient().send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }));
    expect(described.repositories?.[0]?.repositoryName).toBe(repositoryName);
    // Now cached: no upstream request, by tag or by digest.
    cache.hub.reset();
    const again = await ecrClient().send(
      new BatchGetImageCommand({
        repositoryName,
        imageIds: [{ imageDigest: source.manifestDigest }, { imageTag: "2.0" }],
      }),
    );
    expect(again.images).toHaveLength(2);
    expect(manifestRequests(cache.hub, "GET")).toBe(0);

    const missing = await ecrClient().send(
      new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: "no-such-tag" }] }),
    );
    expect(missing.failures?.[0]?.failureCode).toBe("ImageNotFound");
    cache.hub.modes.rateLimited = true;
    const limited = await ecrClient().send(
      new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: "other" }] }),
    );
    expect(limited.failures?.[0]?.failureCode).toBe("UpstreamTooManyRequests");
    cache.hub.modes.rateLimited = false;
    await cache.hub.pause();
    try {
      const down = await ecrClient().send(
        new BatchGetImageCommand({ repositoryName, imageIds: [{ imageTag: "other" }] }),
      );
      expect(down.failures?.[0]?.failureCode).toBe("UpstreamUnavailable");
    } finally {
      await cache.hub.resume();
    }
  });

  it("needs ecr:BatchImportUpstreamImage for a first pull, and ecr:CreateRepository while the repository does not exist", async () => {
    const source = await buildSingleArchLayout({
      seed: "ptc/perm",
      tag: "1",
      layers: [{ size: 8 * 1024 }],
      dir: join(tmp.path, "source"),
    });
    await seedLayout(cache.hub, source, "library/permitted:1");
    await seedLayout(cache.hub, source, "library/permitted:2");
    const path = (tag: string) => `/v2/${cache.prefix}/permitted/manifests/${tag}`;

    const pullOnly = await createUser(
      uniqueName("pull-only"),
      policy(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]),
    );
    const denied = await registryFetch("GET", path("1"), {
      headers: { Accept: ACCEPT, Authorization: basic(pullOnly) },
    });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { errors: { message: string }[] }).errors[0]?.message).toContain(
      "ecr:BatchImportUpstreamImage",
    );

    const importer = await createUser(
      uniqueName("importer"),
      policy(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"]),
    );
    const noCreate = await registryFetch("GET", path("1"), {
      headers: { Accept: ACCEPT, Authorization: basic(importer) },
    });
    expect(noCreate.status).toBe(403);
    expect(((await noCreate.json()) as { errors: { message: string }[] }).errors[0]?.message).toContain(
      "ecr:CreateRepository",
    );
    expect(cache.hub.count({ kind: "manifest" })).toBe(0);

    // Once the repository exists (an admin's pull made it), importing a new tag is enough.
    expect((await registryFetch("GET", path("1"), { headers: { Accept: ACCEPT } })).status).toBe(200);
    const imported = await registryFetch("GET", path("2"), {
      headers: { Accept: ACCEPT, Authorization: basic(importer) },
    });
    expect(imported.status).toBe(200);
    // And what is cached, anyone who may pull reads, without importing.
    const cached = await registryFetch("GET", path("2"), {
      headers: { Accept: ACCEPT, Authorization: basic(pullOnly) },
    });
    expect(cached.status).toBe(200);
  });
});
