import { describe, expect, it } from "vitest";
import { compareAlpineVersions, isValidAlpineVersion } from "./alpine";

/** Asserts that each version sorts strictly before the next, in both directions. */
function expectAscending(versions: string[]): void {
  for (let i = 1; i < versions.length; i++) {
    const [lower = "", higher = ""] = [versions[i - 1], versions[i]];
    expect(compareAlpineVersions(lower, higher), `${lower} < ${higher}`).toBe(-1);
    expect(compareAlpineVersions(higher, lower), `${higher} > ${lower}`).toBe(1);
  }
}

describe("compareAlpineVersions", () => {
  it("orders revisions", () => {
    expectAscending(["1.2.3", "1.2.3-r0", "1.2.3-r1", "1.2.3-r10", "1.2.4-r0"]);
    expectAscending(["3.1.4-r4", "3.1.4-r5", "3.1.5-r0"]);
  });

  it("orders dot-separated numbers numerically", () => {
    expectAscending(["1.9", "1.10", "1.10.1", "2.0", "10.0"]);
    expect(compareAlpineVersions("1.2.3", "1.2.3")).toBe(0);
  });

  it("sorts pre-release suffixes before the release and post-release suffixes after it", () => {
    expectAscending([
      "1.2.3_alpha",
      "1.2.3_alpha2",
      "1.2.3_beta1",
      "1.2.3_pre1",
      "1.2.3_rc1",
      "1.2.3_rc2",
      "1.2.3",
      "1.2.3_cvs1",
      "1.2.3_svn",
      "1.2.3_git20240101",
      "1.2.3_hg1",
      "1.2.3_p1",
      "1.2.3_p2",
      "1.2.4_alpha",
    ]);
    expectAscending(["0.1.0_alpha_pre2", "0.1.0_alpha"]);
  });

  it("sorts a letter after the plain release", () => {
    expectAscending(["1.2.3", "1.2.3a", "1.2.3b", "1.2.4"]);
    expectAscending(["2.3.0b-r1", "2.3.0b-r2"]);
  });

  it("compares components with leading zeros as strings", () => {
    expectAscending(["1.01", "1.1"]);
    expectAscending(["8.2.0", "8.2.001", "8.2.0015", "8.2.002"]);
  });

  it("orders commit hashes", () => {
    expectAscending(["1.0~1234-r0", "1.0~1234-r1", "1.0~2345-r0"]);
  });
});

describe("isValidAlpineVersion", () => {
  it("accepts apk versions", () => {
    for (const v of ["1", "1.2.3-r0", "1.2.3a", "0.1_pre2", "0.1_p1_pre2", "0.1_pre2~1234abcd", "3.1.4-r5"]) {
      expect(isValidAlpineVersion(v), v).toBe(true);
    }
  });

  it("refuses what apk refuses", () => {
    for (const v of ["", "a", ".1", "0.1bc", "0.1a1", "0.1_foo", "0.1-r", "0.1-r2_p3", "0.1-r2-r3", "0.1_", "1.0-1"]) {
      expect(isValidAlpineVersion(v), v).toBe(false);
    }
  });
});
