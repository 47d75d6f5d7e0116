/**
 * Request bodies on every body-reading route: what a request declares about its length
 * (Transfer-Encoding wins over Content-Length, RFC 9112 §6.3), the blob size limit (declared
 * lengths refused before a byte is read, streamed ones cut off), and the timeout on a body
 * that stops arriving. Settings are changed per request by calling the app with its own env.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import {
  adminAuthorization,
  bytesOf,
  call,
  digestOf,
  EMPTY_CONFIG,
  expectError,
  OCI_MANIFEST,
  ORIGIN,
  pushBlob,
  randomBytes,
  startSession,
} from "../support/registry";

const NAME = "team-a/bodies";
const MiB = 1024 * 1024;

/** A body of unknown length, as the runtime hands over a chunked request body. */
function streamOf(bytes: Uint8Array, piece = 64 * 1024): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += piece) controller.enqueue(bytes.slice(at, at + piece));
      controller.close();
    },
  });
}

/** Headers of a request sent chunked that also (wrongly) carries a Content-Length. */
function chunkedWithLength(length: number, extra: Record<string, string> = {}): Record<string, string> {
  return { "Transfer-Encoding": "chunked", "Content-Length": String(length), ...extra };
}

async function expectBlob(digest: string, bytes: Uint8Array): Promise<void> {
  const response = await call("GET", `/v2/${NAME}/blobs/${digest}`);
  expect(response.status).toBe(200);
  expect(await digestOf(new Uint8Array(await response.arrayBuffer()))).toBe(digest);
  expect(Number(response.headers.get("Content-Length"))).toBe(bytes.length);
}

describe("Transfer-Encoding with Content-Length: the transfer coding wins", () => {
  it("monolithic POST ?digest= stores the chunked body", async () => {
    for (const size of [1000, 9 * MiB + 7]) {
      const bytes = randomBytes(size);
      const digest = await digestOf(bytes);
      const response = await call("POST", `/v2/${NAME}/blobs/uploads/?digest=${digest}`, {
        body: streamOf(bytes),
        headers: chunkedWithLength(size),
        duplex: "half",
      } as RequestInit);
      expect(response.status, await response.clone().text()).toBe(201);
      await expectBlob(digest, bytes);
    }
  });

  it("PATCH and the closing PUT take the chunked body, whatever the Content-Length says", async () => {
    const first = randomBytes(3 * MiB);
    const last = randomBytes(1234);
    const whole = new Uint8Array(first.length + last.length);
    whole.set(first);
    whole.set(last, first.length);
    const digest = await digestOf(whole);
    const location = await startSession(NAME);
    const patched = await call("PATCH", location, {
      body: streamOf(first),
      headers: chunkedWithLength(5),
      duplex: "half",
    } as RequestInit);
    expect(patched.status, await patched.clone().text()).toBe(202);
    expect(patched.headers.get("Range")).toBe(`0-${first.length - 1}`);
    const closed = await call("PUT", `${location}?digest=${digest}`, {
      body: streamOf(last),
      headers: chunkedWithLength(1),
      duplex: "half",
    } as RequestInit);
    expect(closed.status, await closed.clone().text()).toBe(201);
    await expectBlob(digest, whole);
  });

  it("a single PUT of a whole blob takes the chunked body", async () => {
    const bytes = randomBytes(4321);
    const digest = await digestOf(bytes);
    const location = await startSession(NAME);
    const response = await call("PUT", `${location}?digest=${digest}`, {
      body: streamOf(bytes, 1000),
      headers: chunkedWithLength(2),
      duplex: "half",
    } as RequestInit);
    expect(response.status, await response.clone().text()).toBe(201);
    await expectBlob(digest, bytes);
  });

  it("a manifest PUT takes the chunked body, even when the Content-Length is over the limit", async () => {
    const config = await pushBlob(NAME, EMPTY_CONFIG);
    const manifest = bytesOf(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 },
        layers: [],
      }),
    );
    const response = await call("PUT", `/v2/${NAME}/manifests/chunked`, {
      body: streamOf(manifest, 50),
      headers: chunkedWithLength(99 * MiB, { "Content-Type": OCI_MANIFEST }),
      duplex: "half",
    } as RequestInit);
    expect(response.status, await response.clone().text()).toBe(201);
    expect(response.headers.get("Docker-Content-Digest")).toBe(await digestOf(manifest));
  });
});

type Settings = Partial<Record<"BLOB_MAX_BYTES" | "REQUEST_BODY_TIMEOUT_SECONDS", string>>;

/**
 * Calls the app with `settings` over the test env, as the admin unless told otherwise. The
 * request stays in this isolate, so a body the app leaves unread is simply dropped.
 */
async function callWith(settings: Settings, method: string, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", adminAuthorization());
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`${ORIGIN}${path}`, { ...init, headers, method }),
    { ...env, ...settings },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

/** A body that delivers `bytes` and then never another byte, nor its end. */
function stallingAfter(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return new Promise<void>(() => undefined);
      sent = true;
      controller.enqueue(bytes);
      return undefined;
    },
  });
}

/** Fails (instead of hanging the test) when `response` does not come within `ms`. */
async function within<T>(ms: number, response: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([response, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function uploadRange(location: string): Promise<string | null> {
  const status = await call("GET", location);
  expect(status.status).toBe(204);
  return status.headers.get("Range");
}

async function sessionObjects(location: string): Promise<string[]> {
  const id = location.split("/").pop() ?? "";
  const keys = [
    ...(await env.BLOBS.list({ prefix: `uploads/${id}` })).objects,
    ...(await env.BLOBS.list({ prefix: `blobs/assembled/${id}` })).objects,
  ];
  return keys.map((object) => object.key);
}

describe("declared lengths past the blob limit are refused before the body is read", () => {
  const endless = () => stallingAfter(randomBytes(1000));

  it("PATCH with a Content-Length of 2^53 or more is 413, not a 500", async () => {
    const location = await startSession(NAME);
    for (const length of [String(2 ** 53), "9007199254740993", "9".repeat(40)]) {
      const response = await within(
        5_000,
        callWith({}, "PATCH", location, { body: endless(), headers: { "Content-Length": length } }),
      );
      await expectError(response, 413, "SIZE_INVALID");
    }
    expect(await uploadRange(location)).toBe("0-0");
  });

  it("a 100 GiB declaration is answered at once on every blob route, and the session is untouched", async () => {
    const hundredGiB = String(100 * 1024 * MiB);
    const location = await startSession(NAME);
    const digest = await digestOf(randomBytes(10));
    const requests: [string, string, Record<string, string>][] = [
      ["PATCH", location, { "Content-Length": hundredGiB }],
      ["PATCH", location, { "Content-Range": `0-${100 * 1024 * MiB - 1}` }],
      ["PUT", `${location}?digest=${digest}`, { "Content-Length": hundredGiB }],
      ["POST", `/v2/${NAME}/blobs/uploads/?digest=${digest}`, { "Content-Length": hundredGiB }],
    ];
    for (const [method, path, headers] of requests) {
      const response = await within(5_000, callWith({}, method, path, { body: endless(), headers }));
      await expectError(response, 413, "SIZE_INVALID");
    }
    expect(await uploadRange(location)).toBe("0-0");
  });

  it("a chunk that would take the session past the limit is refused before its bytes are read", async () => {
    const settings = { BLOB_MAX_BYTES: String(3 * MiB) };
    const location = await startSession(NAME);
    const first = randomBytes(2 * MiB);
    expect((await callWith(settings, "PATCH", location, { body: first })).status).toBe(202);
    const response = await within(
      5_000,
      callWith(settings, "PATCH", location, { body: endless(), headers: { "Content-Length": String(MiB + 1) } }),
    );
    await expectError(response, 413, "SIZE_INVALID");
    expect(await uploadRange(location)).toBe(`0-${2 * MiB - 1}`);
  });
});

describe("a chunked body that grows past the blob limit", () => {
  const settings = { BLOB_MAX_BYTES: String(3 * MiB) };

  it("is cut off with 413 on a session's first chunk, leaving nothing behind", async () => {
    const location = await startSession(NAME);
    const response = await callWith(settings, "PATCH", location, {
      body: streamOf(randomBytes(12 * MiB)),
      duplex: "half",
    } as RequestInit);
    await expectError(response, 413, "SIZE_INVALID");
    expect(await uploadRange(location)).toBe("0-0");
    expect(await sessionObjects(location)).toEqual([]);
    // The session is free and still takes bytes up to the limit.
    const bytes = randomBytes(3 * MiB);
    expect(
      (await callWith(settings, "PATCH", location, { body: streamOf(bytes), duplex: "half" } as RequestInit)).status,
    ).toBe(202);
    const digest = await digestOf(bytes);
    expect((await callWith(settings, "PUT", `${location}?digest=${digest}`)).status).toBe(201);
    await expectBlob(digest, bytes);
  });

  it("is cut off with 413 on a later chunk, and the session stays at its committed offset", async () => {
    const location = await startSession(NAME);
    const first = randomBytes(MiB);
    expect(
      (await callWith(settings, "PATCH", location, { body: first, headers: { "Content-Range": `0-${MiB - 1}` } }))
        .status,
    ).toBe(202);
    const response = await callWith(settings, "PATCH", location, {
      body: streamOf(randomBytes(10 * MiB)),
      duplex: "half",
    } as RequestInit);
    await expectError(response, 413, "SIZE_INVALID");
    expect(await uploadRange(location)).toBe(`0-${MiB - 1}`);
    const closing = await callWith(settings, "PUT", `${location}?digest=${await digestOf(first)}`);
    expect(closing.status, await closing.clone().text()).toBe(201);
  });

  it("is cut off with 413 on a monolithic POST and on a closing PUT", async () => {
    const bytes = randomBytes(4 * MiB);
    const digest = await digestOf(bytes);
    await expectError(
      await callWith(settings, "POST", `/v2/${NAME}/blobs/uploads/?digest=${digest}`, {
        body: streamOf(bytes),
        duplex: "half",
      } as RequestInit),
      413,
      "SIZE_INVALID",
    );
    const location = await startSession(NAME);
    await expectError(
      await callWith(settings, "PUT", `${location}?digest=${digest}`, {
        body: streamOf(bytes),
        duplex: "half",
      } as RequestInit),
      413,
      "SIZE_INVALID",
    );
    expect(await uploadRange(location)).toBe("0-0");
    expect((await call("HEAD", `/v2/${NAME}/blobs/${digest}`)).status).toBe(404);
  });
});

describe("a request body that stops arriving", () => {
  const settings = { REQUEST_BODY_TIMEOUT_SECONDS: "1" };

  it("ends a PATCH with 408 and leaves the session free at its committed offset", async () => {
    const location = await startSession(NAME);
    const first = randomBytes(100_000);
    expect((await call("PATCH", location, { body: first })).status).toBe(202);
    const variants: Record<string, string>[] = [
      {},
      { "Content-Length": String(5 * MiB) },
      { "Content-Range": `100000-${100_000 + 5 * MiB - 1}` },
    ];
    for (const headers of variants) {
      const started = Date.now();
      const response = await within(
        10_000,
        callWith(settings, "PATCH", location, { body: stallingAfter(randomBytes(70_000)), headers }),
      );
      await expectError(response, 408, "BLOB_UPLOAD_INVALID");
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await uploadRange(location)).toBe("0-99999");
    }
    // Released at once: the next chunk is taken.
    const rest = randomBytes(50_000);
    expect((await call("PATCH", location, { body: rest, headers: { "Content-Range": "100000-149999" } })).status).toBe(
      202,
    );
  });

  it("ends a monolithic POST, a closing PUT, a manifest PUT and an ECR call with 408", async () => {
    const digest = await digestOf(randomBytes(10));
    const stalled = (length: number) =>
      ({
        body: stallingAfter(randomBytes(1000)),
        headers: { "Content-Length": String(length) },
        duplex: "half",
      }) as RequestInit;
    await expectError(
      await within(10_000, callWith(settings, "POST", `/v2/${NAME}/blobs/uploads/?digest=${digest}`, stalled(MiB))),
      408,
      "BLOB_UPLOAD_INVALID",
    );
    const location = await startSession(NAME);
    await expectError(
      await within(10_000, callWith(settings, "PUT", `${location}?digest=${digest}`, stalled(MiB))),
      408,
      "BLOB_UPLOAD_INVALID",
    );
    expect(await uploadRange(location)).toBe("0-0");
    const manifest = await within(
      10_000,
      callWith(settings, "PUT", `/v2/${NAME}/manifests/stalled`, {
        ...stalled(5000),
        headers: { "Content-Type": OCI_MANIFEST },
      }),
    );
    await expectError(manifest, 408, "MANIFEST_INVALID");
    const ecr = await within(
      10_000,
      callWith(settings, "POST", "/", {
        ...stalled(5000),
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
        },
      }),
    );
    expect(ecr.status).toBe(408);
    expect((await ecr.json<{ __type: string }>()).__type).toBe("RequestTimeoutException");
  });
});
