/**
 * One upstream download, two destinations: the bytes go to the client and into R2 at the
 * same time, at the pace of the slower of the two (each chunk is read only once both have
 * taken the previous one, so nothing piles up in memory).
 *
 * R2 checks the bytes against the digest as it stores them (the put's checksum option); the
 * last chunk is held back from the client until that check has passed, so a client never
 * receives a whole, well-formed response for bytes that do not match their digest: it sees
 * the transfer fail. If the client goes away, the download still completes into R2 in the
 * background (`keepAlive`), so the next pull finds the blob cached.
 */
import { readChunks } from "../bytes";

export interface StoreTarget {
  /** Where the bytes are written (the writable side of the R2 put's FixedLengthStream). */
  sink: WritableStream<Uint8Array>;
  /** Settles when R2 has stored and verified the bytes; rejects on a mismatch. */
  stored: Promise<unknown>;
  /** Called once the bytes are stored (link them) or failed; its promise is awaited before the last chunk. */
  settle(ok: boolean, error: unknown): Promise<void>;
  /** Keeps background work alive after the response (ExecutionContext.waitUntil). */
  keepAlive(work: Promise<unknown>): void;
  /** Called between chunks; lets the caller renew a lease while a long transfer runs. */
  onProgress?(): void;
}

/**
 * The source is read `chunkSize` bytes at a time (BYOB `readAtLeast` on a fetch body): the
 * network's own chunks are a few KiB, and each one would cost a round of promises on both
 * sides.
 */
export function streamWhileStoring(
  source: ReadableStream<Uint8Array>,
  target: StoreTarget,
  chunkSize = 256 * 1024,
): ReadableStream<Uint8Array> {
  const chunks = readChunks(source, chunkSize);
  const writer = target.sink.getWriter();
  let held: Uint8Array | null = null;
  let settled: Promise<void> | null = null;
  // Observed at once, so a failed put is never an unhandled rejection while chunks still flow.
  target.stored.catch(() => undefined);

  const settleOnce = (ok: boolean, error: unknown): Promise<void> => {
    settled ??= target.settle(ok, error);
    return settled;
  };

  /** Moves one chunk into R2 and returns it; null at the end, once R2 has verified everything. */
  const step = async (): Promise<Uint8Array | null> => {
    const { done, value } = await chunks.next();
    if (done) {
      await writer.close();
      await target.stored;
      await settleOnce(true, null);
      return null;
    }
    await writer.write(value);
    target.onProgress?.();
    return value;
  };

  const fail = async (error: unknown): Promise<void> => {
    await Promise.allSettled([writer.abort(error), chunks.return(undefined).then(() => source.cancel(error))]);
    await settleOnce(false, error);
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // Every pull delivers one chunk (or ends): the first one also reads the chunk to hold.
          if (held === null) held = await step();
          if (held === null) return controller.close();
          const next = await step();
          controller.enqueue(held);
          held = next;
          if (next === null) controller.close();
        } catch (error) {
          await fail(error);
          controller.error(error);
        }
      },
      cancel() {
        // The client left: finish the download into R2 anyway.
        target.keepAlive(
          (async () => {
            try {
              while ((await step()) !== null);
            } catch (error) {
              await fail(error);
            }
          })(),
        );
      },
    },
    // Read from the upstream only when the client asks for more: no read-ahead queue.
    { highWaterMark: 0 },
  );
}
