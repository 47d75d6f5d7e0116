import { describe, expect, it } from "vitest";
import { RegistryError, OciError } from "../../src/errors";
import { declaredBodyLength, parseDecimalLength } from "../../src/request-body";

const failures = { invalid: (message: string) => new RegistryError(OciError.SIZE_INVALID, message) };

describe("parseDecimalLength", () => {
  it("takes ASCII digits up to Number.MAX_SAFE_INTEGER", () => {
    expect(parseDecimalLength("0")).toBe(0);
    expect(parseDecimalLength("0042")).toBe(42);
    expect(parseDecimalLength(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("refuses signs, exponents, spaces, lists and values that do not convert exactly", () => {
    for (const text of ["", "-1", "+1", "1e3", " 1", "1 ", "1,1", "0x10", "1.0", "٣", String(2 ** 53), "99999999999999999999"]) {
      expect(parseDecimalLength(text), text).toBeNull();
    }
  });
});

describe("declaredBodyLength", () => {
  it("is the Content-Length, or null without one", () => {
    expect(declaredBodyLength(new Headers({ "Content-Length": "12" }), failures)).toBe(12);
    expect(declaredBodyLength(new Headers(), failures)).toBeNull();
  });

  it("ignores Content-Length when a transfer coding is present (RFC 9112 §6.3)", () => {
    expect(declaredBodyLength(new Headers({ "Content-Length": "12", "Transfer-Encoding": "chunked" }), failures)).toBeNull();
  });

  it("refuses a malformed Content-Length with the route's error", () => {
    expect(() => declaredBodyLength(new Headers({ "Content-Length": "1e3" }), failures)).toThrow(/invalid Content-Length/);
  });
});
