import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, digestOf, expectError, pushBlob, randomBytes, startSession } from "../support/registry";

const NAME = "team-a/web-app";
const MiB = 1024 * 1024;

async function patch(location: string, bytes: Uint8Array, start?: number): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
  if (start !== undefined) headers["Content-Range"] = `${start}-${start + bytes.length - 1}`;
  return call("PATCH", location, { body: bytes, headers });
}

async function expectBlob(name: string, digest: string, bytes: Uint8Array): Promise<void> {
  const response = await call("GET", `/v2/${name}/blobs/${digest}`);
  expect(response.status).toBe(200);
  const body = new Uint8Array(await response.arrayBuffer());
  expect(body.length).toBe(bytes.length);
  expect(await digestOf(body)).toBe(digest);
}

/** A body of unknown length: the runtime sends it with chunked transfer encoding. */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += MiB) controller.enqueue(bytes.slice(at, at + MiB));
      controller.close();
    },
  });
}

async function objectKeys(prefix = ""): Promise<string[]> {
  return (await env.BLOBS.list({ prefix })).objects.map((o) => o.key);
}

describe("monolithic uploads", () => {
  it("stores a blob with POST ?digest and answers 201 with its location", async () => {
    const bytes = randomBytes(5000);
    const digest = await digestOf(bytes);
    const response = await call("POST", `/v2/${NAME}/blobs/uploads/?digest=${digest}`, { body: bytes });
    expect(response.status).toBe(201);
    expect(response.headers.get("Location")).toBe(`/v2/${NAME}/blobs/${digest}`);
    expect(response.headers.get("Docker-Content-Digest")).toBe(digest);
    await expectBlob(NAME, digest, bytes);
  });

  it("rejects a wrong digest with DIGEST_INVALID and stores nothing", async () => {
    const bytes = randomBytes(5000);
    const wrong = await digestOf(randomBytes(10));
    await expectError(
      await call("POST", `/v2/${NAME}/blobs/uploads/?digest=${wrong}`, { body: bytes }),
      400,
      "DIGEST_INVALID",
    );
    await expectError(await call("GET", `/v2/${NAME}/blobs/${wrong}`), 404, "BLOB_UNKNOWN");
    expect(await objectKeys("blobs/")).toEqual([]);
  });

  it("supports sha512 digests", async () => {
    const bytes = randomBytes(3000);
    const digest = await digestOf(bytes, "sha512");
    const response = await call("POST", `/v2/${NAME}/blobs/uploads/?digest=${digest}`, { body: bytes });
    expect(response.status).toBe(201);
    const got = await call("GET", `/v2/${NAME}/blobs/${digest}`);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
  });

  it("accepts POST then a single PUT with the whole body", async () => {
    const bytes = randomBytes(2000);
    const digest = await digestOf(bytes);
    const location = await startSession(NAME);
    const response = await call("PUT", `${location}?digest=${digest}`, { body: bytes });
    expect(response.status).toBe(201);
    await expectBlob(NAME, digest, bytes);
    await expectError(await call("GET", location), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("rejects malformed digests on PUT and keeps the session", async () => {
    const location = await startSession(NAME);
    await expectError(await call("PUT", `${location}?digest=sha256:xyz`, { body: "x" }), 400, "DIGEST_INVALID");
    await expectError(await call("PUT", location, { body: "x" }), 400, "DIGEST_INVALID");
    expect((await call("GET", location)).status).toBe(204);
  });
});

describe("chunked uploads", () => {
  it("starts a session with Location, Range and upload id", async () => {
    const response = await call("POST", `/v2/${NAME}/blobs/uploads/`);
    expect(response.status).toBe(202);
    const location = response.headers.get("Location")!;
    expect(response.headers.get("Range")).toBe("0-0");
    expect(location.endsWith(response.headers.get("Docker-Upload-UUID")!)).toBe(true);
    const status = await call("GET", location);
    expect(status.status).toBe(204);
    expect(status.headers.get("Range")).toBe("0-0");
  });

  it("assembles chunks of any size across the multipart part size", async () => {
    const sizes = [3 * MiB, 7 * MiB + 3, 1, 9 * MiB, 123, 2 * MiB];
    const chunks = sizes.map((size) => randomBytes(size));
    const whole = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const chunk of chunks) {
      whole.set(chunk, at);
      at += chunk.length;
    }
    const digest = await digestOf(whole);
    const location = await startSession(NAME);
    let offset = 0;
    for (const [index, chunk] of chunks.entries()) {
      // Alternate chunks with and without Content-Range.
      const response = await patch(location, chunk, index % 2 === 0 ? offset : undefined);
      expect(response.status, await response.clone().text()).toBe(202);
      offset += chunk.length;
      expect(response.headers.get("Range")).toBe(`0-${offset - 1}`);
      expect(response.headers.get("Location")).toBe(location);
    }
    const done = await call("PUT", `${location}?digest=${digest}`);
    expect(done.status, await done.clone().text()).toBe(201);
    await expectBlob(NAME, digest, whole);
    // The session's tail objects are gone; the blob is the assembled multipart object.
    expect(await objectKeys("uploads/")).toEqual([]);
  });

  it("stores a first chunk of known length as one object, without a multipart upload", async () => {
    const bytes = randomBytes(9 * MiB);
    const digest = await digestOf(bytes);
    const location = await startSession(NAME);
    expect((await patch(location, bytes)).status).toBe(202);
    expect((await call("PUT", `${location}?digest=${digest}`)).status).toBe(201);
    await expectBlob(NAME, digest, bytes);
    const id = location.split("/").pop() ?? "";
    // One object, named after the session and the request (lease) that wrote it.
    const keys = await objectKeys();
    expect(keys).toEqual([expect.stringMatching(new RegExp(`^blobs/assembled/${id}\\.[0-9a-f-]{36}$`))]);
    const object = await env.BLOBS.head(keys[0] ?? "");
    expect(object?.size).toBe(bytes.length);
  });

  it("streams a chunk of unknown length into multipart parts", async () => {
    const bytes = randomBytes(17 * MiB + 5);
    const digest = await digestOf(bytes);
    const location = await startSession(NAME);
    const response = await call("PATCH", location, { body: streamOf(bytes), duplex: "half" } as RequestInit);
    expect(response.status, await response.clone().text()).toBe(202);
    expect(response.headers.get("Range")).toBe(`0-${bytes.length - 1}`);
    expect((await call("PUT", `${location}?digest=${digest}`)).status).toBe(201);
    await expectBlob(NAME, digest, bytes);
  });

  it("stores a short chunk of unknown length as one object and needs no tail", async () => {
    const bytes = randomBytes(3 * MiB + 7);
    const digest = await digestOf(bytes);
    const location = await startSession(NAME);
    const id = location.split("/").pop() ?? "";
    const response = await call("PATCH", location, { body: streamOf(bytes), duplex: "half" } as RequestInit);
    expect(response.status, await response.clone().text()).toBe(202);
    expect(response.headers.get("Range")).toBe(`0-${bytes.length - 1}`);
    expect(await objectKeys()).toEqual([expect.stringMatching(new RegExp(`^blobs/assembled/${id}\\.[0-9a-f-]{36}$`))]);
    expect((await call("PUT", `${location}?digest=${digest}`)).status).toBe(201);
    await expectBlob(NAME, digest, bytes);
  });

  it("goes on with more chunks after a first chunk of unknown length", async () => {
    const first = randomBytes(9 * MiB + 3);
    const second = randomBytes(2 * MiB);
    const third = randomBytes(7 * MiB + 1);
    const whole = new Uint8Array([...first, ...second, ...third]);
    const digest = await digestOf(whole);
    const location = await startSession(NAME);
    expect((await call("PATCH", location, { body: streamOf(first), duplex: "half" } as RequestInit)).status).toBe(202);
    expect((await call("PATCH", location, { body: streamOf(second), duplex: "half" } as RequestInit)).status).toBe(202);
    const done = await call("PUT", `${location}?digest=${digest}`, { body: third });
    expect(done.status, await done.clone().text()).toBe(201);
    await expectBlob(NAME, digest, whole);
  });

  it("rejects a wrong digest after a first chunk of unknown length and keeps nothing", async () => {
    const bytes = randomBytes(9 * MiB);
    const wrong = await digestOf(randomBytes(10));
    const location = await startSession(NAME);
    expect((await call("PATCH", location, { body: streamOf(bytes), duplex: "half" } as RequestInit)).status).toBe(202);
    await expectError(await call("PUT", `${location}?digest=${wrong}`), 400, "DIGEST_INVALID");
    expect((await call("GET", location)).status).toBe(404);
    expect(await objectKeys()).toEqual([]);
  });

  it("stores a whole blob streamed in a PUT body of unknown length", async () => {
    const bytes = randomBytes(6 * MiB + 11);
    const digest = await digestOf(bytes);
    const location = await startSession(NAME);
    const done = await call("PUT", `${location}?digest=${digest}`, {
      body: streamOf(bytes),
      duplex: "half",
    } as RequestInit);
    expect(done.status, await done.clone().text()).toBe(201);
    await expectBlob(NAME, digest, bytes);
  });

  it("rejects a first chunk shorter than its Content-Range and keeps nothing", async () => {
    const location = await startSession(NAME);
    const response = await call("PATCH", location, { body: randomBytes(50), headers: { "Content-Range": "0-99" } });
    await expectError(response, 400, "SIZE_INVALID");
    expect((await call("GET", location)).headers.get("Range")).toBe("0-0");
    expect(await objectKeys()).toEqual([]);
  });

  it("accepts the last chunk in the PUT body", async () => {
    const first = randomBytes(1000);
    const last = randomBytes(500);
    const whole = new Uint8Array([...first, ...last]);
    const digest = await digestOf(whole);
    const location = await startSession(NAME);
    expect((await patch(location, first, 0)).status).toBe(202);
    const done = await call("PUT", `${location}?digest=${digest}`, {
      body: last,
      headers: { "Content-Range": "1000-1499" },
    });
    expect(done.status, await done.clone().text()).toBe(201);
    await expectBlob(NAME, digest, whole);
  });

  it("answers 416 to out-of-order and repeated chunks, leaving the session intact", async () => {
    const a = randomBytes(100);
    const b = randomBytes(100);
    const location = await startSession(NAME);
    const skipped = await patch(location, b, 100);
    expect(skipped.status).toBe(416);
    expect(skipped.headers.get("Range")).toBe("0-0");
    await expectError(skipped, 416, "RANGE_INVALID");
    expect((await patch(location, a, 0)).status).toBe(202);
    const repeated = await patch(location, a, 0);
    expect(repeated.status).toBe(416);
    expect(repeated.headers.get("Range")).toBe("0-99");
    expect((await patch(location, b, 100)).status).toBe(202);
    const digest = await digestOf(new Uint8Array([...a, ...b]));
    expect((await call("PUT", `${location}?digest=${digest}`)).status).toBe(201);
  });

  it("rejects a chunk whose body does not match its Content-Range with SIZE_INVALID", async () => {
    const location = await startSession(NAME);
    expect((await patch(location, randomBytes(10), 0)).status).toBe(202);
    const short = await call("PATCH", location, { body: randomBytes(50), headers: { "Content-Range": "10-109" } });
    await expectError(short, 400, "SIZE_INVALID");
    const status = await call("GET", location);
    expect(status.headers.get("Range")).toBe("0-9");
    const mismatch = await call("PATCH", location, {
      body: randomBytes(5),
      headers: { "Content-Range": "10-14", "Content-Length": "6" },
    });
    expect([400]).toContain(mismatch.status);
  });

  it("rejects malformed Content-Range with BLOB_UPLOAD_INVALID", async () => {
    const location = await startSession(NAME);
    const response = await call("PATCH", location, { body: "abc", headers: { "Content-Range": "bytes=a-b" } });
    await expectError(response, 400, "BLOB_UPLOAD_INVALID");
  });

  it("rejects a wrong final digest with DIGEST_INVALID, cancels the session and stores nothing", async () => {
    const location = await startSession(NAME);
    expect((await patch(location, randomBytes(9 * MiB), 0)).status).toBe(202);
    const wrong = await digestOf(randomBytes(1));
    await expectError(await call("PUT", `${location}?digest=${wrong}`), 400, "DIGEST_INVALID");
    await expectError(await call("GET", `/v2/${NAME}/blobs/${wrong}`), 404, "BLOB_UNKNOWN");
    await expectError(await call("GET", location), 404, "BLOB_UPLOAD_UNKNOWN");
    expect(await objectKeys()).toEqual([]);
  });

  it("computes sha512 when the session asks for it", async () => {
    const bytes = randomBytes(10000);
    const location = await startSession(NAME, "?digest-algorithm=sha512");
    expect((await patch(location, bytes.subarray(0, 4000), 0)).status).toBe(202);
    expect((await patch(location, bytes.subarray(4000), 4000)).status).toBe(202);
    const digest = await digestOf(bytes, "sha512");
    expect((await call("PUT", `${location}?digest=${digest}`)).status).toBe(201);
    const got = await call("GET", `/v2/${NAME}/blobs/${digest}`);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(bytes);
  });

  it("explains that a sha256 session cannot close with a sha512 digest", async () => {
    const bytes = randomBytes(100);
    const location = await startSession(NAME);
    expect((await patch(location, bytes, 0)).status).toBe(202);
    const body = await expectError(
      await call("PUT", `${location}?digest=${await digestOf(bytes, "sha512")}`),
      400,
      "DIGEST_INVALID",
    );
    expect(body.errors[0]?.message).toContain("digest-algorithm=sha512");
  });

  it("reuses the stored object when a chunked upload repeats a known digest", async () => {
    const bytes = randomBytes(9 * MiB);
    const digest = await digestOf(bytes);
    for (const name of ["team-a/one", "team-a/two"]) {
      const location = await startSession(name);
      expect((await patch(location, bytes, 0)).status).toBe(202);
      expect((await call("PUT", `${location}?digest=${digest}`)).status).toBe(201);
      await expectBlob(name, digest, bytes);
    }
    expect(await objectKeys("blobs/")).toHaveLength(1);
  });

  it("cancels a session with DELETE and frees its storage", async () => {
    const location = await startSession(NAME);
    expect((await patch(location, randomBytes(9 * MiB), 0)).status).toBe(202);
    expect((await call("DELETE", location)).status).toBe(204);
    await expectError(await call("GET", location), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(await call("PATCH", location, { body: "x" }), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(await call("DELETE", location), 404, "BLOB_UPLOAD_UNKNOWN");
    expect(await objectKeys()).toEqual([]);
  });

  it("answers 404 BLOB_UPLOAD_UNKNOWN for unknown or foreign sessions", async () => {
    await expectError(await call("GET", `/v2/${NAME}/blobs/uploads/not-a-session`), 404, "BLOB_UPLOAD_UNKNOWN");
    await expectError(
      await call("GET", `/v2/${NAME}/blobs/uploads/${crypto.randomUUID()}`),
      404,
      "BLOB_UPLOAD_UNKNOWN",
    );
    const other = await startSession("team-b/other");
    const id = other.split("/").pop()!;
    await expectError(await call("GET", `/v2/${NAME}/blobs/uploads/${id}`), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("stores an empty blob", async () => {
    const digest = await digestOf(new Uint8Array(0));
    const location = await startSession(NAME);
    expect((await call("PUT", `${location}?digest=${digest}`)).status).toBe(201);
    const head = await call("HEAD", `/v2/${NAME}/blobs/${digest}`);
    expect(head.headers.get("Content-Length")).toBe("0");
  });
});

describe("cross-repository mount", () => {
  it("mounts a blob linked in the source repository with 201", async () => {
    const bytes = randomBytes(300);
    const digest = await pushBlob("team-b/base", bytes);
    const response = await call("POST", `/v2/${NAME}/blobs/uploads/?mount=${digest}&from=team-b/base`);
    expect(response.status).toBe(201);
    expect(response.headers.get("Location")).toBe(`/v2/${NAME}/blobs/${digest}`);
    expect(response.headers.get("Docker-Content-Digest")).toBe(digest);
    await expectBlob(NAME, digest, bytes);
    // Mounting again is still a success.
    expect((await call("POST", `/v2/${NAME}/blobs/uploads/?mount=${digest}&from=team-b/base`)).status).toBe(201);
  });

  it("falls back to an upload session when the source lacks the blob", async () => {
    const digest = await pushBlob("team-c/other", randomBytes(30));
    for (const from of ["team-b/base", "Bad/Name", ""]) {
      const response = await call("POST", `/v2/${NAME}/blobs/uploads/?mount=${digest}&from=${from}`);
      expect(response.status).toBe(202);
      expect(response.headers.get("Location")).toMatch(/\/blobs\/uploads\//);
    }
    await expectError(await call("GET", `/v2/${NAME}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });

  it("rejects a malformed mount digest", async () => {
    await expectError(
      await call("POST", `/v2/${NAME}/blobs/uploads/?mount=sha256:zz&from=team-b/base`),
      400,
      "DIGEST_INVALID",
    );
  });
});
