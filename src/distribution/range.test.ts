import { describe, expect, it } from "vitest";
import { contentRange, parseRange, type RangeRequest } from "./range";

const FULL: RangeRequest = { kind: "full" };
const UNSATISFIABLE: RangeRequest = { kind: "unsatisfiable" };
function partial(offset: number, length: number): RangeRequest {
  return { kind: "partial", offset, length };
}

describe("parseRange", () => {
  it.each<[string, string | null, number, RangeRequest]>([
    // No header.
    ["no header", null, 100, FULL],
    ["no header, empty blob", null, 0, FULL],

    // bytes=a-b
    ["first byte", "bytes=0-0", 100, partial(0, 1)],
    ["first ten bytes", "bytes=0-9", 100, partial(0, 10)],
    ["middle", "bytes=10-19", 100, partial(10, 10)],
    ["last byte by closed range", "bytes=99-99", 100, partial(99, 1)],
    ["whole blob by closed range", "bytes=0-99", 100, partial(0, 100)],
    ["one byte blob", "bytes=0-0", 1, partial(0, 1)],
    ["leading zeros", "bytes=007-010", 100, partial(7, 4)],
    ["surrounding whitespace is trimmed", "  bytes=0-9  ", 100, partial(0, 10)],

    // End beyond size: clamped to the last byte.
    ["end just past the end", "bytes=0-100", 100, partial(0, 100)],
    ["end far past the end", "bytes=50-1000000", 100, partial(50, 50)],
    ["end beyond safe integers", "bytes=10-99999999999999999999999", 100, partial(10, 90)],

    // bytes=a-
    ["open-ended from 0", "bytes=0-", 100, partial(0, 100)],
    ["open-ended from the middle", "bytes=40-", 100, partial(40, 60)],
    ["open-ended from the last byte", "bytes=99-", 100, partial(99, 1)],

    // Start beyond size: unsatisfiable.
    ["open-ended at size", "bytes=100-", 100, UNSATISFIABLE],
    ["open-ended past size", "bytes=101-", 100, UNSATISFIABLE],
    ["closed range at size", "bytes=100-200", 100, UNSATISFIABLE],
    ["closed range far past size", "bytes=5000-6000", 100, UNSATISFIABLE],
    ["huge start", "bytes=99999999999999999999999-", 100, UNSATISFIABLE],

    // bytes=-n (suffix)
    ["last byte by suffix", "bytes=-1", 100, partial(99, 1)],
    ["last ten bytes", "bytes=-10", 100, partial(90, 10)],
    ["suffix equal to size", "bytes=-100", 100, partial(0, 100)],
    ["suffix larger than size: whole blob", "bytes=-101", 100, partial(0, 100)],
    ["huge suffix: whole blob", "bytes=-99999999999999999999999", 100, partial(0, 100)],
    ["suffix 0", "bytes=-0", 100, UNSATISFIABLE],
    ["suffix 000", "bytes=-000", 100, UNSATISFIABLE],

    // Empty blob.
    ["empty blob, from 0", "bytes=0-", 0, UNSATISFIABLE],
    ["empty blob, closed range", "bytes=0-0", 0, UNSATISFIABLE],
    ["empty blob, suffix 0", "bytes=-0", 0, UNSATISFIABLE],

    // Ignored headers: serve the whole blob.
    ["end before start", "bytes=10-5", 100, FULL],
    ["end before start, both past size", "bytes=500-400", 100, FULL],
    ["no positions", "bytes=-", 100, FULL],
    ["two ranges", "bytes=0-1,5-6", 100, FULL],
    ["two ranges with a space", "bytes=0-1, 5-6", 100, FULL],
    ["a range and a suffix", "bytes=0-1,-5", 100, FULL],
    ["other unit", "items=0-9", 100, FULL],
    ["no unit", "0-9", 100, FULL],
    ["unit only", "bytes=", 100, FULL],
    ["Content-Range syntax", "bytes 0-9/100", 100, FULL],
    ["spaces around the dash", "bytes=0 - 9", 100, FULL],
    ["space after the equals sign", "bytes= 0-9", 100, FULL],
    ["negative start", "bytes=-5-10", 100, FULL],
    ["fractional position", "bytes=1.5-9", 100, FULL],
    ["hex position", "bytes=0x10-0x20", 100, FULL],
    ["exponent", "bytes=1e2-", 100, FULL],
    ["letters", "bytes=a-b", 100, FULL],
    ["garbage", "garbage", 100, FULL],
    ["empty header", "", 100, FULL],
    ["whitespace header", "   ", 100, FULL],
    ["fullwidth digits", "bytes=０-９", 100, FULL],
    ["empty header, empty blob", "", 0, FULL],
  ])("%s: %j of %i bytes", (_label, header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  // RFC 9110 §14.1.1: "When a selected representation has zero length, the only satisfiable
  // form of range in a GET request is a suffix-range with a non-zero suffix-length." A 206
  // cannot describe zero bytes, so the whole (empty) blob is the answer, not a 416.
  it.each<[string, number]>([
    ["bytes=-1", 0],
    ["bytes=-100", 0],
  ])("non-zero suffix %j on an empty blob is satisfiable (RFC 9110 §14.1.1)", (header, size) => {
    expect(parseRange(header, size)).toEqual(FULL);
  });

  it("every partial range lies within the blob", () => {
    const headers = [
      "bytes=0-",
      "bytes=3-",
      "bytes=-1",
      "bytes=-7",
      "bytes=-50",
      "bytes=0-0",
      "bytes=2-5",
      "bytes=4-100",
    ];
    for (const size of [1, 2, 5, 7, 10]) {
      for (const header of headers) {
        const range = parseRange(header, size);
        if (range.kind !== "partial") continue;
        expect(range.offset, `${header} of ${size}`).toBeGreaterThanOrEqual(0);
        expect(range.length, `${header} of ${size}`).toBeGreaterThan(0);
        expect(range.offset + range.length, `${header} of ${size}`).toBeLessThanOrEqual(size);
      }
    }
  });
});

describe("contentRange", () => {
  it.each<[number, number, number, string]>([
    [0, 1, 1, "bytes 0-0/1"],
    [0, 10, 100, "bytes 0-9/100"],
    [10, 10, 100, "bytes 10-19/100"],
    [99, 1, 100, "bytes 99-99/100"],
    [0, 100, 100, "bytes 0-99/100"],
    [90, 10, 100, "bytes 90-99/100"],
    [1_000_000, 5_000_000, 10_000_000_000, "bytes 1000000-5999999/10000000000"],
  ])("offset %i, length %i of %i → %j", (offset, length, size, expected) => {
    expect(contentRange(offset, length, size)).toBe(expected);
  });

  it.each<[string, number]>([
    ["bytes=0-9", 100],
    ["bytes=-10", 100],
    ["bytes=95-", 100],
    ["bytes=0-1000", 100],
    ["bytes=-1000", 100],
  ])("formats what parseRange returns for %j of %i", (header, size) => {
    const range = parseRange(header, size);
    if (range.kind !== "partial") throw new Error(`expected a partial range, got ${range.kind}`);
    const [, first, last, total] =
      /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange(range.offset, range.length, size)) ?? [];
    expect(Number(first)).toBe(range.offset);
    expect(Number(last) - Number(first) + 1).toBe(range.length);
    expect(Number(total)).toBe(size);
  });
});
