/**
 * Every response carries its request id in `x-amzn-RequestId` (as ECR's answers do): the
 * distribution API, the ECR API, the admin API, the token service, and error answers alike;
 * each request gets its own.
 */
import { describe, expect, it } from "vitest";
import { ecrCall } from "../support/ecr";
import { call } from "../support/registry";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("request ids", () => {
  it("are on every response, successes and errors, each its own", async () => {
    const responses = [
      await call("GET", "/v2/"),
      await call("GET", "/v2/", { anonymous: true }),
      await call("HEAD", "/v2/nothing/here/manifests/latest"),
      await call("GET", "/v2/nothing/here/blobs/sha256:0000"),
      await call("GET", "/admin/jobs"),
      await call("GET", "/no/such/path"),
    ];
    const ids = responses.map((response) => response.headers.get("x-amzn-RequestId"));
    for (const [index, id] of ids.entries()) expect(id, `response ${index}`).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
    expect(responses.map((response) => response.status)).toEqual([200, 401, 404, 400, 200, 404]);
  });

  it("are on the ECR API's answers, refused ones too", async () => {
    const ok = await ecrCall("DescribeRegistry", {});
    expect(ok.status).toBe(200);
    const refused = await ecrCall(
      "DescribeRepositories",
      {},
      { accessKeyId: "AKIANOSUCHKEY0000000", secretAccessKey: "x" },
    );
    expect(refused.status).toBeGreaterThanOrEqual(400);
    for (const result of [ok, refused]) expect(result.requestId).toMatch(UUID);
  });
});
