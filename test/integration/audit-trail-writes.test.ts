/**
 * The audit trail (src/audit/) of `/v2` writes (one record per upload step and per manifest PUT
 * or DELETE), of admin calls (eventSource registry-admin, the JSON body recorded with its
 * secrets redacted) and of pulls (counted per principal, repository, action and minute: one
 * record with the number of calls, written before the admin query answers).
 * ECR API calls and refusals: audit-trail.test.ts; the query: audit-trail-query.test.ts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REDACTED } from "../../src/audit/record";
import { expectIdentity, from, recordOf, trackSecrets, waitForTrail } from "../support/audit";
import {
  adminAuthorization,
  allowPolicy,
  bearerAuthorization,
  bytesOf,
  call,
  createUser,
  digestOf,
  fetchToken,
  OCI_MANIFEST,
  pushImage,
  randomBytes,
  repositoryArnOf,
  userArnOf,
} from "../support/registry";

const ADMIN_ARN = userArnOf("admin");

const ledger = trackSecrets([env.REGISTRY_ADMIN_SECRET_ACCESS_KEY, adminAuthorization()]);

function requestIdOf(response: Response): string | null {
  return response.headers.get("x-amzn-RequestId");
}

describe("/v2 writes", () => {
  it("a chunked upload records InitiateLayerUpload, UploadLayerPart and CompleteLayerUpload; a monolithic one InitiateLayerUpload", async () => {
    const name = "audit/uploads";
    const user = await createUser("audit-pusher", allowPolicy(["ecr:*"]));
    const token = await fetchToken([`repository:${name}:pull,push`], user.authorization);
    ledger.remember(user.secretAccessKey, user.authorization, token);
    const auth = bearerAuthorization(token);
    const blob = randomBytes(3000);
    const digest = await digestOf(blob);

    const started = await call("POST", `/v2/${name}/blobs/uploads/`, from("198.51.100.1", auth));
    expect(started.status).toBe(202);
    const location = started.headers.get("Location")!;
    const uploadId = location.split("/").at(-1)!;
    const patched = await call("PATCH", location, { ...from("198.51.100.2", auth), body: blob });
    expect(patched.status).toBe(202);
    const completed = await call("PUT", `${location}?digest=${digest}`, from("198.51.100.3", auth));
    expect(completed.status).toBe(201);
    const config = bytesOf(JSON.stringify({ audit: "monolithic" }));
    const configDigest = await digestOf(config);
    const monolithic = await call("POST", `/v2/${name}/blobs/uploads/?digest=${configDigest}`, {
      ...from("198.51.100.4", auth),
      body: config,
    });
    expect(monolithic.status).toBe(201);

    const expected: [Response, string, string, Record<string, unknown>][] = [
      [started, "InitiateLayerUpload", "198.51.100.1", { repositoryName: name }],
      [patched, "UploadLayerPart", "198.51.100.2", { repositoryName: name, uploadId }],
      [completed, "CompleteLayerUpload", "198.51.100.3", { repositoryName: name, uploadId, digest }],
      [monolithic, "InitiateLayerUpload", "198.51.100.4", { repositoryName: name, digest: configDigest }],
    ];
    for (const [response, eventName, ip, parameters] of expected) {
      const record = await recordOf(requestIdOf(response), { repository: name });
      expect(record, eventName).toMatchObject({
        eventName,
        eventSource: "ecr.amazonaws.com",
        sourceIPAddress: ip,
        readOnly: false,
        requestParameters: parameters,
        resources: [{ ARN: repositoryArnOf(name) }],
      });
      expect(record.errorCode).toBeUndefined();
      // The bearer token names the access key it was issued for: "with which key" is answered.
      expectIdentity(record, user.arn, user.accessKeyId);
    }
    // One record per request and no more in this repository (the token grant is the token service's).
    const all = await waitForTrail({ repository: name }, (events) => events.length >= 4, "the uploads");
    expect(all.map((event) => event.eventName).sort()).toEqual([
      "CompleteLayerUpload",
      "InitiateLayerUpload",
      "InitiateLayerUpload",
      "UploadLayerPart",
    ]);
  });

  it("a manifest PUT records PutImage with the tag, a DELETE records BatchDeleteImage", async () => {
    const name = "audit/manifests";
    const { digest, bytes } = await pushImage(name, "v1");
    const put = await call("PUT", `/v2/${name}/manifests/v2`, {
      ...from("198.51.100.10", adminAuthorization(), { "Content-Type": OCI_MANIFEST }),
      body: bytes,
    });
    expect(put.status).toBe(201);
    const removed = await call(
      "DELETE",
      `/v2/${name}/manifests/${digest}`,
      from("198.51.100.11", adminAuthorization()),
    );
    expect(removed.status).toBe(202);

    const putRecord = await recordOf(requestIdOf(put), { eventName: "PutImage" });
    expect(putRecord).toMatchObject({
      eventSource: "ecr.amazonaws.com",
      sourceIPAddress: "198.51.100.10",
      readOnly: false,
      requestParameters: { repositoryName: name, reference: "v2" },
      resources: [{ ARN: repositoryArnOf(name) }],
    });
    expect(putRecord.errorCode).toBeUndefined();
    expectIdentity(putRecord, ADMIN_ARN, env.REGISTRY_ADMIN_ACCESS_KEY_ID);
    const deleteRecord = await recordOf(requestIdOf(removed), { eventName: "BatchDeleteImage" });
    expect(deleteRecord).toMatchObject({
      sourceIPAddress: "198.51.100.11",
      readOnly: false,
      requestParameters: { repositoryName: name, reference: digest },
    });
    expect(deleteRecord.errorCode).toBeUndefined();
    expectIdentity(deleteRecord, ADMIN_ARN);
    // With the first push's: two PutImage records, one per request.
    const puts = await waitForTrail({ eventName: "PutImage", repository: name }, (e) => e.length >= 2, "PutImage");
    expect(puts).toHaveLength(2);
  });
});

describe("admin calls", () => {
  it("are recorded with eventSource registry-admin and their bodies' secrets redacted", async () => {
    const json = { "Content-Type": "application/json" };
    const created = await call("POST", "/admin/users", {
      ...from("203.0.113.50", adminAuthorization(), json),
      body: JSON.stringify({ name: "audit-admin-made" }),
    });
    expect(created.status).toBe(201);
    const keyResponse = await call(
      "POST",
      "/admin/users/audit-admin-made/access-keys",
      from("203.0.113.51", adminAuthorization()),
    );
    expect(keyResponse.status).toBe(201);
    const key = await keyResponse.json<{ accessKeyId: string; secretAccessKey: string }>();
    const upstreamToken = "dckr_pat_AuditUpstreamToken0123456789";
    const stored = await call("PUT", "/admin/secrets/ecr-pullthroughcache/audit-upstream", {
      ...from("203.0.113.52", adminAuthorization(), json),
      body: JSON.stringify({ username: "audit-robot", accessToken: upstreamToken }),
    });
    expect(stored.status, await stored.clone().text()).toBe(200);
    // A JWT pasted under a name that says nothing, and a password: redacted by shape and by name.
    const pasted = await fetchToken(["repository:audit/pasted:pull"], adminAuthorization());
    const refused = await call("POST", "/admin/users", {
      ...from("203.0.113.53", adminAuthorization(), json),
      body: JSON.stringify({ name: "audit-pasted", comment: pasted, password: "hunter2-audit-password" }),
    });
    await refused.body?.cancel();
    ledger.remember(key.secretAccessKey, upstreamToken, pasted, "hunter2-audit-password");

    const userRecord = await recordOf(requestIdOf(created), { eventName: "iam:CreateUser" });
    expect(userRecord).toMatchObject({
      eventSource: "registry-admin",
      sourceIPAddress: "203.0.113.50",
      readOnly: false,
      requestParameters: { path: "/admin/users", body: { name: "audit-admin-made" } },
    });
    expect(userRecord.errorCode).toBeUndefined();
    expectIdentity(userRecord, ADMIN_ARN, env.REGISTRY_ADMIN_ACCESS_KEY_ID);

    const keyRecord = await recordOf(requestIdOf(keyResponse), { eventName: "iam:CreateAccessKey" });
    expect(keyRecord).toMatchObject({ eventSource: "registry-admin", sourceIPAddress: "203.0.113.51" });
    expect(JSON.stringify(keyRecord)).not.toContain(key.secretAccessKey);

    const secretRecord = await recordOf(requestIdOf(stored), { eventName: "secretsmanager:PutSecretValue" });
    expect(secretRecord).toMatchObject({
      eventSource: "registry-admin",
      sourceIPAddress: "203.0.113.52",
      requestParameters: { body: { username: "audit-robot", accessToken: REDACTED } },
    });
    expect(JSON.stringify(secretRecord)).not.toContain(upstreamToken);

    const refusedRecord = await recordOf(requestIdOf(refused), { eventName: "iam:CreateUser" });
    expect(refusedRecord).toMatchObject({
      sourceIPAddress: "203.0.113.53",
      requestParameters: { body: { name: "audit-pasted", comment: REDACTED, password: REDACTED } },
    });
    expect(JSON.stringify(refusedRecord)).not.toContain(pasted);
    expect(JSON.stringify(refusedRecord)).not.toContain("hunter2-audit-password");
  });

  // KNOWN BUG (reported): src/audit/capture.ts stores the error's message as is, and messages
  // echo input (src/admin/users.ts: `invalid user name "<name>"`): a token pasted as a user
  // name is redacted in requestParameters but kept whole in errorMessage. Flip to `it` once fixed.
  it("an error message that echoes a secret-shaped input does not keep it", async () => {
    const pasted = await fetchToken(["repository:audit/echoed:pull"], adminAuthorization());
    const refused = await call("POST", "/admin/users", {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: pasted }),
    });
    expect(refused.status).toBe(400);
    await refused.body?.cancel();
    const record = await recordOf(requestIdOf(refused), { result: "INVALID_REQUEST" });
    expect(record.requestParameters).toMatchObject({ body: { name: REDACTED } });
    expect(JSON.stringify(record)).not.toContain(pasted);
  });
});

describe("pulls", () => {
  it("5 manifest GETs by one principal in one minute are ONE BatchGetImage record with calls 5", async () => {
    const name = "audit/pulls";
    const { digest, manifest } = await pushImage(name, "latest");
    const token = await fetchToken([`repository:${name}:pull`], adminAuthorization());
    ledger.remember(token);
    // The five calls must share their minute: not started in a minute's last seconds.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 50));
    for (let i = 0; i < 5; i++) {
      const response = await call(
        "GET",
        `/v2/${name}/manifests/${i % 2 === 0 ? "latest" : digest}`,
        from(`198.51.100.${100 + i}`, bearerAuthorization(token)),
      );
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    const layer = (manifest.layers as { digest: string }[])[0]!.digest;
    for (let i = 0; i < 3; i++) {
      const response = await call(
        "GET",
        `/v2/${name}/blobs/${layer}`,
        from("198.51.100.120", bearerAuthorization(token)),
      );
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    // The query writes this isolate's buffered groups first: no wait for the interval.
    const pulls = await waitForTrail({ eventName: "BatchGetImage", repository: name }, (e) => e.length > 0, "pulls");
    expect(pulls).toHaveLength(1);
    const [pull] = pulls;
    expect(pull).toMatchObject({
      eventSource: "ecr.amazonaws.com",
      readOnly: true,
      requestID: null,
      sourceIPAddress: "198.51.100.100",
      additionalEventData: { calls: 5, aggregated: true },
      resources: [{ ARN: repositoryArnOf(name) }],
    });
    expect(pull!.errorCode).toBeUndefined();
    expectIdentity(pull!, ADMIN_ARN);
    expect(pull!.additionalEventData?.sourceIPAddresses).toHaveLength(5);
    expect(pull!.additionalEventData?.references).toEqual(expect.arrayContaining(["latest", digest]));

    const blobs = await waitForTrail({ eventName: "GetDownloadUrlForLayer", repository: name }, () => true, "blobs");
    expect(blobs).toHaveLength(1);
    expect(blobs[0]).toMatchObject({ additionalEventData: { calls: 3, aggregated: true, imageDigest: layer } });
  });
});

describe("the stored records", () => {
  it("hold none of the secrets used in this file, nor anything shaped like a token or a webhook secret", async () => {
    await ledger.scan();
  });
});
