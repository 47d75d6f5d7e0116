import { describe, expect, it } from "vitest";
import { parseOsv, type OsvAdvisory } from "./osv";
import { cvssScore, severityOf, type FindingSeverity } from "./severity";

function advisory(fields: Record<string, unknown>): OsvAdvisory {
  return parseOsv({ id: "TEST-1", modified: "2024-01-01T00:00:00Z", ...fields });
}

const v3 = (score: string) => ({ type: "CVSS_V3", score });
const v2 = (score: string) => ({ type: "CVSS_V2", score });
const V4_CRITICAL = { type: "CVSS_V4", score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" };

describe("severityOf", () => {
  it.each<[string, FindingSeverity]>([
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CRITICAL"],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "CRITICAL"],
    ["CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "HIGH"],
    ["CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", "HIGH"],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "MEDIUM"],
    ["CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:N", "LOW"],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "INFORMATIONAL"],
  ])("rates CVSS v3 %s as %s", (vector, severity) => {
    expect(severityOf(advisory({ severity: [v3(vector)] }))).toBe(severity);
  });

  it.each<[string, FindingSeverity]>([
    ["AV:N/AC:L/Au:N/C:P/I:P/A:P", "HIGH"],
    ["AV:N/AC:L/Au:N/C:C/I:C/A:C", "HIGH"],
    ["AV:N/AC:M/Au:N/C:N/I:P/A:N", "MEDIUM"],
    ["AV:L/AC:L/Au:N/C:P/I:N/A:N", "LOW"],
    ["AV:N/AC:L/Au:N/C:N/I:N/A:N", "LOW"],
  ])("rates CVSS v2 %s as %s", (vector, severity) => {
    expect(severityOf(advisory({ severity: [v2(vector)] }))).toBe(severity);
  });

  it("prefers CVSS v3 to v2, and skips vectors it cannot score", () => {
    const both = [v2("AV:L/AC:L/Au:N/C:P/I:N/A:N"), v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")];
    expect(severityOf(advisory({ severity: both }))).toBe("CRITICAL");
    const broken = [v3("CVSS:3.1/AV:N/AC:L"), v2("AV:N/AC:M/Au:N/C:N/I:P/A:N")];
    expect(severityOf(advisory({ severity: broken }))).toBe("MEDIUM");
  });

  it("prefers the package's own severity to the record's", () => {
    const record = advisory({
      affected: [
        {
          package: { ecosystem: "npm", name: "a" },
          severity: [v3("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:L/I:N/A:N")],
        },
      ],
    });
    expect(severityOf(record, record.affected[0])).toBe("LOW");
    expect(severityOf(record)).toBe("UNDEFINED");
  });

  it("falls back from a CVSS v4 vector to GitHub's severity", () => {
    // GHSA-style: a v4 vector and the reviewed severity word.
    const ghsa = advisory({
      severity: [V4_CRITICAL],
      database_specific: { severity: "MODERATE", github_reviewed: true },
    });
    expect(severityOf(ghsa)).toBe("MEDIUM");
    expect(severityOf(advisory({ severity: [V4_CRITICAL] }))).toBe("UNDEFINED");
    expect(severityOf(advisory({ database_specific: { severity: "CRITICAL" } }))).toBe("CRITICAL");
    expect(severityOf(advisory({ database_specific: { severity: "LOW" } }))).toBe("LOW");
  });

  it("reads a package's ecosystem or database severity", () => {
    const record = advisory({
      affected: [
        { package: { ecosystem: "Debian:12", name: "a" }, ecosystem_specific: { severity: "unimportant" } },
        { package: { ecosystem: "Debian:12", name: "b" }, database_specific: { severity: "high" } },
        { package: { ecosystem: "Debian:12", name: "c" }, ecosystem_specific: { severity: 3 } },
      ],
    });
    const [a, b, c] = record.affected;
    expect(severityOf(record, a)).toBe("INFORMATIONAL");
    expect(severityOf(record, b)).toBe("HIGH");
    expect(severityOf(record, c)).toBe("UNDEFINED");
  });

  it.each<[string, FindingSeverity]>([
    ["negligible", "INFORMATIONAL"],
    ["low", "LOW"],
    ["medium", "MEDIUM"],
    ["high", "HIGH"],
    ["critical", "CRITICAL"],
    ["untriaged", "UNDEFINED"],
  ])("reads Ubuntu's priority %s as %s", (priority, severity) => {
    // UBUNTU-CVE-style: the priority stands alone when there is no CVSS vector.
    const record = advisory({
      affected: [{ package: { ecosystem: "Ubuntu:22.04:LTS", name: "openssl" } }],
      severity: [{ type: "Ubuntu", score: priority }],
    });
    expect(severityOf(record, record.affected[0])).toBe(severity);
  });

  it("prefers a CVSS vector to Ubuntu's priority", () => {
    const record = advisory({
      severity: [
        { type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" },
        { type: "Ubuntu", score: "low" },
      ],
    });
    expect(severityOf(record)).toBe("CRITICAL");
  });

  it("is UNDEFINED when nothing rates the advisory (Go, Alpine, Debian records)", () => {
    expect(severityOf(advisory({}))).toBe("UNDEFINED");
  });
});

describe("cvssScore", () => {
  it("is the one of cvss.ts", () => {
    expect(cvssScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).toBe(9.8);
  });
});
