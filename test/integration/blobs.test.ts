import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  adminAuthorization,
  bearerAuthorization,
  bytesOf,
  call,
  digestOf,
  expectError,
  fetchToken,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  randomBytes,
  type ErrorBody,
} from "../support/registry";

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

  it.each([["sha256:abc"], ["sha256:" + "A".repeat(64)], ["md5:d41d8cd98f00b204e9800998ecf8427e"], ["nodigest"]])(
    "rejects the malformed digest %s with 400 DIGEST_INVALID",
    async (digest) => {
      await expectError(await call("GET", `/v2/${NAME}/blobs/${digest}`), 400, "DIGEST_INVALID");
    },
  );

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

  it("refuses (405 UNSUPPORTED, naming the manifest) to delete a blob that a tagged manifest references", async () => {
    const layer = randomBytes(80);
    const image = await pushImage(NAME, "v1", { layers: [layer] });
    const layerDigest = await digestOf(layer);
    const configDigest = (image.manifest.config as { digest: string }).digest;
    for (const digest of [layerDigest, configDigest]) {
      const refused = await call("DELETE", `/v2/${NAME}/blobs/${digest}`);
      expect(refused.headers.get("Allow")).toBe("GET, HEAD");
      const body = await expectError(refused, 405, "UNSUPPORTED");
      expect(body.errors[0]!.message).toContain(image.digest);
      expect(body.errors[0]!.detail).toEqual({ digest, manifests: [image.digest], referencingManifests: 1 });
    }
    // The image is still whole.
    expect((await call("GET", `/v2/${NAME}/manifests/v1`)).status).toBe(200);
    const blob = await call("GET", `/v2/${NAME}/blobs/${layerDigest}`);
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(layer);
    // Once the manifest is gone the blob is unreferenced and deletes.
    expect((await call("DELETE", `/v2/${NAME}/manifests/${image.digest}`)).status).toBe(202);
    expect((await call("DELETE", `/v2/${NAME}/blobs/${layerDigest}`)).status).toBe(202);
    await expectError(await call("GET", `/v2/${NAME}/blobs/${layerDigest}`), 404, "BLOB_UNKNOWN");
  });

  it("counts untagged manifests too, and only this repository's manifests", async () => {
    const layer = randomBytes(80);
    const first = await pushImage(NAME, "v1", { layers: [layer] });
    const second = await pushImage(NAME, "v2", { layers: [layer, randomBytes(10)] });
    expect((await call("DELETE", `/v2/${NAME}/manifests/v1`)).status).toBe(202);
    expect((await call("DELETE", `/v2/${NAME}/manifests/v2`)).status).toBe(202);
    const layerDigest = await digestOf(layer);
    const body = await expectError(await call("DELETE", `/v2/${NAME}/blobs/${layerDigest}`), 405, "UNSUPPORTED");
    expect(body.errors[0]!.detail).toMatchObject({
      manifests: [first.digest, second.digest].sort(),
      referencingManifests: 2,
    });
    // Another repository whose manifest lists the same blob does not hold this one's link.
    await pushImage("team-b/other", "v1", { layers: [layer] });
    expect((await call("DELETE", `/v2/${NAME}/manifests/${first.digest}`)).status).toBe(202);
    expect((await call("DELETE", `/v2/${NAME}/manifests/${second.digest}`)).status).toBe(202);
    expect((await call("DELETE", `/v2/${NAME}/blobs/${layerDigest}`)).status).toBe(202);
    expect((await call("GET", `/v2/team-b/other/blobs/${layerDigest}`)).status).toBe(200);
  });

  it(
    "never leaves a manifest whose blob was unlinked when pushes and blob DELETEs race",
    { timeout: 120_000 },
    async () => {
      const rounds = 20;
      const names = Array.from({ length: rounds }, (_, round) => `race/r${round}`);
      // A bearer token: Basic authentication derives a key per request, which would spread the
      // requests out and leave little to race.
      const token = await fetchToken(
        names.map((name) => `repository:${name}:pull,push,delete`),
        adminAuthorization(),
      );
      const headers = { Authorization: bearerAuthorization(token) };
      const config = bytesOf("{}");
      const push = async (name: string, bytes: Uint8Array) => {
        const digest = await digestOf(bytes);
        const response = await call("POST", `/v2/${name}/blobs/uploads/?digest=${digest}`, { body: bytes, headers });
        expect(response.status).toBe(201);
        return digest;
      };
      // Every round's blobs first, so that the PUTs and DELETEs then run at once and interleave.
      const prepared = await Promise.all(
        names.map(async (name) => {
          const layer = randomBytes(32);
          const configDigest = await push(name, config);
          const layerDigest = await push(name, layer);
          const manifest = bytesOf(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: OCI_MANIFEST,
              config: {
                mediaType: "application/vnd.oci.image.config.v1+json",
                digest: configDigest,
                size: config.length,
              },
              layers: [
                { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length },
              ],
            }),
          );
          return { name, layerDigest, manifest };
        }),
      );
      const outcomes = await Promise.all(
        prepared.map(async ({ name, layerDigest, manifest }, round) => {
          const putting = call("PUT", `/v2/${name}/manifests/latest`, {
            body: manifest,
            headers: { ...headers, "Content-Type": OCI_MANIFEST },
          });
          // Half the DELETEs leave with their PUT, the others 1 or 3 ms later: both orders occur.
          if (round % 2 === 1) await scheduler.wait(round % 4);
          const del = await call("DELETE", `/v2/${name}/blobs/${layerDigest}`, { headers });
          const put = await putting;
          const putText = await put.text();
          await del.arrayBuffer();
          const putCode = put.status === 201 ? null : (JSON.parse(putText) as ErrorBody).errors[0]?.code;
          const manifestStored = (await call("HEAD", `/v2/${name}/manifests/latest`, { headers })).status === 200;
          const blobLinked = (await call("HEAD", `/v2/${name}/blobs/${layerDigest}`, { headers })).status === 200;
          return { put: put.status, putCode, del: del.status, manifestStored, blobLinked };
        }),
      );
      // Whichever the repository's object takes first wins and the other is refused; never both.
      for (const outcome of outcomes) {
        if (outcome.put === 201)
          expect(outcome).toEqual({ put: 201, putCode: null, del: 405, manifestStored: true, blobLinked: true });
        else
          expect(outcome).toEqual({
            put: 400,
            putCode: "MANIFEST_BLOB_UNKNOWN",
            del: 202,
            manifestStored: false,
            blobLinked: false,
          });
      }
    },
  );

  it("keeps one R2 object per digest, shared by repositories", async () => {
    const bytes = randomBytes(64);
    const digest = await pushBlob(NAME, bytes);
    await pushBlob("team-b/other", bytes);
    const listed = await env.BLOBS.list({ prefix: "blobs/" });
    expect(listed.objects.map((o) => o.key)).toEqual([`blobs/sha256/${digest.slice(7)}`]);
  });
});
