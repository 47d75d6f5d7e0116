import { describe, expect, it } from "vitest";
import { call, expectError, pushBlob, randomBytes } from "../support/registry";

describe("blob GET with presigned redirects configured", () => {
  it("answers 307 to a presigned R2 URL of the blob's object, after the repository check", async () => {
    const digest = await pushBlob("team-a/app", randomBytes(100));
    const response = await call("GET", `/v2/team-a/app/blobs/${digest}`);
    // The bytes decoded by hand: .text() on an application/octet-stream body makes workerd warn.
    expect(response.status, new TextDecoder().decode(await response.clone().arrayBuffer())).toBe(307);
    expect(response.headers.get("Docker-Content-Digest")).toBe(digest);
    const location = new URL(response.headers.get("Location")!);
    expect(location.origin + location.pathname).toBe(
      `https://0123456789abcdef.r2.cloudflarestorage.com/edge-registry-blobs/blobs/sha256/${digest.slice(7)}`,
    );
    expect(location.searchParams.get("X-Amz-Expires")).toBe("120");
    expect(location.searchParams.get("X-Amz-Credential")).toMatch(/^test-access-key\/\d{8}\/auto\/s3\/aws4_request$/);
    expect(location.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    // HEAD still answers here; other repositories and anonymous callers get no URL.
    expect((await call("HEAD", `/v2/team-a/app/blobs/${digest}`)).status).toBe(200);
    await expectError(await call("GET", `/v2/team-b/app/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    const anonymous = await call("GET", `/v2/team-a/app/blobs/${digest}`, { anonymous: true });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("Location")).toBeNull();
  });
});
