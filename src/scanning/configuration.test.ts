import { describe, expect, it } from "vitest";
import {
  scanFilterMatches,
  scanningConfigurationProblem,
  scanningFor,
  type ScanningConfiguration,
} from "./configuration";

const rule = (scanFrequency: "SCAN_ON_PUSH" | "CONTINUOUS_SCAN" | "MANUAL", ...filters: string[]) => ({
  scanFrequency,
  repositoryFilters: filters.map((filter) => ({ filter, filterType: "WILDCARD" as const })),
});

describe("scan filters", () => {
  it("matches a name containing a filter without a wildcard, the whole name with one", () => {
    expect(scanFilterMatches("prod", "team/prod-api")).toBe(true);
    expect(scanFilterMatches("prod*", "prod-repo")).toBe(true);
    expect(scanFilterMatches("prod*", "repo-prod")).toBe(false);
    expect(scanFilterMatches("*", "anything/at-all")).toBe(true);
    expect(scanFilterMatches("team-a/*/api", "team-a/x/api")).toBe(true);
    expect(scanFilterMatches("a.b*", "axb")).toBe(false);
  });
});

describe("scanning applied to a repository", () => {
  const configuration: ScanningConfiguration = {
    scanType: "BASIC",
    rules: [rule("SCAN_ON_PUSH", "team-*"), rule("CONTINUOUS_SCAN", "team-a/*")],
  };
  it("prefers the continuous rule, then scan on push, then the repository's flag, else manual", () => {
    expect(scanningFor(configuration, "team-a/web", false)).toMatchObject({
      scanFrequency: "CONTINUOUS_SCAN",
      scanOnPush: true,
    });
    expect(scanningFor(configuration, "team-b/web", false)).toEqual({
      scanFrequency: "SCAN_ON_PUSH",
      scanOnPush: true,
      appliedScanFilters: [{ filter: "team-*", filterType: "WILDCARD" }],
    });
    expect(scanningFor(configuration, "other", true)).toEqual({
      scanFrequency: "SCAN_ON_PUSH",
      scanOnPush: true,
      appliedScanFilters: [],
    });
    expect(scanningFor(configuration, "other", false)).toEqual({
      scanFrequency: "MANUAL",
      scanOnPush: false,
      appliedScanFilters: [],
    });
  });
  it("validates as ECR does", () => {
    expect(scanningConfigurationProblem(configuration)).toBeNull();
    expect(
      scanningConfigurationProblem({
        scanType: "BASIC",
        rules: [rule("MANUAL", "a"), rule("MANUAL", "b"), rule("MANUAL", "c")],
      }),
    ).toMatch(/at most 2/);
    expect(scanningConfigurationProblem({ scanType: "BASIC", rules: [rule("SCAN_ON_PUSH")] })).toMatch(
      /1 to 100 filters/,
    );
    expect(scanningConfigurationProblem({ scanType: "BASIC", rules: [rule("SCAN_ON_PUSH", "Bad Name")] })).toMatch(
      /not a repository name filter/,
    );
  });
});
