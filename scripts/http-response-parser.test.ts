import { describe, expect, it } from "vitest";
import { ResponseParser, type ResponseEvent } from "./http-response-parser.mjs";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds `text` in pieces of `piece` bytes and returns the events, with data joined. */
function parse(text: string, piece: number, headRequest = false): { events: string[]; body: string } {
  const parser = new ResponseParser({ headRequest });
  const input = bytes(text);
  const events: ResponseEvent[] = [];
  for (let at = 0; at < input.length; at += piece) events.push(...parser.push(input.subarray(at, at + piece)));
  if (!parser.done) events.push(...parser.finish());
  let body = "";
  const names: string[] = [];
  for (const event of events) {
    if (event.type === "data") body += new TextDecoder().decode(event.bytes);
    else names.push(event.type === "head" ? `head ${event.status} ${event.rawHeaders.join("|")}` : event.type);
  }
  return { events: names, body };
}

describe("ResponseParser", () => {
  for (const piece of [1, 3, 7, 1000]) {
    it(`reads a Content-Length body fed ${piece} bytes at a time`, () => {
      const { events, body } = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhello", piece);
      expect(events).toEqual(["head 200 Content-Length|5|X-A|b", "end"]);
      expect(body).toBe("hello");
    });

    it(`reads a chunked body with extensions and trailers fed ${piece} bytes at a time`, () => {
      const { events, body } = parse(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nT: 1\r\n\r\n",
        piece,
      );
      expect(events).toEqual(["head 200 Transfer-Encoding|chunked", "end"]);
      expect(body).toBe("hello!");
    });

    it(`passes a 100 Continue and reads the final answer fed ${piece} bytes at a time`, () => {
      const { events } = parse(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        piece,
      );
      expect(events).toEqual(["continue", "head 201 Content-Length|0", "end"]);
    });
  }

  it("ends bodiless answers at their head: HEAD, 204 and 304", () => {
    expect(parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 100, true).events).toEqual([
      "head 200 Content-Length|99",
      "end",
    ]);
    expect(parse("HTTP/1.1 204 No Content\r\n\r\n", 100).events).toEqual(["head 204 ", "end"]);
    expect(parse("HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n", 100).events).toEqual(["head 304 ETag|x", "end"]);
  });

  it("reads a body delimited by the connection's end", () => {
    expect(parse("HTTP/1.1 200 OK\r\n\r\nuntil the end", 4)).toEqual({
      events: ["head 200 ", "end"],
      body: "until the end",
    });
  });

  it("refuses malformed or cut-short answers", () => {
    expect(() => parse("HTTP/2 200\r\n\r\n", 100)).toThrow(/status line/);
    expect(() => parse("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 100)).toThrow(/Content-Length/);
    expect(() => parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 100)).toThrow(
      /Content-Length/,
    );
    expect(() => parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 100)).toThrow(/ended in the middle/);
    expect(() => parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", 100)).toThrow(
      /longer than its size/,
    );
    expect(() => parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab", 100)).toThrow(/after the end/);
  });
});
