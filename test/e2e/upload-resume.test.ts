/**
 * Upload sessions over real sockets: a chunk whose connection drops mid-body changes nothing,
 * a session survives a restart of the runtime and is resumed where it stopped, a registry
 * killed (kill -9) in the middle of a PATCH lets the client resume within the 30 s lease, and
 * a body that stops arriving ends with 408.
 */
import { createHash, randomBytes } from "node:crypto";
import { request, type ClientRequest } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDir } from "./support/context";
import { signalGroup } from "./support/process-groups";
import { startRegistryProcess } from "./support/registry-process";

const dir = useTempDir("resume-");

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

let authorization = "";

async function send(
  url: string,
  method: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method,
    body,
    headers: { Authorization: authorization, ...headers },
    signal: AbortSignal.timeout(60_000),
  });
}

/** Sends part of a PATCH body and then drops the connection. */
function patchAndDrop(url: string, sent: Buffer, declared: number | null): Promise<void> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { Authorization: authorization };
    if (declared !== null) headers["Content-Length"] = String(declared);
    const req = request(url, { method: "PATCH", headers }, (res) => {
      res.resume();
      resolve();
    });
    req.on("error", () => resolve());
    req.write(sent, () => setTimeout(() => req.destroy(), 200));
  });
}

describe("upload sessions", () => {
  it("ignore a chunk whose connection drops, and survive a restart of the runtime", async () => {
    const stateDir = join(dir.path, "state");
    const logPath = join(dir.path, "registry.log");
    const blob = randomBytes(3 * 1024 * 1024);
    const digest = sha256(blob);
    const name = "team-a/resumed";

    let registry = await startRegistryProcess(stateDir, logPath);
    authorization = registry.adminAuthorization;
    let location: string;
    try {
      const started = await send(`${registry.url}/v2/${name}/blobs/uploads/`, "POST");
      expect(started.status).toBe(202);
      location = started.headers.get("Location")!;
      const first = await send(`${registry.url}${location}`, "PATCH", blob.subarray(0, 1_000_000), {
        "Content-Range": "0-999999",
      });
      expect(first.status).toBe(202);
      // Both with a declared length and with chunked encoding, a dropped chunk leaves no trace.
      await patchAndDrop(`${registry.url}${location}`, blob.subarray(1_000_000, 1_500_000), 2_000_000);
      await patchAndDrop(`${registry.url}${location}`, blob.subarray(1_000_000, 1_500_000), null);
      const status = await send(`${registry.url}${location}`, "GET");
      expect(status.status).toBe(204);
      expect(status.headers.get("Range")).toBe("0-999999");
    } finally {
      await registry.stop();
    }

    registry = await startRegistryProcess(stateDir, logPath, { port: registry.port, secrets: registry.secrets });
    try {
      const status = await send(`${registry.url}${location}`, "GET");
      expect(status.status).toBe(204);
      expect(status.headers.get("Range")).toBe("0-999999");
      const rest = await send(`${registry.url}${location}`, "PATCH", blob.subarray(1_000_000), {
        "Content-Range": `1000000-${blob.length - 1}`,
      });
      expect(rest.status).toBe(202);
      const done = await send(`${registry.url}${location}?digest=${digest}`, "PUT");
      expect(done.status).toBe(201);
      const pulled = Buffer.from(await (await send(`${registry.url}/v2/${name}/blobs/${digest}`, "GET")).arrayBuffer());
      expect(sha256(pulled)).toBe(digest);
    } finally {
      await registry.stop();
    }
  });
});

/** Starts a PATCH of `declared` bytes, sends `sent` of them and keeps the request open. */
function patchAndHold(
  url: string,
  headers: Record<string, string>,
  sent: Buffer,
): { req: ClientRequest; answer: Promise<{ status: number; connection: string | undefined } | Error> } {
  let req!: ClientRequest;
  const answer = new Promise<{ status: number; connection: string | undefined } | Error>((resolve) => {
    req = request(url, { method: "PATCH", headers: { Authorization: authorization, ...headers } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
    });
    req.on("error", (error) => resolve(error));
    req.write(sent);
  });
  return { req, answer };
}

describe("a registry killed in the middle of a PATCH", () => {
  it(
    "shows the committed offset after a restart and takes the resumed chunk within the lease",
    { timeout: 240_000 },
    async () => {
      const stateDir = join(dir.path, "state");
      const logPath = join(dir.path, "registry.log");
      const blob = randomBytes(9 * 1024 * 1024);
      const digest = sha256(blob);
      const name = "team-a/crashed";
      const committed = 1_000_000;

      let registry = await startRegistryProcess(stateDir, logPath);
      authorization = registry.adminAuthorization;
      const started = await send(`${registry.url}/v2/${name}/blobs/uploads/`, "POST");
      expect(started.status).toBe(202);
      const location = started.headers.get("Location")!;
      const first = await send(`${registry.url}${location}`, "PATCH", blob.subarray(0, committed), {
        "Content-Range": `0-${committed - 1}`,
      });
      expect(first.status).toBe(202);

      // A PATCH of the rest, cut off by the kill after 2 MiB of it.
      const rest = blob.subarray(committed);
      const inFlight = patchAndHold(
        `${registry.url}${location}`,
        { "Content-Range": `${committed}-${blob.length - 1}`, "Content-Length": String(rest.length) },
        rest.subarray(0, 2 * 1024 * 1024),
      );
      // The session is held by that PATCH: another writer is refused.
      let held = 0;
      for (let tries = 0; tries < 20 && held !== 416; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        held = (
          await send(`${registry.url}${location}`, "PATCH", Buffer.from("x"), {
            "Content-Range": `${committed}-${committed}`,
          })
        ).status;
      }
      expect(held).toBe(416);

      signalGroup(registry.child.pid!, "SIGKILL");
      const killedAt = Date.now();
      inFlight.req.destroy();
      await new Promise((resolve) => registry.child.once("exit", resolve));

      // The same state, port and secrets; request bodies time out after 2 s in this one.
      registry = await startRegistryProcess(stateDir, logPath, {
        port: registry.port,
        secrets: registry.secrets,
        env: { REQUEST_BODY_TIMEOUT_SECONDS: "2" },
      });
      try {
        const status = await send(`${registry.url}${location}`, "GET");
        expect(status.status).toBe(204);
        expect(status.headers.get("Range")).toBe(`0-${committed - 1}`);

        // The dead PATCH's hold runs out 30 s after it was last renewed, at the latest: retried
        // every second, the chunk is taken then (or at once, if the restart took longer).
        const restartedAfterMs = Date.now() - killedAt;
        let resumed = await send(`${registry.url}${location}`, "PATCH", rest, {
          "Content-Range": `${committed}-${blob.length - 1}`,
        });
        while (resumed.status === 416 && Date.now() - killedAt < 60_000) {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          resumed = await send(`${registry.url}${location}`, "PATCH", rest, {
            "Content-Range": `${committed}-${blob.length - 1}`,
          });
        }
        const resumedAfterMs = Date.now() - killedAt;
        console.log(
          `[upload-resume] restarted ${(restartedAfterMs / 1000).toFixed(1)} s after the kill; the resumed PATCH was taken ${(resumedAfterMs / 1000).toFixed(1)} s after it`,
        );
        expect(resumed.status, await resumed.clone().text()).toBe(202);
        expect(resumedAfterMs).toBeLessThan(Math.max(33_000, restartedAfterMs + 3_000));

        const done = await send(`${registry.url}${location}?digest=${digest}`, "PUT");
        expect(done.status).toBe(201);
        const pulled = Buffer.from(
          await (await send(`${registry.url}/v2/${name}/blobs/${digest}`, "GET")).arrayBuffer(),
        );
        expect(sha256(pulled)).toBe(digest);

        // A body that stops arriving ends with 408 (here after 2 s) and leaves its session free.
        const session = await send(`${registry.url}/v2/${name}/blobs/uploads/`, "POST");
        const stalledAt = Date.now();
        const stalled = patchAndHold(
          `${registry.url}${session.headers.get("Location")!}`,
          { "Content-Length": String(5 * 1024 * 1024) },
          randomBytes(100_000),
        );
        const answer = await stalled.answer;
        stalled.req.destroy();
        expect(answer).toEqual({ status: 408, connection: "close" });
        expect(Date.now() - stalledAt).toBeLessThan(15_000);
        const after = await send(`${registry.url}${session.headers.get("Location")!}`, "PATCH", Buffer.from("abc"));
        expect(after.status).toBe(202);
        expect(after.headers.get("Range")).toBe("0-2");
      } finally {
        await registry.stop();
      }
    },
  );
});
