import { describe, expect, it } from "vitest";
import { concatBytes, readAtMost, readChunks } from "./bytes";

function pieces(total: number, piece: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < total; at += piece) {
    out.push(Uint8Array.from({ length: Math.min(piece, total - at) }, (_, i) => (at + i) % 251));
  }
  return out;
}

function plainStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

function byteStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk.slice());
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>, size: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of readChunks(stream, size)) out.push(chunk);
  return out;
}

describe("readChunks", () => {
  for (const [kind, make] of [
    ["plain", plainStream],
    ["byte", byteStream],
  ] as const) {
    it(`gathers a ${kind} stream into chunks of at least the size, the last shorter`, async () => {
      const source = pieces(10_000, 700);
      const chunks = await collect(make(source), 4096);
      expect(
        chunks
          .map((c) => c.length)
          .slice(0, -1)
          .every((n) => n >= 4096),
      ).toBe(true);
      expect(chunks.at(-1)?.length).toBeGreaterThan(0);
      const joined = concatBytes(
        chunks,
        chunks.reduce((n, c) => n + c.length, 0),
      );
      expect(joined).toEqual(concatBytes(source, 10_000));
    });

    it(`yields nothing for an empty ${kind} stream`, async () => {
      expect(await collect(make([]), 4096)).toEqual([]);
    });

    it(`releases a ${kind} stream when the reader stops early`, async () => {
      const stream = make(pieces(10_000, 1000));
      for await (const chunk of readChunks(stream, 2000)) {
        expect(chunk.length).toBeGreaterThanOrEqual(2000);
        break;
      }
      expect(stream.locked).toBe(false);
    });
  }
});

/** A stream that delivers `chunks` and then stops arriving, without ending. */
function stalling(
  chunks: Uint8Array[],
  type?: "bytes",
): { stream: ReadableStream<Uint8Array>; cancelled: Promise<unknown> } {
  let next = 0;
  let onCancel: (reason: unknown) => void = () => undefined;
  const cancelled = new Promise((resolve) => (onCancel = resolve));
  const source = {
    pull(controller: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController) {
      const chunk = chunks[next++];
      if (chunk !== undefined) controller.enqueue(chunk.slice());
      else return new Promise<void>(() => undefined); // never more
      return undefined;
    },
    cancel: (reason: unknown) => onCancel(reason),
  };
  const stream =
    type === "bytes" ? new ReadableStream({ type: "bytes", ...source }) : new ReadableStream<Uint8Array>(source);
  return { stream, cancelled };
}

describe("reading a request body that stops arriving", () => {
  const reading = { timeout: { ms: 200, error: () => new Error("stalled") } };

  for (const kind of ["plain", "bytes"] as const) {
    it(`readChunks ends a ${kind} stream with the timeout's error and cancels it`, async () => {
      const { stream, cancelled } = stalling(pieces(100_000, 10_000), kind === "bytes" ? "bytes" : undefined);
      const started = Date.now();
      let received = 0;
      await expect(
        (async () => {
          for await (const chunk of readChunks(stream, 1024 * 1024, reading)) received += chunk.length;
        })(),
      ).rejects.toThrow("stalled");
      // What was read before the stall may or may not have been handed out: the read fails anyway.
      expect(received).toBeLessThanOrEqual(100_000);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await cancelled).toBeInstanceOf(Error);
    });
  }

  it("readChunks with a timeout still reads a steady body whole", async () => {
    const chunks = await (async () => {
      const out: Uint8Array[] = [];
      for await (const chunk of readChunks(byteStream(pieces(300_000, 7_000)), 64 * 1024, reading)) out.push(chunk);
      return out;
    })();
    expect(chunks.reduce((n, c) => n + c.length, 0)).toBe(300_000);
  });

  it("readChunks with a timeout still hands out whole chunks, and reports progress after every read", async () => {
    const source = pieces(2_100_000, 70_000);
    const whole = concatBytes(source, 2_100_000);
    for (const make of [byteStream, plainStream]) {
      let progress = 0;
      const onProgress = (): Promise<void> => {
        progress++;
        return Promise.resolve();
      };
      const chunks: Uint8Array[] = [];
      for await (const chunk of readChunks(make(source), 1024 * 1024, { ...reading, onProgress })) chunks.push(chunk);
      expect(chunks.slice(0, -1).every((chunk) => chunk.length >= 1024 * 1024)).toBe(true);
      if (make === byteStream)
        expect(chunks.map((chunk) => chunk.length)).toEqual([1024 * 1024, 1024 * 1024, 2_100_000 - 2 * 1024 * 1024]);
      expect(concatBytes(chunks, 2_100_000)).toEqual(whole);
      expect(progress).toBeGreaterThanOrEqual(3);
    }
  });

  it("readAtMost ends a stalled body with the timeout's error", async () => {
    const { stream } = stalling(pieces(1000, 100));
    await expect(readAtMost(stream, 10_000, () => new Error("too large"), reading.timeout)).rejects.toThrow("stalled");
  });
});
