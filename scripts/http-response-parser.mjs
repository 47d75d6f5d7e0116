// An incremental parser of one HTTP/1.1 response (RFC 9112), for the local front
// (tls-refusing-front.mjs), which reads workerd's answers off a plain socket: Node's own HTTP
// client copies every body chunk and, on a 512 MiB blob, cost the front about twice the CPU of
// passing the bytes on. Body bytes come out as views of the chunks fed in, never copied.
// Pure code without Node APIs, so the workers test project can test it.

const CRLF_CRLF = [13, 10, 13, 10];
/** Longest response head accepted (workerd's are a few hundred bytes). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Longest chunk-size or trailer line accepted. */
const MAX_LINE_BYTES = 4096;

export class ResponseParseError extends Error {}

const latin1 = (bytes) => {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
};

function indexOfSequence(bytes, sequence, from) {
  outer: for (let i = Math.max(from, 0); i <= bytes.length - sequence.length; i++) {
    for (let j = 0; j < sequence.length; j++) if (bytes[i + j] !== sequence[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a, b) {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Parses the response to one request. `push(bytes)` returns what the bytes completed, in
 * order: `{ type: "continue" }` for a 100, `{ type: "head", status, statusText, rawHeaders }`
 * (rawHeaders a flat [name, value, ...] list), `{ type: "data", bytes }` and finally
 * `{ type: "end" }`. `finish()` is called when the connection ends; it ends a body delimited by
 * the close, and throws if the response was cut short.
 */
export class ResponseParser {
  /** @param {{ headRequest?: boolean }} options headRequest: the request was a HEAD (no body follows) */
  constructor({ headRequest = false } = {}) {
    this.headRequest = headRequest;
    this.state = "head"; // head | length | chunk-size | chunk-data | chunk-crlf | trailer | close | done
    this.buffered = new Uint8Array(0);
    this.remaining = 0;
  }

  get done() {
    return this.state === "done";
  }

  push(chunk) {
    const events = [];
    let bytes = this.buffered.length > 0 ? concat(this.buffered, chunk) : chunk;
    this.buffered = new Uint8Array(0);
    while (bytes.length > 0 && this.state !== "done") bytes = this.step(bytes, events);
    if (this.state === "done" && bytes.length > 0) throw new ResponseParseError("bytes after the end of the response");
    return events;
  }

  finish() {
    if (this.state === "done") return [];
    if (this.state === "close") {
      this.state = "done";
      return [{ type: "end" }];
    }
    throw new ResponseParseError(`the connection ended in the middle of the response (${this.state})`);
  }

  /** Consumes what it can of `bytes` and returns the rest. */
  step(bytes, events) {
    switch (this.state) {
      case "head":
        return this.readHead(bytes, events);
      case "length": {
        const take = Math.min(this.remaining, bytes.length);
        events.push({ type: "data", bytes: bytes.subarray(0, take) });
        this.remaining -= take;
        if (this.remaining === 0) this.end(events);
        return bytes.subarray(take);
      }
      case "close":
        events.push({ type: "data", bytes });
        return new Uint8Array(0);
      case "chunk-size": {
        const line = this.readLine(bytes);
        if (line === null) return new Uint8Array(0);
        const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line.text);
        if (!size) throw new ResponseParseError(`invalid chunk size line "${line.text.slice(0, 40)}"`);
        this.remaining = parseInt(size[1], 16);
        this.state = this.remaining === 0 ? "trailer" : "chunk-data";
        return line.rest;
      }
      case "chunk-data": {
        const take = Math.min(this.remaining, bytes.length);
        events.push({ type: "data", bytes: bytes.subarray(0, take) });
        this.remaining -= take;
        if (this.remaining === 0) this.state = "chunk-crlf";
        return bytes.subarray(take);
      }
      case "chunk-crlf": {
        const line = this.readLine(bytes);
        if (line === null) return new Uint8Array(0);
        if (line.text !== "") throw new ResponseParseError("a chunk is longer than its size");
        this.state = "chunk-size";
        return line.rest;
      }
      case "trailer": {
        const line = this.readLine(bytes);
        if (line === null) return new Uint8Array(0);
        if (line.text === "") this.end(events);
        return line.rest;
      }
      default:
        throw new ResponseParseError(`unexpected state ${this.state}`);
    }
  }

  /** A CRLF-terminated line, or null (keeping the bytes) when it is not complete yet. */
  readLine(bytes) {
    for (let i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] === 13 && bytes[i + 1] === 10)
        return { text: latin1(bytes.subarray(0, i)), rest: bytes.subarray(i + 2) };
    }
    if (bytes.length > MAX_LINE_BYTES) throw new ResponseParseError("a chunk-size or trailer line is too long");
    this.buffered = bytes.slice();
    return null;
  }

  readHead(bytes, events) {
    const end = indexOfSequence(bytes, CRLF_CRLF, 0);
    if (end < 0) {
      if (bytes.length > MAX_HEAD_BYTES) throw new ResponseParseError("the response head is too large");
      this.buffered = bytes.slice();
      return new Uint8Array(0);
    }
    const lines = latin1(bytes.subarray(0, end)).split("\r\n");
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
    if (!statusLine) throw new ResponseParseError(`invalid status line "${(lines[0] ?? "").slice(0, 60)}"`);
    const status = Number(statusLine[1]);
    const rawHeaders = [];
    let length = null;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new ResponseParseError(`invalid header line "${line.slice(0, 60)}"`);
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      rawHeaders.push(name, value);
      const lower = name.toLowerCase();
      if (lower === "content-length") {
        if (!/^\d+$/.test(value) || (length !== null && length !== Number(value)))
          throw new ResponseParseError(`invalid Content-Length "${value}"`);
        length = Number(value);
      } else if (lower === "transfer-encoding") {
        chunked =
          value
            .toLowerCase()
            .split(",")
            .map((coding) => coding.trim())
            .at(-1) === "chunked";
        if (!chunked) throw new ResponseParseError(`unsupported Transfer-Encoding "${value}"`);
      }
    }
    const rest = bytes.subarray(end + 4);
    if (status >= 100 && status < 200) {
      // Informational: a 100 lets the body go on; others (103) carry nothing the front needs.
      if (status === 100) events.push({ type: "continue" });
      return rest;
    }
    events.push({ type: "head", status, statusText: statusLine[2] ?? "", rawHeaders });
    if (this.headRequest || status === 204 || status === 304) this.end(events);
    else if (chunked) this.state = "chunk-size";
    else if (length !== null) {
      this.remaining = length;
      if (length === 0) this.end(events);
      else this.state = "length";
    } else this.state = "close";
    return rest;
  }

  end(events) {
    this.state = "done";
    events.push({ type: "end" });
  }
}
