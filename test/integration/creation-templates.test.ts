/**
 * Repository creation templates through the ECR API (create, describe, update, delete, with
 * ECR's exceptions for bad input), and applied when a push, a replication from another account
 * or a pull-through cache creates a repository: the longest prefix applied for that reason
 * gives the repository its tag mutability, resource tags, policies and encryption.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ecrCall } from "../support/ecr";
import { ACCOUNT_ID, adminCall, basicAuthorization, call, digestOf, pushImage, randomBytes } from "../support/registry";

const LIFECYCLE = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      selection: { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 5 },
      action: { type: "expire" },
    },
  ],
});
const POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: "ecr:BatchGetImage" }],
});

async function createTemplate(input: Record<string, unknown>): Promise<void> {
  const created = await ecrCall("CreateRepositoryCreationTemplate", input);
  expect(created.status, JSON.stringify(created.body)).toBe(200);
}

async function describeRepository(name: string): Promise<Record<string, unknown>> {
  const described = await ecrCall("DescribeRepositories", { repositoryNames: [name] });
  expect(described.status, JSON.stringify(described.body)).toBe(200);
  return (described.body.repositories as Record<string, unknown>[])[0]!;
}

async function tagsOf(name: string): Promise<unknown> {
  const listed = await ecrCall("ListTagsForResource", {
    resourceArn: `arn:aws:ecr:us-east-1:${ACCOUNT_ID}:repository/${name}`,
  });
  return listed.body.tags;
}

afterEach(async () => {
  const listed = await ecrCall("DescribeRepositoryCreationTemplates", {});
  for (const template of (listed.body.repositoryCreationTemplates ?? []) as { prefix: string }[])
    await ecrCall("DeleteRepositoryCreationTemplate", { prefix: template.prefix });
  await ecrCall("DeleteRegistryPolicy", {});
});

describe("repository creation templates (ECR API)", () => {
  it("creates, describes, updates and deletes a template, with ECR's answers", async () => {
    const created = await ecrCall("CreateRepositoryCreationTemplate", {
      prefix: "team-a",
      description: "team A's repositories",
      appliedFor: ["CREATE_ON_PUSH", "REPLICATION"],
      imageTagMutability: "IMMUTABLE",
      resourceTags: [{ Key: "team", Value: "a" }],
      repositoryPolicy: POLICY,
      lifecyclePolicy: LIFECYCLE,
      encryptionConfiguration: { encryptionType: "KMS", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/abc" },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body).toMatchObject({
      registryId: ACCOUNT_ID,
      repositoryCreationTemplate: {
        prefix: "team-a",
        description: "team A's repositories",
        appliedFor: ["CREATE_ON_PUSH", "REPLICATION"],
        imageTagMutability: "IMMUTABLE",
        resourceTags: [{ Key: "team", Value: "a" }],
        repositoryPolicy: POLICY,
        lifecyclePolicy: LIFECYCLE,
        encryptionConfiguration: { encryptionType: "KMS", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/abc" },
      },
    });
    await createTemplate({ prefix: "ROOT", appliedFor: ["PULL_THROUGH_CACHE"] });
    const again = await ecrCall("CreateRepositoryCreationTemplate", { prefix: "team-a", appliedFor: ["REPLICATION"] });
    expect(again.type).toBe("TemplateAlreadyExistsException");

    const all = await ecrCall("DescribeRepositoryCreationTemplates", {});
    expect((all.body.repositoryCreationTemplates as { prefix: string }[]).map((t) => t.prefix)).toEqual([
      "ROOT",
      "team-a",
    ]);
    const one = await ecrCall("DescribeRepositoryCreationTemplates", { prefixes: ["team-a"] });
    expect(one.body.repositoryCreationTemplates).toHaveLength(1);
    const paged = await ecrCall("DescribeRepositoryCreationTemplates", { maxResults: 1 });
    expect(paged.body.repositoryCreationTemplates).toHaveLength(1);
    const next = await ecrCall("DescribeRepositoryCreationTemplates", {
      maxResults: 1,
      nextToken: paged.body.nextToken,
    });
    expect((next.body.repositoryCreationTemplates as { prefix: string }[])[0]?.prefix).toBe("team-a");

    const updated = await ecrCall("UpdateRepositoryCreationTemplate", {
      prefix: "team-a",
      imageTagMutability: "MUTABLE",
    });
    expect(updated.body.repositoryCreationTemplate).toMatchObject({
      imageTagMutability: "MUTABLE",
      appliedFor: ["CREATE_ON_PUSH", "REPLICATION"],
      resourceTags: [{ Key: "team", Value: "a" }],
    });
    expect((await ecrCall("DeleteRepositoryCreationTemplate", { prefix: "team-a" })).status).toBe(200);
    expect((await ecrCall("DeleteRepositoryCreationTemplate", { prefix: "team-a" })).type).toBe(
      "TemplateNotFoundException",
    );
    expect(
      (await ecrCall("UpdateRepositoryCreationTemplate", { prefix: "team-a", appliedFor: ["REPLICATION"] })).type,
    ).toBe("TemplateNotFoundException");
  });

  it("refuses bad input with ECR's exceptions and stores nothing", async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ prefix: "Team/Upper", appliedFor: ["REPLICATION"] }, "ValidationException"],
      [{ prefix: "team-b" }, "ValidationException"],
      [{ prefix: "team-b", appliedFor: ["SOMETIMES"] }, "InvalidParameterException"],
      [{ prefix: "team-b", appliedFor: ["REPLICATION"], repositoryPolicy: "{not json" }, "InvalidParameterException"],
      [{ prefix: "team-b", appliedFor: ["REPLICATION"], lifecyclePolicy: '{"rules":[]}' }, "InvalidParameterException"],
      [{ prefix: "team-b", appliedFor: ["REPLICATION"], imageTagMutability: "SOMETIMES" }, "InvalidParameterException"],
      [
        { prefix: "team-b", appliedFor: ["REPLICATION"], resourceTags: [{ Key: "aws:x", Value: "y" }] },
        "InvalidTagParameterException",
      ],
    ];
    for (const [input, type] of bad) {
      const result = await ecrCall("CreateRepositoryCreationTemplate", input);
      expect(result.type, JSON.stringify(input)).toBe(type);
      expect(result.status).toBe(400);
    }
    expect((await ecrCall("DescribeRepositoryCreationTemplates", {})).body.repositoryCreationTemplates).toEqual([]);
  });
});

describe("repositories created from templates", () => {
  it("gives a repository created by a push the longest CREATE_ON_PUSH template's settings", async () => {
    await createTemplate({
      prefix: "ROOT",
      appliedFor: ["CREATE_ON_PUSH"],
      resourceTags: [{ Key: "scope", Value: "root" }],
    });
    await createTemplate({
      prefix: "tmpl/prod",
      appliedFor: ["CREATE_ON_PUSH"],
      imageTagMutability: "IMMUTABLE",
      resourceTags: [{ Key: "scope", Value: "prod" }],
      lifecyclePolicy: LIFECYCLE,
      repositoryPolicy: POLICY,
      encryptionConfiguration: { encryptionType: "KMS_DSSE", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/k" },
    });
    await createTemplate({
      prefix: "tmpl/prod/replicated",
      appliedFor: ["REPLICATION"],
      imageTagMutability: "MUTABLE",
    });
    await pushImage("tmpl/prod/replicated/web", "v1");
    const prod = await describeRepository("tmpl/prod/replicated/web");
    expect(prod).toMatchObject({
      imageTagMutability: "IMMUTABLE",
      encryptionConfiguration: { encryptionType: "KMS_DSSE", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/k" },
    });
    expect(await tagsOf("tmpl/prod/replicated/web")).toEqual([{ Key: "scope", Value: "prod" }]);
    expect(
      (await ecrCall("GetLifecyclePolicy", { repositoryName: "tmpl/prod/replicated/web" })).body.lifecyclePolicyText,
    ).toBe(LIFECYCLE);
    expect((await ecrCall("GetRepositoryPolicy", { repositoryName: "tmpl/prod/replicated/web" })).body.policyText).toBe(
      POLICY,
    );
    // The immutable tag holds from the first push on.
    const other = await pushImage("tmpl/prod/replicated/web", "v2");
    const moved = await call("PUT", "/v2/tmpl/prod/replicated/web/manifests/v1", {
      body: other.bytes,
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(moved.status).toBe(400);

    await pushImage("tmpl/dev/web", "v1");
    expect(await describeRepository("tmpl/dev/web")).toMatchObject({ imageTagMutability: "MUTABLE" });
    expect(await tagsOf("tmpl/dev/web")).toEqual([{ Key: "scope", Value: "root" }]);
  });

  it("gives a repository created by replication from another account the REPLICATION template's settings", async () => {
    await createTemplate({
      prefix: "tmpl-repl",
      appliedFor: ["REPLICATION"],
      imageTagMutability: "IMMUTABLE",
      resourceTags: [{ Key: "source", Value: "replication" }],
    });
    const peer = await adminCall("PUT", "/admin/peer-accounts/210987654321");
    const key = await peer.json<{ accessKeyId: string; secretAccessKey: string }>();
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "210987654321" },
          Action: ["ecr:ReplicateImage", "ecr:CreateRepository"],
          Resource: "*",
        },
      ],
    };
    expect((await ecrCall("PutRegistryPolicy", { policyText: JSON.stringify(policy) })).status).toBe(200);
    const authorization = basicAuthorization(key.accessKeyId, key.secretAccessKey);
    const layer = randomBytes(40);
    const digest = await digestOf(layer);
    const uploaded = await call("POST", `/v2/tmpl-repl/app/blobs/uploads/?digest=${digest}`, {
      body: layer,
      headers: { Authorization: authorization },
    });
    expect(uploaded.status, await uploaded.text()).toBe(201);
    expect(await describeRepository("tmpl-repl/app")).toMatchObject({ imageTagMutability: "IMMUTABLE" });
    expect(await tagsOf("tmpl-repl/app")).toEqual([{ Key: "source", Value: "replication" }]);
    // A push by this registry's own user is a create-on-push: the REPLICATION template does not apply.
    await call("POST", `/v2/tmpl-repl/own/blobs/uploads/?digest=${digest}`, { body: layer });
    expect(await describeRepository("tmpl-repl/own")).toMatchObject({ imageTagMutability: "MUTABLE" });
    await adminCall("DELETE", "/admin/peer-accounts/210987654321");
  });
});
