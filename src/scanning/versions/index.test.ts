import { describe, expect, it } from "vitest";
import { compareVersions, isValidVersion, schemeOf, type VersionScheme } from "./index";

describe("schemeOf", () => {
  it.each<[string, VersionScheme | null]>([
    ["Debian", "debian"],
    ["Debian:12", "debian"],
    ["Debian:sid", "debian"],
    ["Ubuntu", "debian"],
    ["Ubuntu:22.04:LTS", "debian"],
    ["Ubuntu:Pro:18.04:LTS", "debian"],
    ["Alpine", "alpine"],
    ["Alpine:v3.19", "alpine"],
    ["npm", "semver"],
    ["Go", "semver"],
    ["PyPI", "pep440"],
    ["Maven", "maven"],
    ["Maven:https://maven.google.com", "maven"],
    ["crates.io", null],
    ["RubyGems", null],
    ["debian", null],
    ["", null],
  ])("%s → %s", (ecosystem, scheme) => {
    expect(schemeOf(ecosystem)).toBe(scheme);
  });
});

describe("compareVersions", () => {
  it("orders by the scheme it is given", () => {
    expect(compareVersions("debian", "1.0~rc1", "1.0")).toBe(-1);
    expect(compareVersions("alpine", "1.2.3_p1", "1.2.3")).toBe(1);
    expect(compareVersions("semver", "v1.2.3", "1.2.3")).toBe(0);
    expect(compareVersions("pep440", "1!0.1", "2.0")).toBe(1);
    expect(compareVersions("maven", "1.0-SNAPSHOT", "1.0")).toBe(-1);
    // The same two strings, ordered differently by different schemes.
    expect(compareVersions("semver", "1.0.0-rc1", "1.0.0")).toBe(-1);
    expect(compareVersions("debian", "1.0.0-rc1", "1.0.0")).toBe(1);
  });

  it("sorts versions its scheme cannot parse after every valid one, without throwing", () => {
    const cases: [VersionScheme, string, string][] = [
      ["semver", "1.2", "999.0.0"],
      ["pep440", "not a version", "9999"],
      ["debian", "", "99:9"],
      ["alpine", "1.0-1", "99.0"],
      ["maven", "1.0 final", "99"],
    ];
    for (const [scheme, invalid, valid] of cases) {
      expect(isValidVersion(scheme, invalid), `${scheme} ${invalid}`).toBe(false);
      expect(isValidVersion(scheme, valid), `${scheme} ${valid}`).toBe(true);
      expect(compareVersions(scheme, invalid, valid)).toBe(1);
      expect(compareVersions(scheme, valid, invalid)).toBe(-1);
    }
  });

  it("orders invalid versions among themselves by their characters", () => {
    expect(compareVersions("pep440", "abc", "abd")).toBe(-1);
    expect(compareVersions("pep440", "abd", "abc")).toBe(1);
    expect(compareVersions("semver", "latest", "latest")).toBe(0);
  });

  it("gives a total order a sort can use", () => {
    const mixed = ["2.0.0", "junk", "v1.0.0", "1.0.0-beta", "", "1.2", "0.9.9"];
    const sorted = [...mixed].sort((a, b) => compareVersions("semver", a, b));
    expect(sorted).toEqual(["0.9.9", "1.0.0-beta", "v1.0.0", "2.0.0", "", "1.2", "junk"]);
  });
});
