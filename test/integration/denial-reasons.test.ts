/**
 * A 403 says why: the README's example policy (pushes allowed from the office network only)
 * refusing a push from elsewhere names the statement and the condition key that refused and
 * the request's own address, whether the client sent Basic credentials or a bearer token.
 */
import { describe, expect, it } from "vitest";
import { allowPolicy, call, createUser, expectError, fetchToken, pushBlob, randomBytes } from "../support/registry";

const TEAM_A = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "TeamNamespace",
      Effect: "Allow",
      Action: [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:ListImages",
      ],
      Resource: "arn:aws:ecr:*:*:repository/team-a/*",
      Condition: { IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"] } },
    },
    { Sid: "NoDeletes", Effect: "Deny", Action: "ecr:BatchDeleteImage", Resource: "*" },
  ],
};

const FROM_HOME = { "CF-Connecting-IP": "198.51.100.7" };

describe("403 messages", () => {
  it("name the condition that refused a push with Basic credentials", async () => {
    const alice = await createUser("reasons-basic", TEAM_A);
    const body = await expectError(
      await call("POST", "/v2/team-a/web/blobs/uploads/", {
        headers: { ...FROM_HOME, Authorization: alice.authorization },
      }),
      403,
      "DENIED",
    );
    expect(body.errors[0]?.message).toBe(
      `not allowed to perform ecr:InitiateLayerUpload on repository team-a/web: statement "TeamNamespace" of an identity policy would allow it, but its condition IpAddress on aws:SourceIp does not hold (the request's aws:SourceIp is 198.51.100.7)`,
    );
  });

  it("name the condition for a bearer token too (the token was issued without push)", async () => {
    const alice = await createUser("reasons-token", TEAM_A);
    const token = await fetchToken(["repository:team-a/web:pull,push"], alice.authorization);
    const body = await expectError(
      await call("POST", "/v2/team-a/web/blobs/uploads/", {
        headers: { ...FROM_HOME, Authorization: `Bearer ${token}` },
      }),
      403,
      "DENIED",
    );
    expect(body.errors[0]?.message).toMatch(
      /: statement "TeamNamespace" of an identity policy would allow it, but its condition IpAddress on aws:SourceIp does not hold \(the request's aws:SourceIp is 198\.51\.100\.7\)$/,
    );
  });

  it("name the explicit Deny statement", async () => {
    const digest = await pushBlob("team-a/keep", randomBytes(32));
    const bob = await createUser("reasons-deny", {
      Version: "2012-10-17",
      Statement: [...(allowPolicy(["ecr:*"]).Statement as object[]), TEAM_A.Statement[1]],
    });
    const body = await expectError(
      await call("DELETE", `/v2/team-a/keep/blobs/${digest}`, { headers: { Authorization: bob.authorization } }),
      403,
      "DENIED",
    );
    expect(body.errors[0]?.message).toBe(
      `not allowed to perform ecr:BatchDeleteImage on repository team-a/keep: denied explicitly by statement "NoDeletes" of an identity policy`,
    );
  });

  it("allow the push from the office network", async () => {
    const alice = await createUser("reasons-office", TEAM_A);
    const response = await call("POST", "/v2/team-a/web/blobs/uploads/", {
      headers: { "CF-Connecting-IP": "203.0.113.9", Authorization: alice.authorization },
    });
    expect(response.status, await response.text()).toBe(202);
  });
});
