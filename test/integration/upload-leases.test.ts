/**
 * Upload session leases: a request that dies holding a session (a crash, a killed process)
 * blocks it for UPLOAD_LEASE_MS (30 s), not 15 minutes; a live writer keeps its hold by
 * renewing it as its body streams in; and a writer whose lease moved on is fenced: its commit,
 * close, cancel and part reservations are refused, the objects it writes never overwrite the
 * new writer's, and the part numbers it was given are never given again.
 *
 * One test, because the lease has to run out for real (about 31 s); every case waits for the
 * same expiry.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { repositoryObject } from "../../src/repository/stub";
import { UPLOAD_LEASE_MS } from "../../src/repository/upload-session";
import type { UploadSession } from "../../src/storage/upload-writer";
import { UploadWriter, type SessionHold } from "../../src/storage/upload-writer";
import {
  adminAuthorization,
  call,
  digestOf,
  expectError,
  ORIGIN,
  randomBytes,
  startSession,
} from "../support/registry";

const NAME = "team-a/leases";
const MiB = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sessionId(location: string): string {
  return location.split("/").pop() ?? "";
}

async function range(location: string): Promise<string | null> {
  const status = await call("GET", location);
  expect(status.status).toBe(204);
  return status.headers.get("Range");
}

/** A PATCH answered in this isolate (its body is a stream of this test's). */
async function patchInProcess(location: string, body: ReadableStream<Uint8Array>): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${location}`, {
    method: "PATCH",
    body,
    headers: { Authorization: adminAuthorization() },
  });
  const response = await app.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A body that delivers `pieces` pieces of `size` bytes, one every `everyMs`. */
function slowBody(pieces: number, size: number, everyMs: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === pieces) {
        controller.close();
        return;
      }
      if (sent > 0) await sleep(everyMs);
      sent++;
      controller.enqueue(randomBytes(size));
    },
  });
}

/**
 * The hold of a writer that lost its lease without noticing yet (its next renewal is not due):
 * it goes on writing until it asks the object for something.
 */
function staleHold(lease: string, id: string): SessionHold {
  const repository = repositoryObject(env, NAME);
  return {
    writer: lease,
    async keepAlive() {
      // Not due yet: the writer does not know.
    },
    async reserveParts(count) {
      const reserved = await repository.reserveParts(id, lease, count);
      if (reserved.status !== "ok") throw new Error(`reservation ${reserved.status}`);
      return reserved;
    },
  };
}

const limits = {
  maxBytes: 100 * MiB,
  tooLarge: () => new Error("too large"),
  timeout: { ms: 60_000, error: () => new Error("stalled") },
};

describe("upload session leases", () => {
  it(
    "free a dead writer's session within the short lease, keep a live writer's, and fence the dead one",
    { timeout: 120_000 },
    async () => {
      const repository = repositoryObject(env, NAME);

      // A: a writer that took its session and died (it never renews).
      const abandoned = await startSession(NAME);
      const begunA = await repository.beginChunk(sessionId(abandoned), 0);
      expect(begunA.status).toBe("ok");
      const leaseA = begunA.status === "ok" ? begunA.lease : "";

      // B: a stale writer of a session whose first object it may still write.
      const whole = await startSession(NAME);
      const begunB = await repository.beginChunk(sessionId(whole), 0);
      const leaseB = begunB.status === "ok" ? begunB.lease : "";
      const sessionAsBSawIt = begunB.status === "ok" ? begunB.session : (undefined as unknown as UploadSession);

      // C: a session with a shared multipart upload (parts 1 and 2), whose stale writer reserved part numbers.
      const parted = await startSession(NAME);
      const partedBytes = [randomBytes(9 * MiB), randomBytes(9 * MiB)];
      expect((await call("PATCH", parted, { body: partedBytes[0] })).status).toBe(202);
      expect(
        (
          await call("PATCH", parted, {
            body: partedBytes[1],
            headers: { "Content-Range": `${9 * MiB}-${18 * MiB - 1}` },
          })
        ).status,
      ).toBe(202);
      const begunC = await repository.beginChunk(sessionId(parted), null);
      const leaseC = begunC.status === "ok" ? begunC.lease : "";
      const staleReservation = await repository.reserveParts(sessionId(parted), leaseC, 4);
      expect(staleReservation).toEqual({ status: "ok", from: 3, through: 6 });

      // D: a live writer whose body takes longer than the lease, renewing its hold as it goes.
      const live = await startSession(NAME);
      const started = Date.now();
      const liveWrite = patchInProcess(live, slowBody(10, 100_000, 4_000));

      // Held sessions refuse other writers.
      await expectError(await call("PATCH", abandoned, { body: randomBytes(10) }), 416, "RANGE_INVALID");

      // Past the lease (counted from the last renewal: the dead writers' grants).
      await sleep(UPLOAD_LEASE_MS + 1_000 - (Date.now() - started));

      // D still holds its session: it renewed while its bytes came in.
      await expectError(await call("PATCH", live, { body: randomBytes(10) }), 416, "RANGE_INVALID");

      // A's session is free again: the next PATCH is taken.
      const resumed = await call("PATCH", abandoned, {
        body: randomBytes(1000),
        headers: { "Content-Range": "0-999" },
      });
      expect(resumed.status, await resumed.clone().text()).toBe(202);
      // ... and A is fenced: nothing of its is accepted any more.
      const idA = sessionId(abandoned);
      expect(await repository.renewChunk(idA, leaseA)).toBe(false);
      expect(await repository.reserveParts(idA, leaseA, 4)).toEqual({ status: "lost" });
      expect(await repository.commitChunk(idA, leaseA, { ...(await repository.getUpload(idA))!, offset: 5 })).toBe(
        false,
      );
      expect(await repository.closeUpload(idA, leaseA)).toBe(false);
      expect(await repository.cancelUpload(idA, leaseA)).toBe(false);
      expect(await range(abandoned)).toBe("0-999");

      // B's session is taken over by a new writer; the stale writer B then stores its own first
      // object: under its own key, so the new writer's object is untouched, and its commit is
      // refused (what it stored is then discarded).
      const fresh = randomBytes(2 * MiB);
      expect((await call("PATCH", whole, { body: fresh })).status).toBe(202);
      const freshKey = (await repository.getUpload(sessionId(whole)))!.objectKey;
      const staleWriter = await UploadWriter.open(
        env.BLOBS,
        sessionAsBSawIt,
        limits,
        staleHold(leaseB, sessionId(whole)),
      );
      const staleBytes = randomBytes(2 * MiB);
      // A Blob's stream is bytes; the runtime's types leave its chunk type open.
      const staleStream = new Blob([staleBytes]).stream() as ReadableStream<Uint8Array>;
      expect(await staleWriter.storeWhole(staleStream, staleBytes.length)).toBe(staleBytes.length);
      const staleState = await staleWriter.persist();
      expect(staleState.objectKey).not.toBe(freshKey);
      expect(await repository.commitChunk(sessionId(whole), leaseB, staleState)).toBe(false);
      await staleWriter.discardCreated();
      expect(await env.BLOBS.head(staleState.objectKey)).toBeNull();
      expect((await env.BLOBS.head(freshKey))?.size).toBe(fresh.length);
      const closedWhole = await call("PUT", `${whole}?digest=${await digestOf(fresh)}`);
      expect(closedWhole.status, await closedWhole.clone().text()).toBe(201);
      const pulledWhole = new Uint8Array(
        await (await call("GET", `/v2/${NAME}/blobs/${await digestOf(fresh)}`)).arrayBuffer(),
      );
      expect(await digestOf(pulledWhole)).toBe(await digestOf(fresh));

      // C: the new writer gets part numbers after the stale writer's 3..6, so the stale writer's
      // late parts (written here, garbage) cannot replace any of the new writer's.
      const third = randomBytes(9 * MiB);
      const patched = await call("PATCH", parted, {
        body: third,
        headers: { "Content-Range": `${18 * MiB}-${27 * MiB - 1}` },
      });
      expect(patched.status, await patched.clone().text()).toBe(202);
      const partedSession = (await repository.getUpload(sessionId(parted)))!;
      expect(partedSession.partNumbers.slice(0, 2)).toEqual([1, 2]);
      expect(Math.min(...partedSession.partNumbers.slice(2))).toBeGreaterThan(6);
      const shared = env.BLOBS.resumeMultipartUpload(partedSession.objectKey, partedSession.multipartId!);
      for (let part = 3; part <= 6; part++) await shared.uploadPart(part, randomBytes(partedSession.partSize));
      expect(await repository.commitChunk(sessionId(parted), leaseC, partedSession)).toBe(false);
      const all = new Uint8Array(27 * MiB);
      all.set(partedBytes[0]!, 0);
      all.set(partedBytes[1]!, 9 * MiB);
      all.set(third, 18 * MiB);
      const closedParted = await call("PUT", `${parted}?digest=${await digestOf(all)}`);
      expect(closedParted.status, await closedParted.clone().text()).toBe(201);
      const pulledParted = new Uint8Array(
        await (await call("GET", `/v2/${NAME}/blobs/${await digestOf(all)}`)).arrayBuffer(),
      );
      expect(await digestOf(pulledParted)).toBe(await digestOf(all));

      // D finishes with every byte.
      const done = await liveWrite;
      expect(done.status, await done.clone().text()).toBe(202);
      expect(done.headers.get("Range")).toBe(`0-${10 * 100_000 - 1}`);
    },
  );
});
