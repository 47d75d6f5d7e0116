/**
 * Upload sessions over real sockets: a chunk whose connection drops mid-body changes nothing,
 * and a session survives a restart of the runtime and is resumed where it stopped.
 */
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDir } from "./support/context";
import { startRegistryProcess } from "./support/registry-process";

const dir = useTempDir("resume-");

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

let authorization = "";

async function send(url: string, method: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method, body, headers: { Authorization: authorization, ...headers }, signal: AbortSignal.timeout(60_000) });
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
      const first = await send(`${registry.url}${location}`, "PATCH", blob.subarray(0, 1_000_000), { "Content-Range": "0-999999" });
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
      const rest = await send(`${registry.url}${location}`, "PATCH", blob.subarray(1_000_000), { "Content-Range": `1000000-${blob.length - 1}` });
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
