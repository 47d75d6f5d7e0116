import { describe, expect, it } from "vitest";
import { parseOsv } from "./advisories/osv";
import { evaluateFindings } from "./findings";
import type { InstalledPackage } from "./inventory/types";

const advisory = (id: string, ecosystem: string, name: string, fixed: string, extra: Record<string, unknown> = {}) =>
  parseOsv({
    id,
    modified: "2024-01-01T00:00:00Z",
    affected: [
      { package: { ecosystem, name }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed }] }] },
    ],
    ...extra,
  });
const pkg = (
  ecosystem: InstalledPackage["ecosystem"],
  name: string,
  version: string,
  binaryName?: string,
): InstalledPackage => ({
  ecosystem,
  name,
  version,
  path: "/x",
  ...(binaryName === undefined ? {} : { binaryName }),
});
const debian = { id: "debian", versionId: "12", versionCodename: "bookworm", prettyName: null };

describe("evaluateFindings", () => {
  it("reports one finding per advisory and source package version, however many binaries it built", () => {
    const result = evaluateFindings(
      {
        os: debian,
        packages: [
          pkg("Debian", "openssl", "3.0.11-1~deb12u2", "libssl3"),
          pkg("Debian", "openssl", "3.0.11-1~deb12u2", "openssl"),
        ],
        unsupported: null,
      },
      [advisory("DEBIAN-CVE-2023-5678", "Debian:12", "openssl", "3.0.13-1~deb12u1", { upstream: ["CVE-2023-5678"] })],
    );
    expect(result.findings.map((finding) => finding.advisoryId)).toEqual(["CVE-2023-5678"]);
    expect(result.severityCounts).toEqual({ UNDEFINED: 1 });
  });
  it("matches PyPI names as PEP 503 normalizes them, and skips withdrawn advisories", () => {
    const result = evaluateFindings(
      { os: null, packages: [pkg("PyPI", "Requests_OAuthlib", "1.0.0")], unsupported: null },
      [
        advisory("PYSEC-1", "PyPI", "requests-oauthlib", "1.1.0"),
        advisory("PYSEC-2", "PyPI", "requests.oauthlib", "1.2.0", { withdrawn: "2024-02-01T00:00:00Z" }),
      ],
    );
    expect(result.findings.map((finding) => [finding.advisoryId, finding.fixedVersion])).toEqual([
      ["PYSEC-1", "1.1.0"],
    ]);
  });
  it("finds nothing for a package no advisory names, or another release's advisory", () => {
    const result = evaluateFindings(
      {
        os: debian,
        packages: [pkg("Debian", "zlib", "1:1.2.13.dfsg-1"), pkg("npm", "left-pad", "1.0.0")],
        unsupported: null,
      },
      [advisory("DEBIAN-CVE-2022-37434", "Debian:11", "zlib", "1:1.2.11.dfsg-2+deb11u2")],
    );
    expect(result.findings).toEqual([]);
  });
});
