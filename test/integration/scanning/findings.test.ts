/**
 * Findings of the fixture images against the fixture advisories (test/support/scan-fixtures.ts):
 * exactly the expected set for a Debian, an Alpine, a distroless and an application image
 * (npm, PyPI, Go, Java), including each version scheme's boundaries and a package deleted by
 * a whiteout in an upper layer; findings paged as DescribeImageScanFindings pages them.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  ADVISORIES,
  alpineImage,
  applicationImage,
  debianImage,
  distrolessImage,
  EXPECTED_FINDINGS,
  type FixtureImage,
} from "../../support/scan-fixtures";
import { describeFindings, findingLines, importAdvisories, pushFixture, startScan, waitForScan } from "./support";

describe("findings of the fixture images", () => {
  beforeEach(async () => {
    const report = await importAdvisories(ADVISORIES);
    expect(report).toMatchObject({ received: ADVISORIES.length, imported: ADVISORIES.length, rejected: [] });
  });

  const cases: [keyof typeof EXPECTED_FINDINGS, () => Promise<FixtureImage>][] = [
    ["debian", debianImage],
    ["alpine", alpineImage],
    ["distroless", distrolessImage],
    ["application", applicationImage],
  ];
  it.each(cases)("%s: exactly the expected findings", async (kind, build) => {
    const name = `scan/${kind}`;
    const digest = await pushFixture(name, "v1", await build());
    const started = await startScan(name, digest);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.imageScanStatus).toMatchObject({ status: "IN_PROGRESS" });
    const done = await waitForScan(name, digest);
    expect(done.body.imageScanStatus).toMatchObject({ status: "COMPLETE" });
    expect(findingLines(done)).toEqual([...EXPECTED_FINDINGS[kind]].sort());
    const counts: Record<string, number> = {};
    for (const line of EXPECTED_FINDINGS[kind]) {
      const severity = line.split(" ").at(-1)!;
      counts[severity] = (counts[severity] ?? 0) + 1;
    }
    expect((done.body.imageScanFindings as { findingSeverityCounts: unknown }).findingSeverityCounts).toEqual(counts);
  });

  it("pages the findings, most severe first", async () => {
    const name = "scan/paged";
    const digest = await pushFixture(name, "v1", await applicationImage());
    await startScan(name, digest);
    await waitForScan(name, digest);
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await describeFindings(name, digest, { maxResults: 1, ...(nextToken ? { nextToken } : {}) });
      expect(page.status).toBe(200);
      const lines = findingLines(page);
      expect(lines).toHaveLength(1);
      seen.push(lines[0]!);
      nextToken = page.body.nextToken as string | undefined;
    } while (nextToken !== undefined);
    expect(seen.map((line) => line.split(" ").at(-1))).toEqual(["CRITICAL", "HIGH", "HIGH", "MEDIUM"]);
    expect([...seen].sort()).toEqual([...EXPECTED_FINDINGS.application].sort());
    const finding = (
      (await describeFindings(name, digest)).body.imageScanFindings as {
        findings: { name: string; uri: string; attributes: { key: string; value: string }[] }[];
      }
    ).findings[0]!;
    expect(finding.name).toBe("CVE-2021-44228");
    expect(finding.uri).toBe("https://osv.dev/vulnerability/GHSA-jfh8-c2jp-5v3q");
    expect(finding.attributes).toEqual(
      expect.arrayContaining([
        { key: "package_name", value: "org.apache.logging.log4j:log4j-core" },
        { key: "package_version", value: "2.14.1" },
        { key: "fixed_version", value: "2.15.0" },
      ]),
    );
  });
});
