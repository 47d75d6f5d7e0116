import { describe, expect, it } from "vitest";
import { OciError, RegistryError } from "./errors";
import { DEFAULT_BLOB_MAX_BYTES } from "./config/settings";
import { bodyTimeout, declaredBodyLength, parseContentRange, parseDecimalLength } from "./request-body";

const failures = {
  invalid: (message: string) => new RegistryError(OciError.BLOB_UPLOAD_INVALID, message),
  tooLarge: (message: string) => new RegistryError(OciError.BLOB_TOO_LARGE, message),
};

function thrown(run: () => unknown): RegistryError {
  try {
    run();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error("nothing was thrown");
}

describe("parseDecimalLength", () => {
  it("takes ASCII digits", () => {
    expect(parseDecimalLength("0")).toBe(0);
    expect(parseDecimalLength("0042")).toBe(42);
    expect(parseDecimalLength(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("makes digits past Number.MAX_SAFE_INTEGER Infinity, so that every limit refuses them", () => {
    expect(parseDecimalLength(String(2 ** 53))).toBe(Number.POSITIVE_INFINITY);
    expect(parseDecimalLength("9".repeat(400))).toBe(Number.POSITIVE_INFINITY);
  });

  it("refuses signs, exponents, spaces, lists and other digits", () => {
    for (const text of ["", "-1", "+1", "1e3", " 1", "1 ", "1,1", "0x10", "1.0", "٣", "Infinity"]) {
      expect(parseDecimalLength(text), text).toBeNull();
    }
  });
});

describe("declaredBodyLength", () => {
  it("is the Content-Length, or null without one", () => {
    expect(declaredBodyLength(new Headers({ "Content-Length": "12" }), 100, failures)).toBe(12);
    expect(declaredBodyLength(new Headers({ "Content-Length": "100" }), 100, failures)).toBe(100);
    expect(declaredBodyLength(new Headers(), 100, failures)).toBeNull();
  });

  it("ignores Content-Length when a transfer coding is present (RFC 9112 §6.3)", () => {
    expect(
      declaredBodyLength(new Headers({ "Content-Length": "12", "Transfer-Encoding": "chunked" }), 100, failures),
    ).toBeNull();
  });

  it("refuses a malformed Content-Length as invalid and one past the limit as too large", () => {
    expect(thrown(() => declaredBodyLength(new Headers({ "Content-Length": "1e3" }), 100, failures)).status).toBe(400);
    expect(thrown(() => declaredBodyLength(new Headers({ "Content-Length": "101" }), 100, failures)).status).toBe(413);
    expect(
      thrown(() =>
        declaredBodyLength(new Headers({ "Content-Length": String(2 ** 53 + 1) }), DEFAULT_BLOB_MAX_BYTES, failures),
      ).status,
    ).toBe(413);
  });
});

describe("parseContentRange", () => {
  it("reads distribution's inclusive <start>-<end>, with or without a unit and a total", () => {
    expect(parseContentRange("0-99", 1000, failures)).toEqual({ start: 0, length: 100 });
    expect(parseContentRange("bytes 100-199/*", 1000, failures)).toEqual({ start: 100, length: 100 });
    expect(parseContentRange("bytes=5-5/6", 1000, failures)).toEqual({ start: 5, length: 1 });
    expect(parseContentRange(null, 1000, failures)).toBeNull();
  });

  it("refuses malformed ranges with 400 and ranges ending past the limit with 413", () => {
    for (const header of ["", "5", "-5", "5-", "a-b", "1e3-2e3", "9-3", "0 - 9"]) {
      expect(thrown(() => parseContentRange(header, 1000, failures)).status, header).toBe(400);
    }
    expect(thrown(() => parseContentRange("0-1000", 1000, failures)).status).toBe(413);
    expect(thrown(() => parseContentRange(`0-${2 ** 53}`, DEFAULT_BLOB_MAX_BYTES, failures)).status).toBe(413);
    expect(parseContentRange("0-999", 1000, failures)).toEqual({ start: 0, length: 1000 });
  });
});

describe("bodyTimeout", () => {
  it("lasts REQUEST_BODY_TIMEOUT_SECONDS (parsed in src/config/settings.ts) and reports with its error", () => {
    const error = () => new Error("stalled");
    const timeout = bodyTimeout({ requestBodyTimeoutMs: 500 }, error);
    expect(timeout.ms).toBe(500);
    expect(timeout.error().message).toBe("stalled");
  });
});
