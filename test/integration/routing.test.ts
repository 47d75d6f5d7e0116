import { describe, expect, it } from "vitest";
import { call, expectError } from "../support/registry";

const DIGEST = "sha256:" + "a".repeat(64);

describe("routing", () => {
  it("answers /v2 and /v2/ with 200", async () => {
    for (const path of ["/v2/", "/v2"]) {
      const response = await call("GET", path);
      expect(response.status).toBe(200);
      expect(response.headers.get("Docker-Distribution-API-Version")).toBe("registry/2.0");
    }
  });

  it.each([
    ["POST", `/v2/team/app/manifests/latest`],
    ["PATCH", `/v2/team/app/blobs/${DIGEST}`],
    ["PUT", `/v2/team/app/blobs/${DIGEST}`],
    ["DELETE", `/v2/team/app/tags/list`],
    ["GET", `/v2/team/app/blobs/uploads/`],
    ["DELETE", `/v2/team/app/referrers/${DIGEST}`],
  ])("answers %s %s with 405 UNSUPPORTED", async (method, path) => {
    await expectError(await call(method, path), 405, "UNSUPPORTED");
  });

  it("answers unknown paths with 404 and the spec's error body", async () => {
    const response = await call("GET", "/v2/team/app/unknown");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { errors: unknown[] }).errors).toHaveLength(1);
    expect((await call("GET", "/nothing-here")).status).toBe(404);
  });

  it.each([
    ["GET", `/v2/Team/app/manifests/latest`],
    ["PUT", `/v2/team//app/manifests/latest`],
    ["GET", `/v2/team/app-/tags/list`],
    ["POST", `/v2/team/.app/blobs/uploads/`],
    ["GET", `/v2/${"a".repeat(257)}/blobs/${DIGEST}`],
    ["GET", `/v2/team/a_-b/referrers/${DIGEST}`],
  ])("answers %s %s with 400 NAME_INVALID", async (method, path) => {
    await expectError(await call(method, path), 400, "NAME_INVALID");
  });

  it("answers HEAD errors with the status and no body", async () => {
    const response = await call("HEAD", `/v2/team/app/manifests/nope`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("");
  });
});
