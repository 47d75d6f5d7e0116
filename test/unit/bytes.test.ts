import { describe, expect, it } from "vitest";
import { concatBytes, readChunks } from "../../src/bytes";

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
  for (const [kind, make] of [["plain", plainStream], ["byte", byteStream]] as const) {
    it(`gathers a ${kind} stream into chunks of at least the size, the last shorter`, async () => {
      const source = pieces(10_000, 700);
      const chunks = await collect(make(source), 4096);
      expect(chunks.map((c) => c.length).slice(0, -1).every((n) => n >= 4096)).toBe(true);
      expect(chunks.at(-1)?.length).toBeGreaterThan(0);
      const joined = concatBytes(chunks, chunks.reduce((n, c) => n + c.length, 0));
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
