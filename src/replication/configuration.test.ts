import { describe, expect, it } from "vitest";
import { EcrError, RegistryError } from "../errors";
import {
  destinationsFor,
  parseReplicationConfiguration,
  type ReplicationConfiguration,
  type ReplicationSource,
} from "./configuration";

const SOURCE: ReplicationSource = { registryId: "123456789012", region: "us-east-1", replicaRegions: ["eu-west-1"] };
const OTHER = "210987654321";
const invalid = (message: string) => new RegistryError(EcrError.ValidationException, message);

function parse(data: unknown): ReplicationConfiguration {
  return parseReplicationConfiguration(data as Record<string, unknown>, SOURCE, invalid);
}

function refusal(data: unknown): string {
  try {
    parse(data);
  } catch (error) {
    if (error instanceof RegistryError && error.descriptor === EcrError.ValidationException) return error.message;
    throw error;
  }
  throw new Error("accepted");
}

const to = (registryId: string, region: string) => ({ registryId, region });
const prefix = (filter: string) => ({ filter, filterType: "PREFIX_MATCH" });

describe("parseReplicationConfiguration", () => {
  it("accepts a regional replica and another registry, with and without filters, in canonical shape", () => {
    const configuration = parse({
      rules: [
        { destinations: [to(SOURCE.registryId, "eu-west-1")] },
        { destinations: [to(OTHER, "us-west-2")], repositoryFilters: [prefix("team-a/"), prefix("prod")] },
      ],
    });
    expect(configuration).toEqual({
      rules: [
        { destinations: [to(SOURCE.registryId, "eu-west-1")] },
        {
          destinations: [to(OTHER, "us-west-2")],
          repositoryFilters: [prefix("team-a/"), prefix("prod")],
        },
      ],
    });
  });

  it("accepts no rules (replication off)", () => {
    expect(parse({ rules: [] })).toEqual({ rules: [] });
  });

  it("refuses more than 10 rules, 100 filters per rule or 25 unique destinations", () => {
    const rule = { destinations: [to(OTHER, "us-west-2")] };
    expect(refusal({ rules: Array.from({ length: 11 }, () => rule) })).toMatch(/rules must have from 0 to 10/);
    expect(
      refusal({ rules: [{ ...rule, repositoryFilters: Array.from({ length: 101 }, (_, i) => prefix(`r${i}`)) }] }),
    ).toMatch(/rules\[0\]\.repositoryFilters must have from 1 to 100/);
    const regions = Array.from({ length: 26 }, (_, i) => `xx-region-${i}`);
    const spread = [0, 1, 2].map((k) => ({
      destinations: regions.slice(k * 9, k * 9 + 9).map((region) => to(OTHER, region)),
    }));
    expect(refusal({ rules: spread })).toMatch(/26 unique destinations; at most 25/);
    // The same destination in several rules counts once.
    const repeated = Array.from({ length: 10 }, () => ({
      destinations: regions.slice(0, 25).map((r) => to(OTHER, r)),
    }));
    expect(parse({ rules: repeated }).rules).toHaveLength(10);
  });

  it("refuses the source itself and regions this registry has no replica in", () => {
    expect(refusal({ rules: [{ destinations: [to(SOURCE.registryId, "us-east-1")] }] })).toMatch(/own region/);
    expect(refusal({ rules: [{ destinations: [to(SOURCE.registryId, "ap-south-1")] }] })).toMatch(
      /ap-south-1 is not a replica region of this registry \(eu-west-1\)/,
    );
  });

  it("names the member that is wrong", () => {
    expect(refusal({})).toMatch(/rules is required/);
    expect(refusal({ rules: [{}] })).toMatch(/rules\[0\]\.destinations is required/);
    expect(refusal({ rules: [{ destinations: [] }] })).toMatch(/rules\[0\]\.destinations must have from 1/);
    expect(refusal({ rules: ["x"] })).toMatch(/rules\[0\] must be an object/);
    expect(refusal({ rules: [{ destinations: [{ region: "us-west-2" }] }] })).toMatch(
      /rules\[0\]\.destinations\[0\]\.registryId is required/,
    );
    expect(refusal({ rules: [{ destinations: [to("12345", "us-west-2")] }] })).toMatch(/registryId "12345"/);
    expect(refusal({ rules: [{ destinations: [to(OTHER, "US_WEST")] }] })).toMatch(/region "US_WEST"/);
    const rule = (filter: unknown) => ({
      rules: [{ destinations: [to(OTHER, "us-west-2")], repositoryFilters: [filter] }],
    });
    expect(refusal(rule({ filter: "team", filterType: "WILDCARD" }))).toMatch(/filterType must be one of PREFIX_MATCH/);
    expect(refusal(rule({ filter: "Team", filterType: "PREFIX_MATCH" }))).toMatch(
      /repositoryFilters\[0\]\.filter "Team"/,
    );
    expect(refusal(rule({ filter: "a", filterType: "PREFIX_MATCH" }))).toMatch(/at least 2 characters/);
    expect(refusal({ rules: [{ destinations: [to(OTHER, "us-west-2")], repositoryFilters: [] }] })).toMatch(
      /repositoryFilters must have from 1 to 100/,
    );
  });
});

describe("destinationsFor", () => {
  const configuration = parse({
    rules: [
      {
        destinations: [to(OTHER, "us-west-2"), to(SOURCE.registryId, "eu-west-1")],
        repositoryFilters: [prefix("team-a")],
      },
      { destinations: [to(OTHER, "us-west-2")], repositoryFilters: [prefix("prod/"), prefix("team-a/web")] },
      { destinations: [to("333333333333", "eu-central-1")], repositoryFilters: [prefix("prod/")] },
    ],
  });

  it("matches filters as name prefixes and lists each destination once, in rule order", () => {
    expect(destinationsFor(configuration, "team-a/web-app")).toEqual([
      to(OTHER, "us-west-2"),
      to(SOURCE.registryId, "eu-west-1"),
    ]);
    expect(destinationsFor(configuration, "prod/api")).toEqual([
      to(OTHER, "us-west-2"),
      to("333333333333", "eu-central-1"),
    ]);
    expect(destinationsFor(configuration, "staging/api")).toEqual([]);
    expect(destinationsFor(configuration, "production")).toEqual([]);
  });

  it("replicates every repository for a rule without filters, and nothing with no rules", () => {
    expect(destinationsFor(parse({ rules: [{ destinations: [to(OTHER, "us-west-2")] }] }), "anything")).toEqual([
      to(OTHER, "us-west-2"),
    ]);
    expect(destinationsFor({ rules: [] }, "anything")).toEqual([]);
  });
});
