/**
 * The local front of `npm start` (scripts/tls-refusing-front.mjs) as clients meet it:
 *  - answers made before the request body was read (401, 404, 413, 416, 400) reach the client,
 *    and a keep-alive client's next request works (a drained small body keeps the
 *    connection; otherwise the answer says `Connection: close`);
 *  - malformed requests are answered 400/405/501 with an OCI error body, not workerd's
 *    plain-text 500 or 501;
 *  - lengths a request declares past the blob limit are answered at once.
 */
import { createHash } from "node:crypto";
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import { connect, type Socket } from "node:net";
import { describe, expect, inject, it } from "vitest";

const REPOSITORY = "front/keep-alive";
const MiB = 1024 * 1024;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Which connection carried the request (numbered by the agent's sockets). */
  connection: number;
}

/** A Node client that keeps one connection alive and reuses it, as Go's transport does. */
class KeepAliveClient {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly ids = new WeakMap<Socket, number>();
  private next = 0;

  send(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: Buffer; anonymous?: boolean } = {},
  ): Promise<Answer> {
    const url = new URL(path, inject("registryUrl"));
    const headers: Record<string, string> = { ...options.headers };
    if (!options.anonymous) headers.Authorization = inject("adminAuthorization");
    if (options.body !== undefined && headers["Content-Length"] === undefined)
      headers["Content-Length"] = String(options.body.length);
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const socket = req.socket as Socket;
          if (!this.ids.has(socket)) this.ids.set(socket, this.next++);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
            connection: this.ids.get(socket) ?? -1,
          });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
      req.end(options.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function errorCode(answer: Answer): string | undefined {
  return (JSON.parse(answer.body) as { errors: { code: string }[] }).errors[0]?.code;
}

async function startUpload(client: KeepAliveClient): Promise<string> {
  const started = await client.send("POST", `/v2/${REPOSITORY}/blobs/uploads/`);
  expect(started.status, started.body).toBe(202);
  return started.headers.location ?? "";
}

describe("answers given before the request body was read", () => {
  it("leave a keep-alive connection usable: 416, 404, 400 and 401 with small bodies, each followed by a POST", async () => {
    const client = new KeepAliveClient();
    try {
      const location = await startUpload(client);
      const chunk = Buffer.alloc(5000, 1);
      const early: [string, () => Promise<Answer>, number, string][] = [
        [
          "416 wrong range",
          () =>
            client.send("PATCH", location, {
              body: chunk,
              headers: { "Content-Range": `100-${100 + chunk.length - 1}` },
            }),
          416,
          "RANGE_INVALID",
        ],
        [
          "404 unknown upload",
          () =>
            client.send("PATCH", `/v2/${REPOSITORY}/blobs/uploads/00000000-0000-4000-8000-000000000000`, {
              body: chunk,
            }),
          404,
          "BLOB_UPLOAD_UNKNOWN",
        ],
        [
          "400 bad range",
          () => client.send("PATCH", location, { body: chunk, headers: { "Content-Range": "x-y" } }),
          400,
          "BLOB_UPLOAD_INVALID",
        ],
        [
          "401 challenge",
          () => client.send("PUT", `${location}?digest=${sha256(chunk)}`, { body: chunk, anonymous: true }),
          401,
          "UNAUTHORIZED",
        ],
      ];
      for (const [what, send, status, code] of early) {
        const refused = await send();
        expect(refused.status, `${what}: ${refused.body}`).toBe(status);
        expect(errorCode(refused), what).toBe(code);
        // The next POST goes over the same connection (the small body was read and dropped).
        const next = await client.send("POST", `/v2/${REPOSITORY}/blobs/uploads/`);
        expect(next.status, `POST after ${what}: ${next.body}`).toBe(202);
        expect(next.connection, `POST after ${what} reused the connection`).toBe(refused.connection);
      }
      // The session the refused requests named is intact and takes the chunk.
      const patched = await client.send("PATCH", location, {
        body: chunk,
        headers: { "Content-Range": `0-${chunk.length - 1}` },
      });
      expect(patched.status, patched.body).toBe(202);
    } finally {
      client.close();
    }
  });

  it("deliver an oversized manifest's 413 to a client that sends no Expect, and the next request works", async () => {
    const client = new KeepAliveClient();
    try {
      const manifest = Buffer.alloc(6 * MiB, 0x20);
      const refused = await client.send("PUT", `/v2/${REPOSITORY}/manifests/too-large`, {
        body: manifest,
        headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      });
      expect(refused.status, refused.body).toBe(413);
      expect(errorCode(refused)).toBe("SIZE_INVALID");
      // Either the front had the whole body before the answer (the connection stays), or the
      // rest was too much to read and drop and the answer said `Connection: close`: both ways
      // the client's next request works.
      const next = await client.send("POST", `/v2/${REPOSITORY}/blobs/uploads/`);
      expect(next.status, next.body).toBe(202);
    } finally {
      client.close();
    }
  });

  it("refuse a PATCH declaring 2^53 bytes or 100 GiB with 413 at once, and the next request works", async () => {
    const client = new KeepAliveClient();
    try {
      const location = await startUpload(client);
      for (const declared of [String(2 ** 53), String(100 * 1024 * MiB)]) {
        // Only the headers and a little of the body are ever sent.
        const refused = await new Promise<Answer>((resolve, reject) => {
          const url = new URL(location, inject("registryUrl"));
          const req = request(
            url,
            {
              method: "PATCH",
              agent: client.agent,
              headers: { Authorization: inject("adminAuthorization"), "Content-Length": declared },
            },
            (res) => {
              let body = "";
              res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
              res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, connection: 0 }));
            },
          );
          req.on("error", reject);
          req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10 s")));
          req.write(Buffer.alloc(1000));
        });
        expect(refused.status, refused.body).toBe(413);
        expect(errorCode(refused)).toBe("SIZE_INVALID");
        expect(refused.headers.connection).toBe("close");
      }
      const status = await client.send("GET", location);
      expect(status.status).toBe(204);
      expect(status.headers.range).toBe("0-0");
    } finally {
      client.close();
    }
  });
});

/** Sends raw bytes and returns everything the server sent back before closing or going quiet. */
function exchange(text: string | Buffer, quietMs = 1_500): Promise<string> {
  const [host, port] = inject("registryHost").split(":") as [string, string];
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) }, () => socket.write(text));
    let received = "";
    let timer = setTimeout(() => socket.destroy(), quietMs);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      clearTimeout(timer);
      timer = setTimeout(() => socket.destroy(), quietMs);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

function parseAnswer(raw: string): { status: number; headers: string; body: unknown } {
  const end = raw.indexOf("\r\n\r\n");
  const head = end < 0 ? raw : raw.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? "0");
  let body: unknown;
  try {
    body = JSON.parse(raw.slice(end + 4));
  } catch {
    body = raw.slice(end + 4);
  }
  return { status, headers: head, body };
}

describe("malformed requests", () => {
  const cases: [string, string, number, string][] = [
    [
      "duplicate Content-Length",
      "POST /v2/front/a/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      400,
      "SIZE_INVALID",
    ],
    [
      "Transfer-Encoding with Content-Length",
      "POST /v2/front/a/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      400,
      "SIZE_INVALID",
    ],
    ["a Host with a space", "GET /v2/ HTTP/1.1\r\nHost: bad host\r\n\r\n", 400, "UNSUPPORTED"],
    ["an unclosed IPv6 Host", "GET /v2/ HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, "UNSUPPORTED"],
    ["two Host headers", "GET /v2/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "UNSUPPORTED"],
    ["no Host in HTTP/1.1", "GET /v2/ HTTP/1.1\r\n\r\n", 400, "UNSUPPORTED"],
    ["an absolute-form target of another scheme", "GET ftp://x/v2/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, "UNSUPPORTED"],
    ["OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 501, "UNSUPPORTED"],
    ["CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, "UNSUPPORTED"],
    ["an unknown method", "BREW /v2/ HTTP/1.1\r\nHost: x\r\n\r\n", 501, "UNSUPPORTED"],
    ["a request line that is not HTTP", "HELLO\r\n\r\n", 501, "UNSUPPORTED"],
  ];

  for (const [what, raw, status, code] of cases) {
    it(`${what}: ${status} ${code} with an OCI error body`, async () => {
      const answer = parseAnswer(await exchange(raw));
      expect(answer.status, answer.headers).toBe(status);
      expect(answer.headers).toMatch(/^Content-Type: application\/json$/im);
      expect(answer.body, answer.headers).toMatchObject({ errors: [{ code }] });
    });
  }

  it("an absolute-form http:// target is served like its origin form (RFC 9112 §3.2.2)", async () => {
    const answer = parseAnswer(
      await exchange(
        `GET http://127.0.0.1/v2/ HTTP/1.1\r\nHost: ignored.example\r\nAuthorization: ${inject("adminAuthorization")}\r\n\r\n`,
      ),
    );
    expect(answer.status, answer.headers).toBe(200);
  });

  it("an HTTP/1.0 request without Host is served", async () => {
    const answer = parseAnswer(
      await exchange(`GET /v2/ HTTP/1.0\r\nAuthorization: ${inject("adminAuthorization")}\r\n\r\n`),
    );
    expect(answer.status, answer.headers).toBe(200);
  });

  it("a refused request does not spoil the connection's next request when its body was read", async () => {
    const raw = await exchange(
      "GET /v2/ HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 3\r\n\r\nabc" +
        `GET /v2/ HTTP/1.1\r\nHost: x\r\nAuthorization: ${inject("adminAuthorization")}\r\n\r\n`,
    );
    expect(raw.match(/HTTP\/1\.1 \d{3}/g)).toEqual(["HTTP/1.1 400", "HTTP/1.1 200"]);
  });
});
