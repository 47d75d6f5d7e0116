import { describe, expect, it } from "vitest";
import { compareMavenVersions, isValidMavenVersion } from "./maven";

/** Asserts that each version sorts strictly before the next, in both directions. */
function expectAscending(versions: string[]): void {
  for (let i = 1; i < versions.length; i++) {
    const [lower = "", higher = ""] = [versions[i - 1], versions[i]];
    expect(compareMavenVersions(lower, higher), `${lower} < ${higher}`).toBe(-1);
    expect(compareMavenVersions(higher, lower), `${higher} > ${lower}`).toBe(1);
  }
}

function expectEqual(a: string, b: string): void {
  expect(compareMavenVersions(a, b), `${a} = ${b}`).toBe(0);
  expect(compareMavenVersions(b, a), `${b} = ${a}`).toBe(0);
}

describe("compareMavenVersions", () => {
  it("orders the known qualifiers", () => {
    expectAscending([
      "1-alpha",
      "1-beta",
      "1-milestone",
      "1-rc",
      "1-snapshot",
      "1",
      "1-sp",
      "1-abc",
      "1-xyz",
      "1-1",
      "1.1",
    ]);
    expectEqual("1-rc1", "1-cr1");
    expectEqual("1", "1-final");
    expectEqual("1", "1.ga");
    expectEqual("1", "1-RELEASE");
  });

  it("sorts pre-releases before the release and later numbers after it", () => {
    expectAscending(["1.0-alpha-1", "1.0-alpha-2", "1.0-beta-1", "1.0-SNAPSHOT", "1.0", "1.0.1", "1.1"]);
    expectAscending(["1", "1-sp", "1-sp-1", "1.0.1"]);
  });

  it("drops trailing zeros and is case-insensitive", () => {
    expectEqual("1", "1.0");
    expectEqual("1.0.0", "1");
    expectEqual("1-0", "1");
    expectEqual("1.0-SNAPSHOT", "1-snapshot");
    expectEqual("1.0-Alpha-1", "1-alpha-1");
  });

  it("reads one-letter qualifiers followed by a number, and letter/digit transitions", () => {
    expectEqual("1a1", "1-alpha-1");
    expectEqual("1.0b2", "1.0-beta-2");
    expectEqual("1m3", "1-milestone-3");
    expectAscending(["1.0-alpha1", "1.0-alpha2", "1.0-alpha10"]);
    expectAscending(["1.0.0.x1", "1.0-x2"]);
  });

  it("orders real artifact versions (log4j-core, guava, spring)", () => {
    expectAscending(["2.0-beta9", "2.0-rc1", "2.0", "2.14.1", "2.15.0", "2.16.0", "2.17.1"]);
    expectAscending(["31.1-android", "31.1-jre", "32.0.0-android", "32.0.1-jre"]);
    expectAscending(["5.3.0.M1", "5.3.0.RC1", "5.3.0.RELEASE", "5.3.1"]);
    expectAscending(["1.2.3", "1.2.10", "1.10.0", "20240101"]);
  });
});

describe("isValidMavenVersion", () => {
  it("accepts any string without whitespace", () => {
    expect(isValidMavenVersion("1.0-SNAPSHOT")).toBe(true);
    expect(isValidMavenVersion("whatever")).toBe(true);
    expect(isValidMavenVersion("")).toBe(false);
    expect(isValidMavenVersion("1.0 beta")).toBe(false);
  });
});
