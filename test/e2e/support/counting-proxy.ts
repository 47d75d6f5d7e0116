/**
 * A plain HTTP proxy on 127.0.0.1 in front of a registry, counting the blob bytes it forwards
 * (bodies of POST, PATCH and PUT requests to `/blobs/uploads/`): what the registry behind it received.
 * While the registry is stopped, requests get 502, as from a load balancer.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface CountingProxy {
  url: string;
  /** Blob upload bytes forwarded so far. */
  readonly uploadedBytes: number;
  close(): Promise<void>;
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  let uploadedBytes = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const counts =
      ["POST", "PATCH", "PUT"].includes(incoming.method ?? "") && (incoming.url ?? "").includes("/blobs/uploads/");
    const forward = request(
      {
        host: "127.0.0.1",
        port: targetPort,
        method: incoming.method,
        path: incoming.url,
        // The Host stays the proxy's, so the registry's token realm and Locations name the proxy.
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on("error", () => {
      if (!outgoing.headersSent) outgoing.writeHead(502, { "Content-Type": "text/plain" });
      outgoing.end("the registry is not running");
    });
    incoming.on("data", (chunk: Buffer) => {
      if (counts) uploadedBytes += chunk.length;
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get uploadedBytes() {
      return uploadedBytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
