import { describe, expect, it } from "vitest";
import { compareDebianVersions, isValidDebianVersion } from "./debian";

/** Asserts that each version sorts strictly before the next, in both directions. */
function expectAscending(versions: string[]): void {
  for (let i = 1; i < versions.length; i++) {
    const [lower = "", higher = ""] = [versions[i - 1], versions[i]];
    expect(compareDebianVersions(lower, higher), `${lower} < ${higher}`).toBe(-1);
    expect(compareDebianVersions(higher, lower), `${higher} > ${lower}`).toBe(1);
  }
}

describe("compareDebianVersions", () => {
  it("orders by epoch first", () => {
    expectAscending(["9.9-9", "1:0.1-1", "1:2.3-4", "2:0.0.1"]);
    expect(compareDebianVersions("0:1.2-1", "1.2-1")).toBe(0);
    expect(compareDebianVersions("10:1.0", "9:9.0")).toBe(1);
  });

  it("sorts a tilde before everything, even the end of the version", () => {
    expectAscending(["1.0~~", "1.0~~a", "1.0~", "1.0~beta1", "1.0~rc1", "1.0", "1.0+b1", "1.0.1"]);
    expectAscending(["2.36-9+deb12u3~bpo11+1", "2.36-9+deb12u3"]);
  });

  it("sorts letters before other characters and digit runs numerically", () => {
    expectAscending(["1.0a", "1.0z", "1.0+", "1.0."]);
    expectAscending(["1.2", "1.9", "1.10", "1.100", "10.0"]);
    expect(compareDebianVersions("1.002", "1.2")).toBe(0);
    expect(compareDebianVersions("1.000000000000000000000000000001", "1.1")).toBe(0);
  });

  it("compares the revision after the upstream version", () => {
    expectAscending(["1.2.3-1", "1.2.3-1+deb12u1", "1.2.3-1+deb12u2", "1.2.3-2", "1.2.3-10", "1.2.4-0"]);
    expectAscending(["1.2.3-1ubuntu0.1", "1.2.3-1ubuntu0.2", "1.2.3-1ubuntu1"]);
    // An absent revision is equal to "0".
    expect(compareDebianVersions("1.2.3", "1.2.3-0")).toBe(0);
    expect(compareDebianVersions("1.2.3", "1.2.3-1")).toBe(-1);
  });

  it("splits the revision at the last hyphen", () => {
    expectAscending(["1.0-beta-1", "1.0-beta-2", "1.0-rc-1"]);
  });

  it("orders real Debian and Ubuntu security updates", () => {
    expectAscending(["3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "3.0.15-1~deb12u1", "3.0.15-1"]);
    expectAscending(["1:2.3-4", "1:2.3-4+deb12u1"]);
    expectAscending(["2.35-0ubuntu3.6", "2.35-0ubuntu3.8"]);
    expectAscending(["1.1.1f-1ubuntu2.20", "1.1.1f-1ubuntu2.22+esm1"]);
  });
});

describe("isValidDebianVersion", () => {
  it("accepts dpkg versions", () => {
    for (const v of ["0", "1.0", "1:2.3-4+deb12u1", "2:8.2.3995-1ubuntu2.17", "1.0~rc1", "1.0-beta-1", "1:2:3-1"]) {
      expect(isValidDebianVersion(v), v).toBe(true);
    }
  });

  it("refuses what dpkg or Debian policy refuses", () => {
    for (const v of ["", "a1.0", ":1.0", "x:1.0", "1:", "1.0-", "1.0 -1", "1.0-1_2", "1.0_1", "-1"]) {
      expect(isValidDebianVersion(v), v).toBe(false);
    }
  });
});
