import { describe, expect, it } from "vitest";
import { call, pushImage } from "../support/registry";

describe("smoke", () => {
  it("answers /v2/ and round-trips an image", async () => {
    const base = await call("GET", "/v2/");
    expect(base.status).toBe(200);
    expect(base.headers.get("Docker-Distribution-API-Version")).toBe("registry/2.0");
    const { digest, bytes } = await pushImage("team-a/web", "v1");
    const got = await call("GET", "/v2/team-a/web/manifests/v1");
    expect(got.status).toBe(200);
    expect(got.headers.get("Docker-Content-Digest")).toBe(digest);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
  });
});
