import { describe, expect, it } from "vitest";
import { comparePep440, isValidPep440 } from "./pep440";

/** Asserts that each version sorts strictly before the next, in both directions. */
function expectAscending(versions: string[]): void {
  for (let i = 1; i < versions.length; i++) {
    const [lower = "", higher = ""] = [versions[i - 1], versions[i]];
    expect(comparePep440(lower, higher), `${lower} < ${higher}`).toBe(-1);
    expect(comparePep440(higher, lower), `${higher} > ${lower}`).toBe(1);
  }
}

describe("comparePep440", () => {
  it("orders dev, pre, final and post releases", () => {
    expectAscending(["1.0.dev1", "1.0a1", "1.0a2.dev1", "1.0a2", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.0.1"]);
    expectAscending(["1.0.post1.dev1", "1.0.post1", "1.0.post2"]);
  });

  it("puts the epoch first", () => {
    expectAscending(["2.0", "1!0.1", "1!1.0", "2!0.0.1"]);
  });

  it("ignores trailing zeros and normalizes spellings", () => {
    expect(comparePep440("1.0", "1.0.0")).toBe(0);
    expect(comparePep440("1.0RC1", "1.0rc1")).toBe(0);
    expect(comparePep440("1.0c1", "1.0rc1")).toBe(0);
    expect(comparePep440("1.0-1", "1.0.post1")).toBe(0);
    expect(comparePep440("v2.31.0", "2.31.0")).toBe(0);
    expectAscending(["1.9", "1.10", "1.10.1"]);
  });

  it("sorts local versions after their public version", () => {
    expectAscending(["1.0", "1.0+abc", "1.0+abc.5", "1.0+1", "1.0+2", "1.0.post1"]);
  });

  it("orders a real advisory's versions (Django)", () => {
    expectAscending(["4.2a1", "4.2b1", "4.2rc1", "4.2", "4.2.11", "5.0rc1", "5.0"]);
  });

  it("sorts versions that are not PEP 440 after every valid one", () => {
    expectAscending(["9999", "not-a-version"]);
    expectAscending(["1.0 beta", "not-a-version"]);
    expect(comparePep440("x y", "x y")).toBe(0);
  });
});

describe("isValidPep440", () => {
  it("tells PEP 440 versions from the rest", () => {
    for (const v of ["0", "1.0", "1!0.1", "1.0.post1.dev2+local.7", "1.0RC1", "v1.0"]) {
      expect(isValidPep440(v), v).toBe(true);
    }
    for (const v of ["", "latest", "1.0-beta-1-2-3", "1.0+", "1..0"]) {
      expect(isValidPep440(v), v).toBe(false);
    }
  });
});
