/**
 * copyObject between two real R2 buckets (the home bucket and the test's replica bucket): one
 * put checked by R2, a multipart copy of ranged reads digested on the way, the HEAD that skips
 * what the destination has, and a corrupt source that leaves nothing behind.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { toHex } from "../bytes";
import type { ParsedDigest } from "../oci/grammar";
import { copyObject } from "./r2-copy";

const SMALL_LIMITS = { singlePutMaxBytes: 1024 * 1024, partBytes: 5 * 1024 * 1024 };

async function contentOf(length: number): Promise<{ bytes: Uint8Array; digest: ParsedDigest }> {
  const bytes = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += 65536) crypto.getRandomValues(bytes.subarray(offset, offset + 65536));
  const hex = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
  return { bytes, digest: { algorithm: "sha256", hex, digest: `sha256:${hex}` } };
}

async function stored(bucket: R2Bucket, key: string): Promise<Uint8Array | null> {
  const object = await bucket.get(key);
  return object === null ? null : new Uint8Array(await object.arrayBuffer());
}

describe("copyObject", () => {
  it("copies a small object with one put, then finds it present", async () => {
    const { bytes, digest } = await contentOf(1000);
    await env.BLOBS.put("copy/small", bytes);
    const first = await copyObject(env.BLOBS, "copy/small", env.BLOBS_EU_WEST_1, "copied/small", digest, SMALL_LIMITS);
    expect(first).toEqual({ status: "copied", bytes: 1000, operations: 4 });
    expect(await stored(env.BLOBS_EU_WEST_1, "copied/small")).toEqual(bytes);
    const again = await copyObject(env.BLOBS, "copy/small", env.BLOBS_EU_WEST_1, "copied/small", digest, SMALL_LIMITS);
    expect(again).toEqual({ status: "present", operations: 1 });
  });

  it("copies a large object in parts, byte for byte", async () => {
    const { bytes, digest } = await contentOf(12 * 1024 * 1024 + 17);
    await env.BLOBS.put("copy/large", bytes);
    const result = await copyObject(env.BLOBS, "copy/large", env.BLOBS_EU_WEST_1, "copied/large", digest, SMALL_LIMITS);
    // HEAD twice, create, three parts (a ranged GET and an upload each), complete.
    expect(result).toEqual({ status: "copied", bytes: bytes.length, operations: 2 + 1 + 6 + 1 });
    expect(await stored(env.BLOBS_EU_WEST_1, "copied/large")).toEqual(bytes);
  });

  it("stores nothing when the source's bytes are not the digest's, in one put or in parts", async () => {
    const { bytes } = await contentOf(6 * 1024 * 1024);
    const wrong: ParsedDigest = { algorithm: "sha256", hex: "0".repeat(64), digest: `sha256:${"0".repeat(64)}` };
    await env.BLOBS.put("copy/corrupt", bytes);
    await expect(
      copyObject(env.BLOBS, "copy/corrupt", env.BLOBS_EU_WEST_1, "copied/corrupt", wrong, SMALL_LIMITS),
    ).rejects.toThrow(/does not have the digest/);
    expect(await env.BLOBS_EU_WEST_1.head("copied/corrupt")).toBeNull();
    await expect(
      copyObject(env.BLOBS, "copy/corrupt", env.BLOBS_EU_WEST_1, "copied/corrupt", wrong, {
        singlePutMaxBytes: 64 * 1024 * 1024,
        partBytes: 5 * 1024 * 1024,
      }),
    ).rejects.toThrow();
    expect(await env.BLOBS_EU_WEST_1.head("copied/corrupt")).toBeNull();
  });

  it("reports a missing source", async () => {
    const { digest } = await contentOf(10);
    expect(await copyObject(env.BLOBS, "copy/absent", env.BLOBS_EU_WEST_1, "copied/absent", digest)).toEqual({
      status: "source-missing",
      operations: 2,
    });
  });
});
