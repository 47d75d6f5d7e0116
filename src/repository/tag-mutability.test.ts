import { describe, expect, it } from "vitest";
import { isTagImmutable, parseStoredFilters, readTagMutabilitySetting, TagMutabilityError } from "./tag-mutability";
import type { ExclusionFilter } from "../storage/repository-records";
import type { TagMutability } from "../storage/schema";

const wildcard = (filter: string): ExclusionFilter => ({ filterType: "WILDCARD", filter });
const FILTERS = [wildcard("latest"), wildcard("dev-*"), wildcard("*-rc*")];

describe("isTagImmutable", () => {
  it.each<[TagMutability, readonly ExclusionFilter[], string, boolean]>([
    ["MUTABLE", [], "v1", false],
    ["IMMUTABLE", [], "v1", true],
    // Filters are ignored by the settings without exclusions (they are never stored with them).
    ["MUTABLE", FILTERS, "latest", false],
    ["IMMUTABLE", FILTERS, "latest", true],
    // IMMUTABLE_WITH_EXCLUSION: matching tags move, the others are fixed.
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "latest", false],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "dev-", false],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "dev-feature.1", false],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "v2-rc1", false],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "-rc", false],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "v1.0.0", true],
    // The whole tag must match: no prefix or substring matches, and case counts.
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "latest2", true],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "not-latest", true],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "Latest", true],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "xdev-1", true],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "v2-rc", false],
    ["IMMUTABLE_WITH_EXCLUSION", FILTERS, "v2-r", true],
    // `.` is literal, not "any character".
    ["IMMUTABLE_WITH_EXCLUSION", [wildcard("1.0")], "1x0", true],
    ["IMMUTABLE_WITH_EXCLUSION", [wildcard("*")], "anything", false],
    // MUTABLE_WITH_EXCLUSION: only matching tags are fixed.
    ["MUTABLE_WITH_EXCLUSION", FILTERS, "latest", true],
    ["MUTABLE_WITH_EXCLUSION", FILTERS, "dev-x", true],
    ["MUTABLE_WITH_EXCLUSION", FILTERS, "v1.0.0", false],
    ["MUTABLE_WITH_EXCLUSION", [wildcard("release-*-final")], "release-2024-final", true],
    ["MUTABLE_WITH_EXCLUSION", [wildcard("release-*-final")], "release-2024-final-2", false],
  ])("%s with %j: tag %s immutable is %s", (mutability, filters, tag, expected) => {
    expect(isTagImmutable(mutability, filters, tag)).toBe(expected);
  });
});

describe("readTagMutabilitySetting", () => {
  it("accepts the four settings, with filters exactly for the _WITH_EXCLUSION ones", () => {
    expect(readTagMutabilitySetting("MUTABLE", undefined)).toEqual({ mutability: "MUTABLE", exclusionFilters: [] });
    expect(readTagMutabilitySetting("IMMUTABLE", null)).toEqual({ mutability: "IMMUTABLE", exclusionFilters: [] });
    const five = ["a", "b*", "*c", "d*e", "*"].map((filter) => ({ filterType: "WILDCARD", filter }));
    expect(readTagMutabilitySetting("IMMUTABLE_WITH_EXCLUSION", five)).toEqual({
      mutability: "IMMUTABLE_WITH_EXCLUSION",
      exclusionFilters: five,
    });
    expect(
      readTagMutabilitySetting("MUTABLE_WITH_EXCLUSION", [{ filter: "x".repeat(128), filterType: "WILDCARD" }])
        .exclusionFilters,
    ).toHaveLength(1);
  });

  it.each<[string, unknown, unknown, string]>([
    [
      "an unknown setting",
      "SOMETIMES",
      undefined,
      "imageTagMutability must be one of MUTABLE, IMMUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION",
    ],
    [
      "IMMUTABLE_WITH_EXCLUSION without filters",
      "IMMUTABLE_WITH_EXCLUSION",
      undefined,
      "Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as IMMUTABLE_WITH_EXCLUSION'",
    ],
    [
      "MUTABLE_WITH_EXCLUSION without filters",
      "MUTABLE_WITH_EXCLUSION",
      null,
      "can't be null when imageTagMutability is set as MUTABLE_WITH_EXCLUSION",
    ],
    [
      "filters with MUTABLE",
      "MUTABLE",
      [{ filterType: "WILDCARD", filter: "x" }],
      "can only be set when imageTagMutability is MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION, not MUTABLE",
    ],
    ["filters with IMMUTABLE", "IMMUTABLE", [], "not IMMUTABLE"],
    [
      "an empty list",
      "IMMUTABLE_WITH_EXCLUSION",
      [],
      "imageTagMutabilityExclusionFilters must be a list of 1 to 5 filters",
    ],
    [
      "six filters",
      "IMMUTABLE_WITH_EXCLUSION",
      Array.from({ length: 6 }, () => ({ filterType: "WILDCARD", filter: "a" })),
      "a list of 1 to 5 filters",
    ],
    ["not a list", "IMMUTABLE_WITH_EXCLUSION", { filterType: "WILDCARD", filter: "a" }, "a list of 1 to 5 filters"],
    [
      "a filter that is not an object",
      "IMMUTABLE_WITH_EXCLUSION",
      ["latest"],
      'imageTagMutabilityExclusionFilters[0] must be {"filterType": "WILDCARD", "filter": string}',
    ],
    [
      "another filterType",
      "IMMUTABLE_WITH_EXCLUSION",
      [{ filterType: "REGEX", filter: "a" }],
      'imageTagMutabilityExclusionFilters[0].filterType must be WILDCARD; got "REGEX"',
    ],
    ["no filterType", "IMMUTABLE_WITH_EXCLUSION", [{ filter: "a" }], "filterType must be WILDCARD; got null"],
    [
      "an unknown member",
      "IMMUTABLE_WITH_EXCLUSION",
      [{ filterType: "WILDCARD", filter: "a", negate: true }],
      'has unknown member "negate"',
    ],
    [
      "a filter with a character ECR refuses",
      "IMMUTABLE_WITH_EXCLUSION",
      [
        { filterType: "WILDCARD", filter: "a" },
        { filterType: "WILDCARD", filter: "v?" },
      ],
      "Invalid parameter at 'imageTagMutabilityExclusionFilters[1].filter' failed to satisfy constraint: 'must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}$''",
    ],
    [
      "an empty filter",
      "IMMUTABLE_WITH_EXCLUSION",
      [{ filterType: "WILDCARD", filter: "" }],
      "must satisfy regular expression",
    ],
    [
      "a filter over 128 characters",
      "IMMUTABLE_WITH_EXCLUSION",
      [{ filterType: "WILDCARD", filter: "x".repeat(129) }],
      "must satisfy regular expression",
    ],
    [
      "a filter that is not a string",
      "IMMUTABLE_WITH_EXCLUSION",
      [{ filterType: "WILDCARD", filter: 7 }],
      "must satisfy regular expression",
    ],
  ])("refuses %s", (_, mutability, filters, message) => {
    expect(() => readTagMutabilitySetting(mutability, filters)).toThrow(TagMutabilityError);
    expect(() => readTagMutabilitySetting(mutability, filters)).toThrow(message);
  });
});

describe("parseStoredFilters", () => {
  it("reads what the repository row keeps", () => {
    expect(parseStoredFilters("[]")).toEqual([]);
    expect(parseStoredFilters('[{"filterType":"WILDCARD","filter":"dev-*"}]')).toEqual([wildcard("dev-*")]);
  });
});
