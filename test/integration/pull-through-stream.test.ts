/**
 * streamWhileStoring against the real (local) R2: one source read, bytes to the client and
 * into R2, R2's digest check deciding whether the client's transfer completes.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { streamWhileStoring } from "../../src/pull-through/stream-while-storing";
import { digestOf, randomBytes } from "../support/registry";

function sourceOf(bytes: Uint8Array, chunk = 64 * 1024): { stream: ReadableStream<Uint8Array>; reads: () => number } {
  let offset = 0;
  let reads = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        reads++;
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + chunk));
        offset += chunk;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, reads: () => reads };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function storing(key: string, size: number, expectedHex: string) {
  const fixed = new FixedLengthStream(size);
  const stored = env.BLOBS.put(key, fixed.readable, { sha256: expectedHex });
  const settled: { ok: boolean; error: unknown }[] = [];
  const background: Promise<unknown>[] = [];
  return {
    target: {
      sink: fixed.writable,
      stored,
      settle: (ok: boolean, error: unknown) => {
        settled.push({ ok, error });
        return Promise.resolve();
      },
      keepAlive: (work: Promise<unknown>) => background.push(work),
    },
    settled,
    background,
  };
}

describe("streamWhileStoring", () => {
  it("gives the client every byte and stores them once R2 has verified the digest", async () => {
    const bytes = randomBytes(1024 * 1024 + 17);
    const hex = (await digestOf(bytes)).slice("sha256:".length);
    const source = sourceOf(bytes);
    const store = storing(`test/${hex}`, bytes.length, hex);
    const received = await readAll(streamWhileStoring(source.stream, store.target, 64 * 1024));
    expect(received).toEqual(bytes);
    expect(store.settled).toEqual([{ ok: true, error: null }]);
    const object = await env.BLOBS.get(`test/${hex}`);
    expect(object?.size).toBe(bytes.length);
    expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytes);
  });

  it("fails the client's transfer and stores nothing when the bytes do not match the digest", async () => {
    const bytes = randomBytes(300 * 1024);
    const hex = (await digestOf(bytes)).slice("sha256:".length);
    const tampered = bytes.slice();
    tampered[1000] = tampered[1000]! ^ 0xff;
    const store = storing(`test/tampered-${hex}`, tampered.length, hex);
    const reader = streamWhileStoring(sourceOf(tampered).stream, store.target, 64 * 1024).getReader();
    let delivered = 0;
    let failure: unknown = null;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        delivered += value.length;
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).not.toBeNull();
    // The last chunk is held back until R2's check: the client never gets the whole body.
    expect(delivered).toBeLessThan(tampered.length);
    expect(store.settled).toHaveLength(1);
    expect(store.settled[0]!.ok).toBe(false);
    expect(await env.BLOBS.head(`test/tampered-${hex}`)).toBeNull();
  });

  it("fails when the source is shorter than declared", async () => {
    const bytes = randomBytes(100 * 1024);
    const hex = (await digestOf(bytes)).slice("sha256:".length);
    const store = storing(`test/short-${hex}`, bytes.length + 10, hex);
    await expect(readAll(streamWhileStoring(sourceOf(bytes).stream, store.target, 64 * 1024))).rejects.toThrow();
    expect(store.settled[0]?.ok).toBe(false);
    expect(await env.BLOBS.head(`test/short-${hex}`)).toBeNull();
  });

  it("finishes storing in the background when the client goes away", async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const hex = (await digestOf(bytes)).slice("sha256:".length);
    const source = sourceOf(bytes);
    const store = storing(`test/left-${hex}`, bytes.length, hex);
    const reader = streamWhileStoring(source.stream, store.target, 64 * 1024).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel("client went away");
    expect(store.background).toHaveLength(1);
    await Promise.all(store.background);
    expect(store.settled).toEqual([{ ok: true, error: null }]);
    expect((await env.BLOBS.head(`test/left-${hex}`))?.size).toBe(bytes.length);
  });

  it("reads the source only as fast as the client reads (no read-ahead)", async () => {
    const bytes = randomBytes(64 * 1024 * 10);
    const hex = (await digestOf(bytes)).slice("sha256:".length);
    const source = sourceOf(bytes);
    const store = storing(`test/pace-${hex}`, bytes.length, hex);
    const reader = streamWhileStoring(source.stream, store.target, 64 * 1024).getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Two source reads: the chunk delivered and the one held behind it.
    expect(source.reads()).toBeLessThanOrEqual(3);
    await reader.cancel();
    await Promise.all(store.background);
  });
});
