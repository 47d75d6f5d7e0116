import { describe, expect, it } from "vitest";
import { compareSemver, isValidSemver } from "./semver";

/** Asserts that each version sorts strictly before the next, in both directions. */
function expectAscending(versions: string[]): void {
  for (let i = 1; i < versions.length; i++) {
    const [lower = "", higher = ""] = [versions[i - 1], versions[i]];
    expect(compareSemver(lower, higher), `${lower} < ${higher}`).toBe(-1);
    expect(compareSemver(higher, lower), `${higher} > ${lower}`).toBe(1);
  }
}

describe("compareSemver", () => {
  it("orders releases numerically", () => {
    expectAscending(["0.0.1", "0.1.0", "0.9.0", "0.10.0", "1.0.0", "1.0.10", "2.0.0", "10.0.0"]);
    expectAscending(["1.0.99999999999999999999", "1.0.100000000000000000000"]);
  });

  it("follows the precedence example of SemVer 2.0.0, section 11", () => {
    expectAscending([
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
    ]);
  });

  it("ignores build metadata", () => {
    expect(compareSemver("1.0.0+build.1", "1.0.0+build.2")).toBe(0);
    expect(compareSemver("2.0.0+incompatible", "2.0.0")).toBe(0);
    expectAscending(["1.0.0-rc.1+build.9", "1.0.0+build.1"]);
  });

  it("tolerates Go's leading v and orders pseudo-versions as pre-releases", () => {
    expect(compareSemver("v1.2.3", "1.2.3")).toBe(0);
    expectAscending([
      "v0.0.0-20200101000000-abcdef123456",
      "v0.0.0-20210615120000-0123456789ab",
      "v0.0.1",
      "v1.2.3",
      "v1.2.4-0.20220101000000-abcdef123456",
      "1.2.4",
    ]);
    expectAscending(["v1.5.0-rc.1.0.20230101000000-abcdef123456", "v1.5.0-rc.2", "v1.5.0"]);
  });

  it("sorts versions that are not SemVer after every valid one", () => {
    expectAscending(["99.0.0", "1.0"]);
    expectAscending(["1.0", "1.0.0.0"]);
    expect(compareSemver("latest", "latest")).toBe(0);
  });
});

describe("isValidSemver", () => {
  it("accepts SemVer 2.0.0 with an optional v", () => {
    for (const v of [
      "0.0.0",
      "1.2.3",
      "v1.2.3",
      "1.0.0-alpha.1",
      "1.0.0-0.3.7",
      "1.0.0-x-y-z.--",
      "1.0.0+21AF26D3----117B344092BD",
    ]) {
      expect(isValidSemver(v), v).toBe(true);
    }
  });

  it("refuses the rest", () => {
    for (const v of [
      "",
      "0",
      "1.2",
      "1.2.3.4",
      "01.2.3",
      "1.2.3-01",
      "1.2.3-",
      "1.2.3+",
      "V1.2.3",
      "vv1.2.3",
      " 1.2.3",
    ]) {
      expect(isValidSemver(v), v).toBe(false);
    }
  });
});
