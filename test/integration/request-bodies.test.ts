/**
 * Request bodies on every body-reading route: what a request declares about its length
 * (Transfer-Encoding wins over Content-Length, RFC 9112 §6.3).
 */
import { describe, expect, it } from "vitest";
import { bytesOf, call, digestOf, EMPTY_CONFIG, OCI_MANIFEST, pushBlob, randomBytes, startSession } from "../support/registry";

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
    const patched = await call("PATCH", location, { body: streamOf(first), headers: chunkedWithLength(5), duplex: "half" } as RequestInit);
    expect(patched.status, await patched.clone().text()).toBe(202);
    expect(patched.headers.get("Range")).toBe(`0-${first.length - 1}`);
    const closed = await call("PUT", `${location}?digest=${digest}`, { body: streamOf(last), headers: chunkedWithLength(1), duplex: "half" } as RequestInit);
    expect(closed.status, await closed.clone().text()).toBe(201);
    await expectBlob(digest, whole);
  });

  it("a single PUT of a whole blob takes the chunked body", async () => {
    const bytes = randomBytes(4321);
    const digest = await digestOf(bytes);
    const location = await startSession(NAME);
    const response = await call("PUT", `${location}?digest=${digest}`, { body: streamOf(bytes, 1000), headers: chunkedWithLength(2), duplex: "half" } as RequestInit);
    expect(response.status, await response.clone().text()).toBe(201);
    await expectBlob(digest, bytes);
  });

  it("a manifest PUT takes the chunked body, even when the Content-Length is over the limit", async () => {
    const config = await pushBlob(NAME, EMPTY_CONFIG);
    const manifest = bytesOf(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 }, layers: [] }),
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
