/**
 * The audit trail (src/audit/) records each ECR API call, each refused credential (SigV4,
 * bearer token, Basic, login token) and each refused authorization once, in CloudTrail's shape:
 * the principal, the access key id presented (never its secret), the source address
 * (CF-Connecting-IP), the result and the request id the response carried. A 401 challenge to a
 * request without credentials is not recorded. Records are written after the response: the
 * tests poll the admin query for them (test/support/audit.ts).
 * `/v2` writes, admin calls and pulls: audit-trail-writes.test.ts; the query: audit-trail-query.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectIdentity, from, recordOf, trackSecrets, waitForTrail } from "../support/audit";
import { ecrCall } from "../support/ecr";
import {
  adminAuthorization,
  allowPolicy,
  basicAuthorization,
  bearerAuthorization,
  call,
  createUser,
  expectError,
  fetchToken,
  pushImage,
  repositoryArnOf,
  userArnOf,
} from "../support/registry";

const ACCOUNT_ID = "123456789012";
const ADMIN_ARN = userArnOf("admin");

const ledger = trackSecrets([env.REGISTRY_ADMIN_SECRET_ACCESS_KEY, adminAuthorization()]);

/** A JWT with one character of its signature changed. */
function tampered(token: string): string {
  const changed = token.at(-2) === "A" ? "B" : "A";
  return `${token.slice(0, -2)}${changed}${token.slice(-1)}`;
}

describe("ECR API calls", () => {
  it("are one record each, by the admin and by a user, with principal, source address, result and request id", async () => {
    const user = await createUser("audit-ecr-user", allowPolicy(["ecr:CreateRepository"]));
    ledger.remember(user.secretAccessKey, user.authorization);
    const credentials = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };

    const byAdmin = await ecrCall("CreateRepository", { repositoryName: "audit/by-admin" }, undefined, {
      "CF-Connecting-IP": "203.0.113.10",
    });
    expect(byAdmin.status, JSON.stringify(byAdmin.body)).toBe(200);
    const byUser = await ecrCall("CreateRepository", { repositoryName: "audit/by-user" }, credentials, {
      "CF-Connecting-IP": "198.51.100.20",
    });
    expect(byUser.status, JSON.stringify(byUser.body)).toBe(200);
    const failed = await ecrCall("CreateRepository", { repositoryName: "audit/by-user" }, credentials, {
      "CF-Connecting-IP": "198.51.100.21",
    });
    expect(failed.type).toBe("RepositoryAlreadyExistsException");

    const adminRecord = await recordOf(byAdmin.requestId, { eventName: "CreateRepository" });
    expect(adminRecord).toMatchObject({
      eventSource: "ecr.amazonaws.com",
      eventName: "CreateRepository",
      sourceIPAddress: "203.0.113.10",
      readOnly: false,
      requestParameters: { repositoryName: "audit/by-admin" },
      resources: [{ ARN: repositoryArnOf("audit/by-admin"), accountId: ACCOUNT_ID, type: "AWS::ECR::Repository" }],
    });
    expect(adminRecord.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expectIdentity(adminRecord, ADMIN_ARN, env.REGISTRY_ADMIN_ACCESS_KEY_ID);
    expect(adminRecord.errorCode).toBeUndefined();

    const userRecord = await recordOf(byUser.requestId, { eventName: "CreateRepository" });
    expect(userRecord).toMatchObject({ sourceIPAddress: "198.51.100.20", eventSource: "ecr.amazonaws.com" });
    expectIdentity(userRecord, user.arn, user.accessKeyId);
    expect(userRecord.errorCode).toBeUndefined();

    const failedRecord = await recordOf(failed.requestId, { eventName: "CreateRepository" });
    expectIdentity(failedRecord, user.arn, user.accessKeyId);
    expect(failedRecord).toMatchObject({
      sourceIPAddress: "198.51.100.21",
      errorCode: "RepositoryAlreadyExistsException",
    });
    expect(failedRecord.errorMessage).toMatch(/audit\/by-user/);
  });

  it("refused for a wrong secret or an unknown key: one record with the presented key id, never the secret", async () => {
    const user = await createUser("audit-sigv4", allowPolicy(["ecr:DescribeRegistry"]));
    const wrongSecret = `${user.secretAccessKey.slice(0, -4)}WRNG`;
    const unknownSecret = "UnknownKeySecret0123456789abcdefghijklmnop";
    ledger.remember(user.secretAccessKey, wrongSecret, unknownSecret);

    const wrong = await ecrCall(
      "DescribeRegistry",
      {},
      { accessKeyId: user.accessKeyId, secretAccessKey: wrongSecret },
      { "CF-Connecting-IP": "192.0.2.33" },
    );
    expect(wrong.type).toBe("InvalidSignatureException");
    const unknown = await ecrCall(
      "DescribeRegistry",
      {},
      { accessKeyId: "AKIAAUDITNOSUCHKEY00", secretAccessKey: unknownSecret },
      { "CF-Connecting-IP": "192.0.2.34" },
    );
    expect(unknown.type).toBe("UnrecognizedClientException");

    const wrongRecord = await recordOf(wrong.requestId, { eventName: "DescribeRegistry" });
    expect(wrongRecord).toMatchObject({
      eventSource: "ecr.amazonaws.com",
      errorCode: "InvalidSignatureException",
      sourceIPAddress: "192.0.2.33",
      userIdentity: { accessKeyId: user.accessKeyId },
    });
    const unknownRecord = await recordOf(unknown.requestId, { eventName: "DescribeRegistry" });
    expect(unknownRecord).toMatchObject({
      errorCode: "UnrecognizedClientException",
      sourceIPAddress: "192.0.2.34",
      userIdentity: { accessKeyId: "AKIAAUDITNOSUCHKEY00" },
    });
    for (const record of [wrongRecord, unknownRecord]) {
      const text = JSON.stringify(record);
      for (const secret of [user.secretAccessKey, wrongSecret, unknownSecret]) expect(text).not.toContain(secret);
    }
  });

  it("refused by policy: one record with the user and AccessDeniedException", async () => {
    const user = await createUser("audit-ecr-denied");
    ledger.remember(user.secretAccessKey);
    const refused = await ecrCall(
      "CreateRepository",
      { repositoryName: "audit/denied-ecr" },
      { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
      { "CF-Connecting-IP": "192.0.2.40" },
    );
    expect(refused.type).toBe("AccessDeniedException");
    const record = await recordOf(refused.requestId, { principal: user.arn });
    expectIdentity(record, user.arn, user.accessKeyId);
    expect(record).toMatchObject({
      eventName: "CreateRepository",
      errorCode: "AccessDeniedException",
      sourceIPAddress: "192.0.2.40",
    });
  });
});

describe("refused credentials on /v2 and the token service", () => {
  it("a garbage or tampered bearer token: one record each with UNAUTHORIZED, the token nowhere", async () => {
    const name = "audit/bearer";
    await pushImage(name, "latest");
    const token = await fetchToken([`repository:${name}:pull`], adminAuthorization());
    const forged = tampered(token);
    const garbage = "not-a-token.at-all";
    ledger.remember(token, forged, garbage);

    const refused: [string, Response][] = [];
    for (const [ip, presented] of [
      ["192.0.2.50", garbage],
      ["192.0.2.51", forged],
    ] as const) {
      const response = await call("GET", `/v2/${name}/manifests/latest`, from(ip, bearerAuthorization(presented)));
      await expectError(response, 401, "UNAUTHORIZED");
      refused.push([ip, response]);
    }
    // The untampered token is accepted: the refusal was the tampering.
    const fine = await call("GET", `/v2/${name}/manifests/latest`, from("192.0.2.52", bearerAuthorization(token)));
    expect(fine.status).toBe(200);
    await fine.body?.cancel();

    for (const [ip, response] of refused) {
      const record = await recordOf(response.headers.get("x-amzn-RequestId"), { result: "UNAUTHORIZED" });
      expect(record).toMatchObject({
        sourceIPAddress: ip,
        eventSource: "ecr.amazonaws.com",
        errorCode: "UNAUTHORIZED",
      });
      // A bearer token presents no access key id.
      expect(record.userIdentity.accessKeyId).toBeUndefined();
      const text = JSON.stringify(record);
      for (const secret of [token, forged, garbage]) expect(text).not.toContain(secret);
    }
  });

  it("wrong Basic credentials and a tampered login token: one record each with the key id, never the secret", async () => {
    const user = await createUser("audit-basic", allowPolicy(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]));
    const wrongPassword = `${user.secretAccessKey}-not`;
    const login = await ecrCall("GetAuthorizationToken", {});
    expect(login.status).toBe(200);
    const [data] = login.body.authorizationData as { authorizationToken: string }[];
    const loginToken = atob(data!.authorizationToken).replace(/^AWS:/, "");
    const forgedLogin = tampered(loginToken);
    ledger.remember(user.secretAccessKey, wrongPassword, data!.authorizationToken, loginToken, forgedLogin);

    const onV2 = await call(
      "GET",
      "/v2/audit/basic/tags/list",
      from("192.0.2.60", basicAuthorization(user.accessKeyId, wrongPassword)),
    );
    await expectError(onV2, 401, "UNAUTHORIZED");
    const onToken = await call(
      "GET",
      "/token?service=edge-registry&scope=repository:audit/basic:pull",
      from("192.0.2.61", basicAuthorization(user.accessKeyId, wrongPassword)),
    );
    expect(onToken.status).toBe(401);
    await onToken.body?.cancel();
    const forged = await call(
      "GET",
      "/v2/audit/basic/tags/list",
      from("192.0.2.62", basicAuthorization("AWS", forgedLogin)),
    );
    await expectError(forged, 401, "UNAUTHORIZED");

    const v2Record = await recordOf(onV2.headers.get("x-amzn-RequestId"), { result: "UNAUTHORIZED" });
    expect(v2Record).toMatchObject({
      sourceIPAddress: "192.0.2.60",
      errorCode: "UNAUTHORIZED",
      userIdentity: { accessKeyId: user.accessKeyId },
    });
    const tokenRecord = await recordOf(onToken.headers.get("x-amzn-RequestId"), {
      eventName: "GetAuthorizationToken",
    });
    expect(tokenRecord).toMatchObject({
      sourceIPAddress: "192.0.2.61",
      eventSource: "registry-token",
      errorCode: "UNAUTHORIZED",
      userIdentity: { accessKeyId: user.accessKeyId },
    });
    const forgedRecord = await recordOf(forged.headers.get("x-amzn-RequestId"), { result: "UNAUTHORIZED" });
    expect(forgedRecord.sourceIPAddress).toBe("192.0.2.62");
    // A login token's user is `AWS`, not a key id.
    expect(forgedRecord.userIdentity.accessKeyId).toBeUndefined();
    for (const record of [v2Record, tokenRecord, forgedRecord]) {
      const text = JSON.stringify(record);
      for (const secret of [user.secretAccessKey, wrongPassword, loginToken, forgedLogin])
        expect(text).not.toContain(secret);
    }
  });

  it("credentials given the wrong way round: the secret is not kept as the access key id", async () => {
    const user = await createUser("audit-swapped");
    ledger.remember(user.secretAccessKey);
    const basic = await call(
      "GET",
      "/v2/audit/swapped/tags/list",
      from("192.0.2.65", basicAuthorization(user.secretAccessKey, user.accessKeyId)),
    );
    expect(basic.status).toBe(401);
    await basic.body?.cancel();
    const sigv4 = await ecrCall(
      "DescribeRegistry",
      {},
      { accessKeyId: user.secretAccessKey, secretAccessKey: user.accessKeyId },
      { "CF-Connecting-IP": "192.0.2.66" },
    );
    expect(sigv4.status).toBe(403);
    for (const requestId of [basic.headers.get("x-amzn-RequestId"), sigv4.requestId]) {
      const record = await recordOf(requestId, { result: "error" });
      expect(record.userIdentity.accessKeyId).toBeUndefined();
      expect(JSON.stringify(record)).not.toContain(user.secretAccessKey);
    }
  });

  // KNOWN GAP (reported): the OAuth2 form of the token service (POST /token, password and
  // refresh_token grants) carries its credentials in the body, not in an Authorization header,
  // and src/audit/capture.ts decides "presented credentials" from the header alone: its
  // refusals are 401s without credentials to disposition() and are not recorded. Flip to `it`
  // once fixed.
  it("a refused password or refresh_token grant on POST /token is recorded", async () => {
    const user = await createUser("audit-form");
    const refused: Response[] = [];
    const forms: Record<string, string>[] = [
      { grant_type: "password", username: user.accessKeyId, password: "audit-wrong-form-password" },
      { grant_type: "refresh_token", refresh_token: "audit-not-a-refresh-token" },
    ];
    for (const form of forms) {
      const response = await call("POST", "/token", {
        anonymous: true,
        headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "192.0.2.67" },
        body: new URLSearchParams({ ...form, service: "edge-registry" }).toString(),
      });
      expect(response.status).toBe(401);
      await response.body?.cancel();
      refused.push(response);
    }
    for (const response of refused) {
      const record = await recordOf(response.headers.get("x-amzn-RequestId"), { eventName: "GetAuthorizationToken" });
      expect(record).toMatchObject({ errorCode: "UNAUTHORIZED", sourceIPAddress: "192.0.2.67" });
    }
  });

  it("a challenge to a request without credentials is not recorded", async () => {
    const anonymous = await call("GET", "/v2/audit/anonymous/manifests/latest", {
      anonymous: true,
      headers: { "CF-Connecting-IP": "192.0.2.70" },
    });
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    // A call recorded after it is found; the challenge is not.
    const marker = await ecrCall("CreateRepository", { repositoryName: "audit/after-challenge" });
    await recordOf(marker.requestId);
    const all = await waitForTrail({}, () => true, "every record");
    expect(all.filter((event) => event.requestID === anonymous.headers.get("x-amzn-RequestId"))).toEqual([]);
    expect(all.filter((event) => event.sourceIPAddress === "192.0.2.70")).toEqual([]);
  });
});

describe("refused authorization", () => {
  it("a user with no policy pushing: 403 DENIED, one record with the user and key id", async () => {
    const user = await createUser("audit-no-policy");
    ledger.remember(user.secretAccessKey, user.authorization);
    const response = await call("POST", "/v2/audit/denied/blobs/uploads/", from("192.0.2.80", user.authorization));
    await expectError(response, 403, "DENIED");
    const record = await recordOf(response.headers.get("x-amzn-RequestId"), { principal: user.arn });
    expectIdentity(record, user.arn, user.accessKeyId);
    expect(record).toMatchObject({
      eventName: "InitiateLayerUpload",
      eventSource: "ecr.amazonaws.com",
      errorCode: "DENIED",
      sourceIPAddress: "192.0.2.80",
      requestParameters: { repositoryName: "audit/denied" },
      resources: [{ ARN: repositoryArnOf("audit/denied") }],
    });
  });
});

describe("the stored records", () => {
  it("hold none of the secrets used in this file, nor anything shaped like a token or a webhook secret", async () => {
    await ledger.scan();
  });
});
