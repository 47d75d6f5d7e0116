import { describe, expect, it } from "vitest";
import { cvssScore, cvssVersion } from "./cvss";

describe("cvssScore", () => {
  // Base scores as NVD publishes them for these vectors.
  it.each<[string, number]>([
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
    ["CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10],
    ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9],
    ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5],
    ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1],
    ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9],
    ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8],
    ["CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.8],
    ["CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.0],
    ["CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 6.5],
    ["CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5],
    ["CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:N", 2.7],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0],
    ["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
    ["CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
  ])("v3 %s = %d", (vector, score) => {
    expect(cvssScore(vector)).toBe(score);
  });

  it.each<[string, number]>([
    ["AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5],
    ["AV:N/AC:M/Au:N/C:P/I:P/A:P", 6.8],
    ["AV:N/AC:L/Au:N/C:C/I:C/A:C", 10],
    ["AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3],
    ["AV:L/AC:L/Au:N/C:P/I:N/A:N", 2.1],
    ["AV:N/AC:L/Au:N/C:N/I:N/A:P", 5],
    ["AV:N/AC:L/Au:S/C:P/I:P/A:P", 6.5],
    ["AV:L/AC:L/Au:N/C:C/I:C/A:C", 7.2],
    ["AV:N/AC:L/Au:N/C:N/I:N/A:N", 0],
    ["(AV:N/AC:L/Au:N/C:P/I:P/A:P)", 7.5],
  ])("v2 %s = %d", (vector, score) => {
    expect(cvssScore(vector)).toBe(score);
  });

  it("scores the base metrics of a vector that also has temporal or environmental ones", () => {
    expect(cvssScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:L")).toBe(9.8);
    expect(cvssScore("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:U/RL:OF/RC:C")).toBe(7.5);
  });

  it("refuses CVSS v4 and malformed vectors", () => {
    for (const vector of [
      "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
      "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
      "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
      "CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
      "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
      "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
      "AV:N/AC:L/Au:N/C:P/I:P",
      "9.8",
      "high",
      "",
    ]) {
      expect(cvssScore(vector), vector).toBeNull();
    }
  });
});

describe("cvssVersion", () => {
  it("reads the version from the vector's form", () => {
    expect(cvssVersion("CVSS:3.0/AV:N")).toBe(3);
    expect(cvssVersion("CVSS:3.1/AV:N")).toBe(3);
    expect(cvssVersion("CVSS:4.0/AV:N")).toBe(4);
    expect(cvssVersion("AV:N/AC:L/Au:N/C:P/I:P/A:P")).toBe(2);
    expect(cvssVersion("medium")).toBeNull();
  });
});
