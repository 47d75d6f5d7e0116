/**
 * Registry-wide ECR actions through @aws-sdk/client-ecr: GetAuthorizationToken (usable as
 * `/v2` credentials), DescribeRegistry, and the registry policy.
 */
import {
  DeleteRegistryPolicyCommand,
  DescribeRegistryCommand,
  GetAuthorizationTokenCommand,
  GetRegistryPolicyCommand,
  PutRegistryPolicyCommand,
} from "@aws-sdk/client-ecr";
import { describe, expect, inject, it } from "vitest";
import { registryFetch } from "./support/context";
import { ACCOUNT_ID, createUser, ecrClient, expectEcrError, uniqueName } from "./support/ecr";

const ecr = ecrClient();

describe("GetAuthorizationToken", () => {
  it("returns a 12-hour AWS:<password> token that works as /v2 Basic credentials", async () => {
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    const data = authorizationData?.[0];
    expect(data?.proxyEndpoint).toBe(inject("registryUrl"));
    const hours = (data!.expiresAt!.getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const decoded = Buffer.from(data!.authorizationToken!, "base64").toString("utf8");
    expect(decoded.startsWith("AWS:")).toBe(true);
    const withToken = await registryFetch("GET", "/v2/_catalog", {
      headers: { Authorization: `Basic ${data!.authorizationToken}` },
    });
    expect(withToken.status).toBe(200);
    const tampered = await registryFetch("GET", "/v2/_catalog", {
      headers: { Authorization: `Basic ${Buffer.from(`${decoded}x`).toString("base64")}` },
    });
    expect(tampered.status).toBe(401);
  });

  it("is refused to a user whose policy does not allow ecr:GetAuthorizationToken", async () => {
    const credentials = await createUser(uniqueName("nologin"), {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "ecr:DescribeRepositories", Resource: "*" }],
    });
    await expectEcrError(ecrClient(credentials).send(new GetAuthorizationTokenCommand({})), "AccessDeniedException");
  });

  it("rejects registryIds that are not 12 digits", async () => {
    await expectEcrError(
      ecr.send(new GetAuthorizationTokenCommand({ registryIds: ["abc"] })),
      "InvalidParameterException",
    );
  });
});

describe("DescribeRegistry and the registry policy", () => {
  it("describes the registry", async () => {
    const described = await ecr.send(new DescribeRegistryCommand({}));
    expect(described.registryId).toBe(ACCOUNT_ID);
    expect(described.replicationConfiguration).toEqual({ rules: [] });
  });

  it("puts, gets and deletes the registry policy", async () => {
    await ecr.send(new DeleteRegistryPolicyCommand({})).catch(() => undefined);
    await expectEcrError(ecr.send(new GetRegistryPolicyCommand({})), "RegistryPolicyNotFoundException");
    const policyText = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "replicate",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` },
          Action: ["ecr:CreateRepository", "ecr:ReplicateImage"],
          Resource: "*",
        },
      ],
    });
    expect((await ecr.send(new PutRegistryPolicyCommand({ policyText }))).policyText).toBe(policyText);
    expect((await ecr.send(new GetRegistryPolicyCommand({}))).policyText).toBe(policyText);
    await expectEcrError(
      ecr.send(new PutRegistryPolicyCommand({ policyText: '{"Statement": 5}' })),
      "InvalidParameterException",
    );
    expect((await ecr.send(new GetRegistryPolicyCommand({}))).policyText).toBe(policyText);
    expect((await ecr.send(new DeleteRegistryPolicyCommand({}))).policyText).toBe(policyText);
    await expectEcrError(ecr.send(new DeleteRegistryPolicyCommand({})), "RegistryPolicyNotFoundException");
  });
});
