import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, digestOf, expectError, pushBlob, randomBytes } from "../support/registry";

const NAME = "team-a/web-app";

describe("blob GET and HEAD", () => {
  it("serves the bytes with length, digest, type and a strong ETag", async () => {
    const bytes = randomBytes(1000);
    const digest = await pushBlob(NAME, bytes);
    const head = await call("HEAD", `/v2/${NAME}/blobs/${digest}`);
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Length")).toBe("1000");
    expect(head.headers.get("Docker-Content-Digest")).toBe(digest);
    expect(head.headers.get("Content-Type")).toBe("application/octet-stream");
    expect(await head.text()).toBe("");
    const get = await call("GET", `/v2/${NAME}/blobs/${digest}`);
    expect(get.status).toBe(200);
    expect(get.headers.get("ETag")).toBe(`"${digest}"`);
    expect(new Uint8Array(await get.arrayBuffer())).toEqual(bytes);
    const cached = await call("GET", `/v2/${NAME}/blobs/${digest}`, { headers: { "If-None-Match": `"${digest}"` } });
    expect(cached.status).toBe(304);
  });

  it("answers 404 BLOB_UNKNOWN for unknown blobs and for blobs of other repositories", async () => {
    const digest = await pushBlob("team-b/other", randomBytes(10));
    await expectError(await call("GET", `/v2/${NAME}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    const head = await call("HEAD", `/v2/${NAME}/blobs/${digest}`);
    expect(head.status).toBe(404);
    expect(await head.text()).toBe("");
  });

  it.each([
    ["sha256:abc"],
    ["sha256:" + "A".repeat(64)],
    ["md5:d41d8cd98f00b204e9800998ecf8427e"],
    ["nodigest"],
  ])("rejects the malformed digest %s with 400 DIGEST_INVALID", async (digest) => {
    await expectError(await call("GET", `/v2/${NAME}/blobs/${digest}`), 400, "DIGEST_INVALID");
  });

  it("rejects bad repository names with NAME_INVALID", async () => {
    const digest = await digestOf(randomBytes(1));
    for (const name of ["Team/App", "a//b", "-a/b", "a/b-", "x"]) {
      await expectError(await call("GET", `/v2/${name}/blobs/${digest}`), 400, "NAME_INVALID");
    }
  });
});

describe("blob Range requests", () => {
  const size = 100;
  const cases: [string, number, string | null, number[] | null][] = [
    ["bytes=0-9", 206, "bytes 0-9/100", [0, 10]],
    ["bytes=90-", 206, "bytes 90-99/100", [90, 100]],
    ["bytes=-5", 206, "bytes 95-99/100", [95, 100]],
    ["bytes=-500", 206, "bytes 0-99/100", [0, 100]],
    ["bytes=50-5000", 206, "bytes 50-99/100", [50, 100]],
    ["bytes=99-99", 206, "bytes 99-99/100", [99, 100]],
    ["bytes=100-", 416, "bytes */100", null],
    ["bytes=100-200", 416, "bytes */100", null],
    ["bytes=-0", 416, "bytes */100", null],
    ["bytes=0-1,5-6", 200, null, [0, 100]],
    ["items=0-1", 200, null, [0, 100]],
    ["bytes=9-3", 200, null, [0, 100]],
  ];
  it.each(cases)("Range %s gives %i", async (range, status, contentRange, slice) => {
    const bytes = randomBytes(size);
    const digest = await pushBlob(NAME, bytes);
    const response = await call("GET", `/v2/${NAME}/blobs/${digest}`, { headers: { Range: range } });
    expect(response.status).toBe(status);
    expect(response.headers.get("Content-Range")).toBe(contentRange);
    if (slice) {
      const body = new Uint8Array(await response.arrayBuffer());
      expect(body).toEqual(bytes.slice(slice[0], slice[1]));
      expect(response.headers.get("Content-Length")).toBe(String(slice[1]! - slice[0]!));
    } else {
      await expectError(response, 416, "RANGE_INVALID");
    }
  });

  it("answers 416 for any range of an empty blob", async () => {
    const digest = await pushBlob(NAME, new Uint8Array(0));
    const response = await call("GET", `/v2/${NAME}/blobs/${digest}`, { headers: { Range: "bytes=0-" } });
    expect(response.status).toBe(416);
    expect(response.headers.get("Content-Range")).toBe("bytes */0");
    const whole = await call("GET", `/v2/${NAME}/blobs/${digest}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("Content-Length")).toBe("0");
  });
});

describe("blob DELETE", () => {
  it("unlinks the blob from the repository only", async () => {
    const bytes = randomBytes(64);
    const digest = await pushBlob(NAME, bytes);
    await pushBlob("team-b/other", bytes);
    const response = await call("DELETE", `/v2/${NAME}/blobs/${digest}`);
    expect(response.status).toBe(202);
    await expectError(await call("GET", `/v2/${NAME}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    const other = await call("GET", `/v2/team-b/other/blobs/${digest}`);
    expect(other.status).toBe(200);
    expect(new Uint8Array(await other.arrayBuffer())).toEqual(bytes);
    await expectError(await call("DELETE", `/v2/${NAME}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });

  it("keeps one R2 object per digest, shared by repositories", async () => {
    const bytes = randomBytes(64);
    const digest = await pushBlob(NAME, bytes);
    await pushBlob("team-b/other", bytes);
    const listed = await env.BLOBS.list({ prefix: "blobs/" });
    expect(listed.objects.map((o) => o.key)).toEqual([`blobs/sha256/${digest.slice(7)}`]);
  });
});
