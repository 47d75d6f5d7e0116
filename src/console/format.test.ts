/**
 * How the console shows sizes, times, digests and the pages of a list: decimal sizes as
 * `docker images` prints them, UTC times, short digests, and the `next` cursor a page link
 * carries (refused when it is not one the pages wrote). Components are rendered to HTML with
 * hono's `jsx` (this file is .ts, as the workers project runs `*.test.ts`).
 */
import { jsx } from "hono/jsx";
import { describe, expect, it } from "vitest";
import { Bytes, NextPage, Time, cursorParameter, humanBytes, parseCursor, shortDigest } from "./format";

const SHA256 = `sha256:${"0123456789abcdef".repeat(4)}`;
const SHA512 = `sha512:${"fedcba9876543210".repeat(8)}`;

describe("humanBytes", () => {
  it("shows fewer than 1000 bytes as bytes", () => {
    expect(humanBytes(0)).toBe("0 B");
    expect(humanBytes(1)).toBe("1 B");
    expect(humanBytes(999)).toBe("999 B");
  });

  it("uses decimal units from 1000 bytes on, so a KiB is 1.0 kB", () => {
    expect(humanBytes(1000)).toBe("1.0 kB");
    expect(humanBytes(1023)).toBe("1.0 kB");
    expect(humanBytes(1024)).toBe("1.0 kB");
    expect(humanBytes(1536)).toBe("1.5 kB");
  });

  it("keeps one decimal below 100 of a unit and none from 100 on", () => {
    expect(humanBytes(99_949)).toBe("99.9 kB");
    expect(humanBytes(100_000)).toBe("100 kB");
    expect(humanBytes(123_456_789)).toBe("123 MB");
  });

  it("moves to the next unit at each power of 1000", () => {
    expect(humanBytes(1_000_000)).toBe("1.0 MB");
    expect(humanBytes(1_500_000)).toBe("1.5 MB");
    expect(humanBytes(1.5 * 1024 * 1024)).toBe("1.6 MB");
    expect(humanBytes(1_000_000_000)).toBe("1.0 GB");
    expect(humanBytes(1024 * 1024 * 1024)).toBe("1.1 GB");
    expect(humanBytes(3_600_000_000_000)).toBe("3.6 TB");
  });

  it("stops at terabytes", () => {
    expect(humanBytes(1e15)).toBe("1000 TB");
    expect(humanBytes(2.5e15)).toBe("2500 TB");
  });
});

describe("Bytes", () => {
  it("shows a dash for an unknown size", () => {
    expect(String(jsx(Bytes, { bytes: null }))).toBe('<span class="muted">—</span>');
  });

  it("shows a size under 1000 bytes once, as bytes", () => {
    expect(String(jsx(Bytes, { bytes: 0 }))).toBe("0 B");
    expect(String(jsx(Bytes, { bytes: 999 }))).toBe("999 B");
  });

  it("shows a larger size readable, then exact with thousands separators", () => {
    expect(String(jsx(Bytes, { bytes: 1000 }))).toBe('1.0 kB <small class="muted">1,000 B</small>');
    expect(String(jsx(Bytes, { bytes: 1_234_567 }))).toBe('1.2 MB <small class="muted">1,234,567 B</small>');
    expect(String(jsx(Bytes, { bytes: 1_234_567_890 }))).toBe('1.2 GB <small class="muted">1,234,567,890 B</small>');
  });
});

describe("Time", () => {
  it("shows an instant in UTC to the minute, with the exact instant in datetime", () => {
    const at = Date.UTC(2024, 4, 1, 12, 34, 56, 789);
    expect(String(jsx(Time, { at }))).toBe('<time datetime="2024-05-01T12:34:56.789Z">2024-05-01 12:34 UTC</time>');
  });

  it("shows the epoch (0) as an instant, not as never", () => {
    expect(String(jsx(Time, { at: 0 }))).toBe('<time datetime="1970-01-01T00:00:00.000Z">1970-01-01 00:00 UTC</time>');
  });

  it("shows a dash for no instant, or the text given as never", () => {
    expect(String(jsx(Time, { at: null }))).toBe('<span class="muted">—</span>');
    expect(String(jsx(Time, { at: null, never: "never pulled" }))).toBe('<span class="muted">never pulled</span>');
  });
});

describe("shortDigest", () => {
  it("keeps the algorithm and the first 12 hex digits", () => {
    expect(shortDigest(SHA256)).toBe("sha256:0123456789ab");
    expect(shortDigest(SHA512)).toBe("sha512:fedcba987654");
  });

  it("keeps a digest with fewer than 12 hex digits whole", () => {
    expect(shortDigest("sha256:abc")).toBe("sha256:abc");
  });

  it("cuts text without an algorithm to 19 characters", () => {
    expect(shortDigest("0123456789abcdef0123456789")).toBe("0123456789abcdef012");
    expect(shortDigest("latest")).toBe("latest");
  });
});

describe("cursorParameter and parseCursor", () => {
  it("writes a cursor as <pushedAt>.<key>", () => {
    expect(cursorParameter({ pushedAt: 1_714_567_890_123, key: SHA256 })).toBe(`1714567890123.${SHA256}`);
  });

  it("reads back every cursor it writes, including keys that hold dots or start with digits", () => {
    for (const cursor of [
      { pushedAt: 1_714_567_890_123, key: SHA256 },
      { pushedAt: 1_714_567_890_123, key: SHA512 },
      { pushedAt: 0, key: "latest" },
      { pushedAt: 42, key: "v1.2.3" },
      { pushedAt: 7, key: "2024.05.01" },
      { pushedAt: 999_999_999_999_999, key: "x".repeat(256) },
    ]) {
      expect(parseCursor(cursorParameter(cursor))).toEqual(cursor);
    }
  });

  it("splits at the first dot: the push time never holds one", () => {
    expect(parseCursor("1.5.x")).toEqual({ pushedAt: 1, key: "5.x" });
  });

  it("answers null when there is no cursor", () => {
    expect(parseCursor(undefined)).toBeNull();
    expect(parseCursor("")).toBeNull();
  });

  it("refuses a cursor without a push time, a dot or a key", () => {
    expect(parseCursor("latest")).toBeNull();
    expect(parseCursor("1714567890123")).toBeNull();
    expect(parseCursor("1714567890123.")).toBeNull();
    expect(parseCursor(".latest")).toBeNull();
  });

  it("refuses a push time that is not a plain decimal count", () => {
    expect(parseCursor("-1.latest")).toBeNull();
    expect(parseCursor("1e3.latest")).toBeNull();
    expect(parseCursor("0x10.latest")).toBeNull();
    expect(parseCursor(" 1.latest")).toBeNull();
  });

  it("refuses a push time of more than 15 digits and a key of more than 256 characters", () => {
    expect(parseCursor(`${"9".repeat(16)}.latest`)).toBeNull();
    expect(parseCursor(`1.${"x".repeat(257)}`)).toBeNull();
  });
});

describe("NextPage", () => {
  const page = "https://registry.example/console/repositories/app";

  it("renders nothing on a list's only page", () => {
    expect(String(jsx(NextPage, { url: `${page}?status=all`, next: null }))).toBe("");
  });

  it("links the next page on the first one, keeping the other parameters", () => {
    expect(String(jsx(NextPage, { url: `${page}?status=all`, next: { pushedAt: 5, key: "v1.0" } }))).toBe(
      '<nav class="pager" aria-label="Pages">' +
        '<a href="/console/repositories/app?status=all&amp;next=5.v1.0" rel="next">Next page</a></nav>',
    );
  });

  it("links the first page and the next one on a later page, replacing its next parameter", () => {
    const html = String(
      jsx(NextPage, { url: `${page}?next=9.old&status=all`, next: { pushedAt: 5, key: SHA256 }, label: "Images" }),
    );
    expect(html).toBe(
      '<nav class="pager" aria-label="Images">' +
        '<a href="/console/repositories/app?status=all">First page</a>' +
        `<a href="/console/repositories/app?status=all&amp;next=5.${SHA256.replace(":", "%3A")}" rel="next">Next page</a>` +
        "</nav>",
    );
  });

  it("links only the first page on the last page", () => {
    expect(String(jsx(NextPage, { url: `${page}?next=9.old`, next: null }))).toBe(
      '<nav class="pager" aria-label="Pages"><a href="/console/repositories/app">First page</a></nav>',
    );
  });

  it("encodes a key's characters in the link", () => {
    expect(String(jsx(NextPage, { url: page, next: { pushedAt: 1, key: 'a&b<"c' } }))).toBe(
      '<nav class="pager" aria-label="Pages">' +
        '<a href="/console/repositories/app?next=1.a%26b%3C%22c" rel="next">Next page</a></nav>',
    );
  });
});

describe("humanBytes at a unit's end", () => {
  it("moves to the next unit when the rounded figure would reach 1000", () => {
    expect(humanBytes(99_950)).toBe("100 kB");
    expect(humanBytes(999_500)).toBe("1.0 MB");
    expect(humanBytes(999_999)).toBe("1.0 MB");
  });
});
