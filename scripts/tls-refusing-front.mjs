// A TCP front for the local dev server. Go clients (docker, podman, skopeo, containerd) try
// HTTPS before plain HTTP; workerd's HTTP listener never answers a TLS ClientHello, so each
// such client waited 10 s for its TLS handshake timeout on every command. The front closes
// TLS attempts at once, so clients fall back to HTTP immediately, and pipes everything else
// to `wrangler dev` unchanged. Local development only: on Cloudflare, TLS ends at the edge.
import net from "node:net";

const TLS_HANDSHAKE_RECORD = 0x16;

/** Listens on host:port and forwards plain-HTTP connections to 127.0.0.1:targetPort. */
export function startTlsRefusingFront({ host, port, targetPort }) {
  const server = net.createServer({ noDelay: true }, (client) => {
    client.once("data", (first) => {
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        client.destroy();
        return;
      }
      client.pause();
      const upstream = net.connect({ host: "127.0.0.1", port: targetPort, noDelay: true }, () => {
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
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

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
