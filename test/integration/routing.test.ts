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

  it.each([
    ["GET", "/v2/team/app/unknown"],
    ["GET", "/v2/team/app/blobs/uploads/id/extra"],
    ["GET", "/v2/_catalog/extra"],
    ["PUT", "/v2/team/app"],
    ["GET", "/nothing-here"],
    ["GET", "/console/nothing-here"],
    ["POST", "/nothing-here"],
    ["GET", "/_bench/counters"],
    ["POST", "/_bench/read-layer/team/app/sha256:0000000000000000000000000000000000000000000000000000000000000000"],
  ])("answers %s %s, which names no resource, with 404 NOT_FOUND (not NAME_UNKNOWN)", async (method, path) => {
    const body = await expectError(await call(method, path), 404, "NOT_FOUND");
    expect(body.errors[0]!.message).toContain(`resource at ${path}`);
  });

  it("answers GET / with the public gallery (a page, not an API error)", async () => {
    const response = await call("GET", "/", { anonymous: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(/^<!doctype html>/);
  });

  it("answers HEAD of an unknown path with 404 and no body", async () => {
    for (const path of ["/v2/team/app/unknown", "/nothing-here"]) {
      const response = await call("HEAD", path);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("");
    }
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
