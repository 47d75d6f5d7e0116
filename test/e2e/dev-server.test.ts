/**
 * The dev server (`npm start`) as Go registry clients meet it: they try HTTPS first and fall
 * back to plain HTTP only when that fails. The server must refuse TLS at once; if it waited,
 * every skopeo, docker or podman command would stall for Go's 10 s TLS handshake timeout.
 */
import { connect } from "node:net";
import { describe, expect, inject, it } from "vitest";
import { registryFetch } from "./support/context";
import { describeRun, dockerRef, runSkopeo } from "./support/skopeo";

/** Sends the start of a TLS ClientHello; resolves with what came back and how long until close. */
function sendTlsHello(host: string, port: number): Promise<{ closedAfterMs: number; received: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let received = 0;
    const socket = connect({ host, port }, () => {
      // A TLS 1.0 handshake record header and a few bytes of ClientHello.
      socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03]));
    });
    socket.setTimeout(15_000, () => {
      socket.destroy();
      reject(new Error("the server kept a TLS ClientHello open for 15 s"));
    });
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    socket.on("error", () => undefined); // a reset is as good as a close here
    socket.on("close", () => resolve({ closedAfterMs: Date.now() - started, received }));
  });
}

describe("dev server", () => {
  it("answers GET /v2/ over plain HTTP", async () => {
    const response = await registryFetch("GET", "/v2/");
    expect(response.status).toBe(200);
    expect(response.headers.get("Docker-Distribution-API-Version")).toBe("registry/2.0");
  });

  it("closes a TLS ClientHello at once", async () => {
    const [host, port] = inject("registryHost").split(":") as [string, string];
    const { closedAfterMs, received } = await sendTlsHello(host, Number(port));
    expect(closedAfterMs).toBeLessThan(2_000);
    expect(received).toBe(0);
  });

  it("lets skopeo fall back from HTTPS to HTTP without waiting", async () => {
    const result = await runSkopeo(["list-tags", "--tls-verify=false", dockerRef("team-a/no-such-repo")], {
      debug: true,
    });
    expect(result.stderr, describeRun(result)).toMatch(/Ping https:\/\/\S+ err/);
    // /v2/ answers 401 with the token challenge (it needs credentials).
    expect(result.stderr, describeRun(result)).toMatch(/Ping http:\/\/\S+ status 401/);
    // Go gives up on a TLS handshake after 10 s; a fast refusal takes milliseconds.
    expect(result.durationMs, describeRun(result)).toBeLessThan(8_000);
  });
});
