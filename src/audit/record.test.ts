import { describe, expect, it } from "vitest";
import {
  cloudTrailRecord,
  disposition,
  MAX_PARAMETERS_BYTES,
  presentedAccessKeyId,
  REDACTED,
  redactSecrets,
  redactText,
  storedParameters,
  type StoredAuditRecord,
} from "./record";

describe("redactSecrets", () => {
  it("replaces secrets by name at any depth, and keeps ids, cursors and ARNs", () => {
    expect(
      redactSecrets({
        userName: "ci",
        secretAccessKey: "abc",
        accessKeyId: "AKIA1",
        nextToken: "10",
        credentialArn: "arn:aws:secretsmanager:us-east-1:1:secret:ecr-pullthroughcache/hub",
        body: { password: "p", upstream: { access_token: "t", "Client-Secret": "s" }, list: [{ privateKey: "k" }] },
      }),
    ).toEqual({
      userName: "ci",
      secretAccessKey: REDACTED,
      accessKeyId: "AKIA1",
      nextToken: "10",
      credentialArn: "arn:aws:secretsmanager:us-east-1:1:secret:ecr-pullthroughcache/hub",
      body: {
        password: REDACTED,
        upstream: { access_token: REDACTED, "Client-Secret": REDACTED },
        list: [{ privateKey: REDACTED }],
      },
    });
  });

  it("replaces values shaped like secrets whatever their name", () => {
    expect(
      redactSecrets({
        note: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        hook: "whsec_abc",
        pem: "-----BEGIN PRIVATE KEY-----\nMII",
        header: "Bearer abc.def",
        plain: "team-a/web",
      }),
    ).toEqual({ note: REDACTED, hook: REDACTED, pem: REDACTED, header: REDACTED, plain: "team-a/web" });
  });

  it("replaces secret-shaped parts of a text and keeps the rest", () => {
    expect(redactText('user name "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln" is not valid')).toBe(
      `user name "${REDACTED}" is not valid`,
    );
    expect(redactText("curl/8 (Authorization: Bearer abc.def) whsec_xyz=")).toBe(
      `curl/8 (Authorization: ${REDACTED}) ${REDACTED}`,
    );
    expect(redactText("skopeo/1.13.3")).toBe("skopeo/1.13.3");
  });

  it("stores no parameters past the size limit, and none when there were none", () => {
    expect(storedParameters(undefined)).toBeNull();
    expect(storedParameters({ big: "x".repeat(MAX_PARAMETERS_BYTES) })).toEqual({
      omitted: `parameters over ${MAX_PARAMETERS_BYTES} bytes`,
    });
  });
});

describe("presentedAccessKeyId", () => {
  it("reads SigV4's credential and Basic's user, never a secret", () => {
    expect(
      presentedAccessKeyId(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261204/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=ab",
      ),
    ).toBe("AKIAIOSFODNN7EXAMPLE");
    expect(presentedAccessKeyId(`Basic ${btoa("AKIAIOSFODNN7EXAMPLE:secret")}`)).toBe("AKIAIOSFODNN7EXAMPLE");
    // A secret typed where the id goes is not kept.
    expect(presentedAccessKeyId(`Basic ${btoa("wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12:x")}`)).toBeNull();
    expect(presentedAccessKeyId(`Basic ${btoa("AWS:eyJtoken")}`)).toBeNull();
    expect(presentedAccessKeyId("Bearer eyJ.a.b")).toBeNull();
    expect(presentedAccessKeyId("Basic !!!")).toBeNull();
    expect(presentedAccessKeyId(undefined)).toBeNull();
  });
});

describe("disposition", () => {
  it("records writes and refusals, aggregates pulls and throttled logins, skips challenges and unknown paths", () => {
    expect(disposition(201, true, { eventName: "PutImage" })).toBe("record");
    expect(disposition(400, true, { eventName: "PutImage" })).toBe("record");
    expect(disposition(401, true, {})).toBe("record");
    expect(disposition(401, false, { eventName: "BatchGetImage", aggregate: true })).toBe("skip");
    expect(disposition(403, true, { eventName: "BatchGetImage", aggregate: true })).toBe("record");
    expect(disposition(200, true, { eventName: "BatchGetImage", aggregate: true })).toBe("aggregate");
    expect(disposition(404, false, { eventName: "BatchGetImage", aggregate: true })).toBe("aggregate");
    expect(disposition(429, true, { eventName: "GetAuthorizationToken" })).toBe("aggregate");
    expect(disposition(404, false, {})).toBe("skip");
  });
});

describe("cloudTrailRecord", () => {
  const row: StoredAuditRecord = {
    id: 7,
    at: Date.UTC(2026, 11, 4, 12, 0, 0, 123),
    actor: "arn:aws:iam::123456789012:user/ci",
    action: "PutImage",
    repository: "team-a/web",
    digest: "sha256:ab",
    detail: { pushedAt: Date.UTC(2026, 0, 1) },
    eventId: "e-1",
    requestId: "r-1",
    source: "ecr.amazonaws.com",
    identityType: "IAMUser",
    accessKeyId: "AKIA1",
    sourceIp: "203.0.113.7",
    userAgent: "skopeo",
    errorCode: null,
    errorMessage: null,
    requestParameters: { repositoryName: "team-a/web" },
    readOnly: false,
    calls: 1,
  };
  const trail = { accountId: "123456789012", region: "us-east-1" };

  it("shows a call as CloudTrail does", () => {
    expect(cloudTrailRecord(row, trail)).toEqual({
      eventVersion: "1.08",
      userIdentity: {
        type: "IAMUser",
        arn: row.actor,
        accountId: "123456789012",
        userName: "ci",
        accessKeyId: "AKIA1",
      },
      eventTime: "2026-12-04T12:00:00Z",
      eventSource: "ecr.amazonaws.com",
      eventName: "PutImage",
      awsRegion: "us-east-1",
      sourceIPAddress: "203.0.113.7",
      userAgent: "skopeo",
      requestParameters: { repositoryName: "team-a/web" },
      responseElements: null,
      additionalEventData: { pushedAt: "2026-01-01T00:00:00.000Z", imageDigest: "sha256:ab" },
      requestID: "r-1",
      eventID: "e-1",
      readOnly: false,
      resources: [
        {
          ARN: "arn:aws:ecr:us-east-1:123456789012:repository/team-a/web",
          accountId: "123456789012",
          type: "AWS::ECR::Repository",
        },
      ],
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: "123456789012",
    });
  });

  it("shows errors, aggregates and jobs", () => {
    const failed = cloudTrailRecord({ ...row, errorCode: "DENIED", errorMessage: "no", calls: 3 }, trail);
    expect(failed).toMatchObject({ errorCode: "DENIED", errorMessage: "no", additionalEventData: { calls: 3 } });
    const job = cloudTrailRecord(
      { ...row, actor: "lifecycle-policy", source: "registry-jobs", identityType: "AWSService", accessKeyId: null },
      trail,
    );
    expect(job).toMatchObject({
      userIdentity: { type: "AWSService", invokedBy: "lifecycle-policy" },
      eventType: "AwsServiceEvent",
    });
  });
});
