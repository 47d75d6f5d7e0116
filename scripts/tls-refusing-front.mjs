// The local front of `npm start`: an HTTP/1.1 server before workerd that does, for the local
// registry, what Cloudflare's edge does in production. Local development only.
//
//  - Go clients (docker, podman, skopeo, containerd) try HTTPS before plain HTTP; workerd's
//    listener never answers a TLS ClientHello, so each waited 10 s for its handshake timeout.
//    A connection whose first byte is a TLS handshake record is closed at once.
//  - Malformed requests that workerd answers with a plain-text 500 or 501 (duplicate
//    Content-Length, Transfer-Encoding with Content-Length, a bad or missing Host, an
//    absolute-form target of another scheme, `OPTIONS *`, CONNECT, unknown methods) are
//    answered here with 400, 405 or 501 and an OCI error body. An absolute-form `http://`
//    target is accepted and passed on in origin form (RFC 9112 §3.2.2).
//  - Every request goes to workerd over a connection of its own. When the Worker answers
//    before it has read the request body (a 401 challenge, 404, 413, 416, 400...), workerd drops
//    that connection without saying so, and a keep-alive client's next request on it failed
//    with a bare EOF (Go does not retry a POST or PUT). Here the client's connection stays
//    the front's: the rest of a small body is read and dropped, so the connection stays
//    usable; otherwise the answer says `Connection: close` and the rest of the body is read
//    for a few seconds more (a lingering close), so that a client still sending gets the
//    answer instead of a reset.
//  - `Expect: 100-continue`: workerd never answers it, so clients waited 1 s (curl, Go) per
//    such request; the front lets the body come once the Worker has not refused the request
//    within 100 ms.
//  - CF-Connecting-IP is set to the client's address and Miniflare's own `MF-*` control
//    headers are dropped, as the edge would never pass them from a client.
//
// Every byte of every request and response passes through it, so it runs on a thread of its
// own (not the event loop that also drives Miniflare) and moves data in 1 MiB socket buffers.
import http from "node:http";
import net from "node:net";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { ResponseParser } from "./http-response-parser.mjs";

const TLS_HANDSHAKE_RECORD = 0x16;
const BUFFER_BYTES = 1024 * 1024;
/** An unread request body up to this many bytes is read and dropped; the connection stays open. */
const DRAIN_MAX_BYTES = 1024 * 1024;
/** After an answer that closes the connection, the rest of the request is read this long at most. */
const LINGER_MS = 5_000;
/**
 * workerd never answers `Expect: 100-continue` itself, so a client that asks waits for its
 * own timeout (curl and Go: 1 s) on every such request. The front tells it to go on once the
 * Worker has had this long to refuse the request without reading its body (a 401 or 413 comes
 * within milliseconds; the client then never sends the body).
 */
const CONTINUE_AFTER_MS = 100;
/** Headers of one connection, not to be passed on (RFC 9110 §7.6.1), plus ones the front sets. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "cf-connecting-ip",
]);
const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE";

/** Listens on host:port and forwards plain-HTTP requests to 127.0.0.1:targetPort. */
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

// ---- answers made by the front --------------------------------------------------------------

const STATUS_TEXT = {
  400: "Bad Request",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  502: "Bad Gateway",
};

/** The OCI error body and headers of an answer made by the front itself. */
function ociError(status, code, message, extra = {}) {
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  const headers = {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(body)),
    "Docker-Distribution-API-Version": "registry/2.0",
    ...extra,
  };
  return { status, headers, body };
}

/** An answer written straight to a socket whose request could not be parsed; closes it. */
function writeRawAndClose(socket, answer) {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const lines = [`HTTP/1.1 ${answer.status} ${STATUS_TEXT[answer.status] ?? "Error"}`];
  for (const [name, value] of Object.entries(answer.headers)) lines.push(`${name}: ${value}`);
  lines.push("Connection: close", "", "");
  socket.end(lines.join("\r\n") + answer.body);
  linger(socket);
}

/**
 * Lets a connection whose answer said `Connection: close` end gracefully: the front's side is
 * closed after the answer, and what the client still sends is read and dropped until it
 * closes too or LINGER_MS passes. Closing with unread bytes would reset the connection, and a
 * client still sending its body would see the reset instead of the answer.
 */
function linger(socket) {
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/** What the front answers when the HTTP parser refuses a request. */
function parseFailure(error) {
  switch (error.code) {
    case "HPE_INVALID_METHOD":
      return ociError(501, "UNSUPPORTED", "the request method is not supported");
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
    case "HPE_INVALID_CONTENT_LENGTH":
      return ociError(
        400,
        "SIZE_INVALID",
        `the request's length is ambiguous or malformed (${error.reason ?? error.message})`,
      );
    case "HPE_INVALID_TRANSFER_ENCODING":
      return ociError(501, "UNSUPPORTED", "the request's transfer coding is not supported");
    case "HPE_HEADER_OVERFLOW":
      return ociError(431, "UNSUPPORTED", "the request's header fields are too large");
    case "HPE_HEADERS_TIMEOUT":
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return ociError(408, "UNSUPPORTED", "the request's header fields did not arrive in time");
    default:
      return ociError(400, "UNSUPPORTED", `malformed request (${error.reason ?? error.code ?? "parse error"})`);
  }
}

// ---- request checks (RFC 9112 §3.2) ---------------------------------------------------------

const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=]+)(?::\d{0,5})?$/;

function validHost(value) {
  if (!HOST_VALUE.test(value)) return false;
  try {
    return new URL(`http://${value}/`).host !== "";
  } catch {
    return false;
  }
}

/**
 * Where to send a request, or the answer that refuses it: the origin-form target and the
 * Host to pass on.
 */
function route(req, frontHost) {
  const hosts = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if (req.rawHeaders[i].toLowerCase() === "host") hosts.push(req.rawHeaders[i + 1]);
  if (hosts.length > 1) return { refuse: ociError(400, "UNSUPPORTED", "the request has more than one Host header") };
  if (hosts.length === 1 && !validHost(hosts[0]))
    return { refuse: ociError(400, "UNSUPPORTED", `invalid Host header "${hosts[0]}"`) };
  if (hosts.length === 0 && req.httpVersion !== "1.0")
    return { refuse: ociError(400, "UNSUPPORTED", "an HTTP/1.1 request needs a Host header") };
  const target = req.url;
  if (target === "*") {
    return { refuse: ociError(501, "UNSUPPORTED", `${req.method} * (the asterisk form) is not supported`) };
  }
  if (target.startsWith("/")) {
    // An HTTP/1.0 request may come without Host: it is then for this server.
    return { path: target, host: hosts[0] ?? frontHost };
  }
  // Absolute form, as sent to proxies: accepted for http, whose authority replaces Host.
  let url;
  try {
    url = new URL(target);
  } catch {
    url = null;
  }
  if (url === null || url.protocol !== "http:" || url.host === "" || !validHost(url.host)) {
    return { refuse: ociError(400, "UNSUPPORTED", `unsupported request target "${target.slice(0, 200)}"`) };
  }
  return { path: `${url.pathname}${url.search}`, host: url.host };
}

// ---- forwarding -----------------------------------------------------------------------------

/** The request's headers to pass on, in their order and spelling, without hop-by-hop ones. */
function forwardedRequestHeaders(req, host) {
  const named = new Set(
    (req.headers.connection ?? "")
      .split(",")
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = ["Host", host];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (name === "host" || HOP_BY_HOP.has(name) || named.has(name) || name.startsWith("mf-")) continue;
    out.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const address = req.socket.remoteAddress ?? "";
  out.push("CF-Connecting-IP", address.startsWith("::ffff:") ? address.slice(7) : address);
  return out;
}

/** The answer's headers for the client (a flat [name, value, ...] list), without hop-by-hop ones. */
function forwardedResponseHeaders(rawHeaders) {
  const out = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (HOP_BY_HOP.has(rawHeaders[i].toLowerCase())) continue;
    out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}

/** Bytes of the request body still to come, or null when unknown (chunked). */
function remainingBody(req, received) {
  if (req.complete) return 0;
  if (req.headers["transfer-encoding"] !== undefined) return null;
  const declared = Number(req.headers["content-length"] ?? "0");
  return Math.max(declared - received, 0);
}

function answer(req, res, { status, headers, body }, { close = false } = {}) {
  const all = { ...headers };
  if (close) all.Connection = "close";
  res.writeHead(status, all);
  res.end(req.method === "HEAD" ? undefined : body);
}

/**
 * Decides how the client's connection continues when an answer comes before the client's
 * body was read: true when the rest is small enough to read and drop (the connection stays
 * open), false when the answer must close it (after a lingering read).
 */
function keepAfterEarlyAnswer(req, received) {
  const remaining = remainingBody(req, received);
  if (remaining === 0) return true;
  // A client that asked to be told before sending (Expect: 100-continue) may or may not send
  // its body after a final answer; only closing leaves no doubt about what comes next.
  if (req.headers.expect !== undefined) return false;
  return remaining !== null && remaining <= DRAIN_MAX_BYTES;
}

/** Reads and drops the rest of a request body, or closes after the answer with a linger. */
function settleUnreadBody(req, res, keep) {
  req.resume();
  if (req.complete || keep) return;
  const socket = req.socket;
  // Node's server closes a `Connection: close` socket once the answer is written
  // (destroySoon), resetting it if the client is still sending: end it with a linger instead.
  socket.destroySoon = () => {
    socket.end();
    linger(socket);
  };
}

/**
 * When the Worker answers before reading the body, workerd closes the connection with the
 * body unread, which resets it; the answer is already in the front's receive buffer. But a
 * net.Socket destroys itself on the first failed write, and the next piece of the client's
 * body written after the reset would take the unread answer with it (the client then got a
 * 502 instead of, say, a 413). So failed writes on the connection to workerd are dropped
 * silently, the rest of the body with them, and the socket lives on until its read side ends:
 * with the answer, or with the reset when there is none.
 *
 * This wraps the socket's `_writeGeneric` (where Node 20 and 22 funnel every write); should
 * it be missing, writes fail as before.
 */
function keepReadingAfterFailedWrites(socket) {
  const writeGeneric = socket._writeGeneric;
  if (typeof writeGeneric !== "function") return socket;
  let failed = false;
  socket._writeGeneric = function (writev, data, encoding, callback) {
    if (failed) {
      callback();
      return undefined;
    }
    return writeGeneric.call(this, writev, data, encoding, (error) => {
      if (error) failed = true;
      callback();
    });
  };
  return socket;
}

/** The request line and header section sent to workerd. */
function requestHead(req, target, chunked) {
  const headers = forwardedRequestHeaders(req, target.host);
  let head = `${req.method} ${target.path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  if (chunked) head += "Transfer-Encoding: chunked\r\n";
  return `${head}Connection: close\r\n\r\n`;
}

/**
 * Passes one request to workerd over a connection of its own and its answer back. The
 * exchange with workerd is spoken by hand (http-response-parser.mjs reads the answer): Node's
 * HTTP client copies every body chunk, which cost the front twice the CPU of the old byte pipe
 * on a 512 MiB blob.
 */
function forward(req, res, target, targetPort, expectsContinue) {
  const chunked = req.headers["transfer-encoding"] !== undefined;
  const upstream = keepReadingAfterFailedWrites(
    net.connect({ host: "127.0.0.1", port: targetPort, noDelay: true, highWaterMark: BUFFER_BYTES }),
  );
  const parser = new ResponseParser({ headRequest: req.method === "HEAD" });
  let received = 0;
  let forwarding = true;
  let answered = false;
  let finished = false;

  let continued = false;
  const goOn = () => {
    if (continued || res.headersSent || res.destroyed) return;
    continued = true;
    res.writeContinue();
  };
  const continueTimer = expectsContinue ? setTimeout(goOn, CONTINUE_AFTER_MS) : undefined;

  // The client's body, passed on as it comes (re-framed when it was chunked).
  upstream.write(requestHead(req, target, chunked));
  req.on("data", (chunk) => {
    received += chunk.length;
    if (!forwarding) return;
    let room;
    if (chunked) {
      upstream.cork();
      upstream.write(`${chunk.length.toString(16)}\r\n`);
      upstream.write(chunk);
      room = upstream.write("\r\n");
      upstream.uncork();
    } else {
      room = upstream.write(chunk);
    }
    if (!room) {
      req.pause();
      upstream.once("drain", () => {
        if (forwarding) req.resume();
      });
    }
  });
  req.on("end", () => {
    if (forwarding && chunked) upstream.write("0\r\n\r\n");
  });

  /** The Worker answered: pass nothing more on, and settle what is left of the client's body. */
  const stopForwarding = () => {
    clearTimeout(continueTimer);
    forwarding = false;
    const early = !req.complete;
    const keep = !early || keepAfterEarlyAnswer(req, received);
    req.resume();
    if (early) settleUnreadBody(req, res, keep);
    return keep;
  };

  const fail = (error) => {
    if (finished) return;
    finished = true;
    upstream.destroy();
    if (res.destroyed || req.socket.destroyed) return;
    if (answered) {
      // Cut off mid-answer: the client must see it cut off too, not a short answer.
      res.destroy();
      return;
    }
    const keep = stopForwarding();
    answer(
      req,
      res,
      ociError(502, "UNAVAILABLE", `the registry's runtime did not answer (${error.code ?? error.message})`),
      { close: !keep },
    );
  };

  const deliver = (events) => {
    for (const event of events) {
      if (event.type === "continue") {
        goOn();
      } else if (event.type === "head") {
        answered = true;
        const keep = stopForwarding();
        const headers = forwardedResponseHeaders(event.rawHeaders);
        if (!keep) headers.push("Connection", "close");
        if (headers.some((value, index) => index % 2 === 0 && value.toLowerCase() === "date")) res.sendDate = false;
        res.writeHead(event.status, event.statusText || undefined, headers);
      } else if (event.type === "data") {
        if (!res.write(event.bytes)) {
          upstream.pause();
          res.once("drain", () => upstream.resume());
        }
      } else if (event.type === "end") {
        finished = true;
        res.end();
        upstream.destroy();
      }
    }
  };

  upstream.on("data", (chunk) => {
    if (finished) return;
    try {
      deliver(parser.push(chunk));
    } catch (error) {
      fail(error);
    }
  });
  upstream.on("end", () => {
    try {
      deliver(parser.finish());
    } catch (error) {
      fail(error);
    }
  });
  upstream.on("error", fail);
  upstream.on("close", () => fail(new Error("the connection closed")));
  // The client went away mid-request: drop the upstream request too, so the Worker sees the
  // connection end (an upload chunk cut off this way changes nothing).
  res.on("close", () => {
    if (!finished) {
      finished = true;
      upstream.destroy();
    }
  });
}

// ---- the server -----------------------------------------------------------------------------

function serve({ host, port, targetPort }) {
  const frontHost = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const handle = (req, res, expectsContinue = false) => {
    const target = route(req, frontHost);
    if (target.refuse) {
      const keep = keepAfterEarlyAnswer(req, 0);
      settleUnreadBody(req, res, keep);
      answer(req, res, target.refuse, { close: !keep });
      return;
    }
    forward(req, res, target, targetPort, expectsContinue);
  };
  const server = http.createServer(
    {
      // Uploads may take hours; a body that stops arriving is ended by the Worker
      // (REQUEST_BODY_TIMEOUT_SECONDS), not by a whole-request deadline here.
      requestTimeout: 0,
      headersTimeout: 60_000,
      keepAliveTimeout: 65_000,
      // route() answers a missing Host (an HTTP/1.0 request may omit it).
      requireHostHeader: false,
      noDelay: true,
      highWaterMark: BUFFER_BYTES,
    },
    handle,
  );
  // Expect: 100-continue: the client is told to go on unless the Worker refuses at once.
  server.on("checkContinue", (req, res) => handle(req, res, true));
  server.on("clientError", (error, socket) => {
    // A TLS ClientHello is not HTTP: close at once, so the client falls back to plain HTTP.
    if (error.rawPacket?.[0] === TLS_HANDSHAKE_RECORD || error.code === "ECONNRESET" || error.code === "EPIPE") {
      socket.destroy();
      return;
    }
    writeRawAndClose(socket, parseFailure(error));
  });
  server.on("connect", (req, socket) => {
    writeRawAndClose(
      socket,
      ociError(405, "UNSUPPORTED", "CONNECT is not supported: this is a registry, not a proxy", {
        Allow: ALLOWED_METHODS,
      }),
    );
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
