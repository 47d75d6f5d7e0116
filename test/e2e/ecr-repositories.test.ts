/**
 * ECR repository actions through @aws-sdk/client-ecr against the running registry.
 */
import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DeleteRepositoryPolicyCommand,
  DescribeRepositoriesCommand,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-ecr";
import { describe, expect, inject, it } from "vitest";
import { ACCOUNT_ID, REGION, createUser, ecrClient, expectEcrError, uniqueName } from "./support/ecr";

const ecr = ecrClient();
const arnOf = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/${name}`;

describe("CreateRepository / DescribeRepositories / DeleteRepository", () => {
  it("creates a repository with its settings and reports them in ECR's shapes", async () => {
    const name = `team-a/${uniqueName("web")}`;
    const before = Date.now() / 1000;
    const { repository } = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: name,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: "KMS", kmsKey: "arn:aws:kms:us-east-1:000000000000:key/abc" },
        tags: [{ Key: "team", Value: "a" }],
      }),
    );
    expect(repository).toMatchObject({
      repositoryArn: arnOf(name),
      registryId: ACCOUNT_ID,
      repositoryName: name,
      repositoryUri: `${inject("registryHost")}/${name}`,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: "KMS", kmsKey: "arn:aws:kms:us-east-1:000000000000:key/abc" },
    });
    expect(repository?.createdAt).toBeInstanceOf(Date);
    expect(repository!.createdAt!.getTime() / 1000).toBeGreaterThanOrEqual(Math.floor(before) - 1);
    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    expect(described.repositories?.[0]).toMatchObject({ repositoryName: name, imageTagMutability: "IMMUTABLE" });
    const tags = await ecr.send(new ListTagsForResourceCommand({ resourceArn: arnOf(name) }));
    expect(tags.tags).toEqual([{ Key: "team", Value: "a" }]);
  });

  it("refuses a second CreateRepository of the same name", async () => {
    const name = uniqueName("dup");
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    await expectEcrError(
      ecr.send(new CreateRepositoryCommand({ repositoryName: name })),
      "RepositoryAlreadyExistsException",
    );
  });

  it("creates nothing when a tag is invalid (tags are applied atomically)", async () => {
    const name = uniqueName("badtags");
    await expectEcrError(
      ecr.send(new CreateRepositoryCommand({ repositoryName: name, tags: [{ Key: "aws:reserved", Value: "x" }] })),
      "InvalidTagParameterException",
    );
    await expectEcrError(
      ecr.send(
        new CreateRepositoryCommand({
          repositoryName: name,
          tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: "v" })),
        }),
      ),
      "TooManyTagsException",
    );
    await expectEcrError(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] })),
      "RepositoryNotFoundException",
    );
  });

  it("answers InvalidParameterException to a bad name and an unknown mutability", async () => {
    await expectEcrError(
      ecr.send(new CreateRepositoryCommand({ repositoryName: "Upper/Case" })),
      "InvalidParameterException",
    );
    await expectEcrError(
      ecr.send(
        new CreateRepositoryCommand({ repositoryName: uniqueName("m"), imageTagMutability: "SOMETIMES" as "MUTABLE" }),
      ),
      "InvalidParameterException",
    );
  });

  it("pages through DescribeRepositories with nextToken", async () => {
    const prefix = uniqueName("page");
    const names = Array.from({ length: 7 }, (_, i) => `${prefix}/r${i}`);
    for (const name of names) await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 3, nextToken }));
      expect(page.repositories!.length).toBeLessThanOrEqual(3);
      seen.push(...page.repositories!.map((r) => r.repositoryName!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(seen.filter((n) => n.startsWith(prefix))).toEqual(names);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("deletes an empty repository, and a missing one is RepositoryNotFoundException", async () => {
    const name = uniqueName("del");
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    const { repository } = await ecr.send(new DeleteRepositoryCommand({ repositoryName: name }));
    expect(repository?.repositoryName).toBe(name);
    await expectEcrError(
      ecr.send(new DeleteRepositoryCommand({ repositoryName: name })),
      "RepositoryNotFoundException",
    );
    await expectEcrError(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] })),
      "RepositoryNotFoundException",
    );
  });
});

describe("repository settings", () => {
  it("changes tag mutability and scanning configuration", async () => {
    const name = uniqueName("settings");
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    const mutability = await ecr.send(
      new PutImageTagMutabilityCommand({ repositoryName: name, imageTagMutability: "IMMUTABLE" }),
    );
    expect(mutability).toMatchObject({ registryId: ACCOUNT_ID, repositoryName: name, imageTagMutability: "IMMUTABLE" });
    const scanning = await ecr.send(
      new PutImageScanningConfigurationCommand({
        repositoryName: name,
        imageScanningConfiguration: { scanOnPush: true },
      }),
    );
    expect(scanning.imageScanningConfiguration).toEqual({ scanOnPush: true });
    const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    expect(described.repositories?.[0]).toMatchObject({
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
    });
    await expectEcrError(
      ecr.send(new PutImageTagMutabilityCommand({ repositoryName: uniqueName("none"), imageTagMutability: "MUTABLE" })),
      "RepositoryNotFoundException",
    );
  });

  it("sets, gets and deletes a repository policy, guarding against lock-out unless forced", async () => {
    const name = uniqueName("policy");
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    await expectEcrError(
      ecr.send(new GetRepositoryPolicyCommand({ repositoryName: name })),
      "RepositoryPolicyNotFoundException",
    );
    const allowPull = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Sid: "pull", Effect: "Allow", Principal: "*", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] },
      ],
    });
    const set = await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: name, policyText: allowPull }));
    expect(set.policyText).toBe(allowPull);
    expect((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: name }))).policyText).toBe(allowPull);
    await expectEcrError(
      ecr.send(new SetRepositoryPolicyCommand({ repositoryName: name, policyText: "{not json" })),
      "InvalidParameterException",
    );

    const lockOut = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Principal: "*", Action: "ecr:SetRepositoryPolicy" }],
    });
    await expectEcrError(
      ecr.send(new SetRepositoryPolicyCommand({ repositoryName: name, policyText: lockOut })),
      "InvalidParameterException",
    );
    expect((await ecr.send(new GetRepositoryPolicyCommand({ repositoryName: name }))).policyText).toBe(allowPull);
    await ecr.send(new SetRepositoryPolicyCommand({ repositoryName: name, policyText: lockOut, force: true }));
    // Locked out now, as the guard warned: even the admin's next SetRepositoryPolicy is denied.
    await expectEcrError(
      ecr.send(new SetRepositoryPolicyCommand({ repositoryName: name, policyText: allowPull })),
      "AccessDeniedException",
    );
    const deleted = await ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: name }));
    expect(deleted.policyText).toBe(lockOut);
    await expectEcrError(
      ecr.send(new DeleteRepositoryPolicyCommand({ repositoryName: name })),
      "RepositoryPolicyNotFoundException",
    );
  });

  it("tags and untags a repository", async () => {
    const name = uniqueName("tags");
    await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    await ecr.send(
      new TagResourceCommand({
        resourceArn: arnOf(name),
        tags: [
          { Key: "env", Value: "prod" },
          { Key: "team", Value: "b" },
        ],
      }),
    );
    await ecr.send(new UntagResourceCommand({ resourceArn: arnOf(name), tagKeys: ["team"] }));
    expect((await ecr.send(new ListTagsForResourceCommand({ resourceArn: arnOf(name) }))).tags).toEqual([
      { Key: "env", Value: "prod" },
    ]);
    await expectEcrError(
      ecr.send(new ListTagsForResourceCommand({ resourceArn: "arn:aws:s3:::bucket" })),
      "InvalidParameterException",
    );
    await expectEcrError(
      ecr.send(new ListTagsForResourceCommand({ resourceArn: arnOf(uniqueName("gone")) })),
      "RepositoryNotFoundException",
    );
    await expectEcrError(
      ecr.send(
        new TagResourceCommand({
          resourceArn: arnOf(name),
          tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: "v" })),
        }),
      ),
      "TooManyTagsException",
    );
  });
});

describe("authorization with ECR action names", () => {
  it("lets a user do only what its identity policy allows", async () => {
    const allowed = uniqueName("mine");
    const user = uniqueName("user");
    const credentials = await createUser(user, {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["ecr:CreateRepository", "ecr:DescribeRepositories"],
          Resource: arnOf(`${allowed}*`),
        },
      ],
    });
    const client = ecrClient(credentials);
    await client.send(new CreateRepositoryCommand({ repositoryName: allowed }));
    expect(
      (await client.send(new DescribeRepositoriesCommand({ repositoryNames: [allowed] }))).repositories,
    ).toHaveLength(1);
    await expectEcrError(
      client.send(new CreateRepositoryCommand({ repositoryName: uniqueName("other") })),
      "AccessDeniedException",
    );
    await expectEcrError(
      client.send(new DeleteRepositoryCommand({ repositoryName: allowed })),
      "AccessDeniedException",
    );
    // Listing shows only what the user may describe.
    const listed = await client.send(new DescribeRepositoriesCommand({ maxResults: 1000 }));
    expect(listed.repositories!.map((r) => r.repositoryName)).toEqual([allowed]);
  });
});
