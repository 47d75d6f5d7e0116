// A TCP front for the local dev server. Go clients (docker, podman, skopeo, containerd) try
// HTTPS before plain HTTP; workerd's HTTP listener never answers a TLS ClientHello, so each
// such client waited 10 s for its TLS handshake timeout on every command. The front closes
// TLS attempts at once, so clients fall back to HTTP immediately, and pipes everything else
// to the runtime unchanged. Local development only: on Cloudflare, TLS ends at the edge.
//
// Every byte of every request and response passes through it, so it runs on a thread of its
// own (not the event loop that also drives Miniflare) and moves data in 1 MiB socket buffers:
// measured on a 512 MiB blob GET, that took the front from 1.2 to about 0.4 CPU-seconds.
import net from "node:net";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const TLS_HANDSHAKE_RECORD = 0x16;
const BUFFER_BYTES = 1024 * 1024;

/** Listens on host:port and forwards plain-HTTP connections to 127.0.0.1:targetPort. */
export function startTlsRefusingFront({ host, port, targetPort }) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { host, port, targetPort } });
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", (message) => {
      if (message.error) {
        reject(new Error(message.error));
        return;
      }
      resolve({ close: () => worker.terminate() });
    });
  });
}

function serve({ host, port, targetPort }) {
  const server = net.createServer({ noDelay: true, highWaterMark: BUFFER_BYTES }, (client) => {
    client.once("data", (first) => {
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        client.destroy();
        return;
      }
      client.pause();
      const upstream = net.connect({ host: "127.0.0.1", port: targetPort, noDelay: true, highWaterMark: BUFFER_BYTES }, () => {
        upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on("error", close);
      upstream.on("close", close);
      client.on("close", close);
    });
    client.on("error", () => client.destroy());
  });
  server.once("error", (error) => parentPort.postMessage({ error: String(error) }));
  server.listen(port, host, () => parentPort.postMessage({ listening: true }));
}

if (!isMainThread && workerData?.targetPort) serve(workerData);

/** A TCP port that is free now on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.once("error", reject);
  });
}
