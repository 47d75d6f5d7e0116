/**
 * Table-driven cases for the lifecycle evaluator: each gives a policy, images (ages in days
 * before NOW) and the expected expirations with the rule that applied, including the
 * examples of ECR's user guide.
 */
import { describe, expect, it } from "vitest";
import { evaluateLifecycle } from "./evaluate";
import { matchesTagPattern } from "../oci/grammar";
import type { LifecycleImage } from "../storage/lifecycle-records";
import { parseLifecyclePolicy } from "./policy";

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

interface ImageSpec {
  tags?: string[];
  /** Pushed this many days before NOW. */
  age: number;
  pulled?: number;
  children?: string[];
  subject?: string;
}

type Rule = Record<string, unknown>;

function rule(rulePriority: number, selection: Rule): Rule {
  return { rulePriority, description: `rule ${rulePriority} of a test policy`, selection, action: { type: "expire" } };
}

function images(specs: Record<string, ImageSpec>): LifecycleImage[] {
  return Object.entries(specs).map(([digest, spec]) => ({
    digest,
    tags: spec.tags ?? [],
    pushedAt: NOW - spec.age * DAY,
    lastPulledAt: spec.pulled === undefined ? null : NOW - spec.pulled * DAY,
    children: spec.children ?? [],
    subject: spec.subject ?? null,
  }));
}

interface Case {
  name: string;
  rules: Rule[];
  images: Record<string, ImageSpec>;
  /** digest → the rule priority that expires it (null: with its absent subject). */
  expired: Record<string, number | null>;
}

const untaggedOlderThan = (days: number, priority = 1) =>
  rule(priority, { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: days });

const CASES: Case[] = [
  {
    name: "user guide: expire untagged images older than 14 days",
    rules: [untaggedOlderThan(14)],
    images: { a: { age: 20 }, b: { age: 15 }, c: { age: 13 }, d: { age: 30, tags: ["v1"] } },
    expired: { a: 1, b: 1 },
  },
  {
    name: "user guide: keep one untagged image (imageCountMoreThan 1)",
    rules: [rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 1 })],
    images: { a: { age: 3 }, b: { age: 2 }, c: { age: 1 }, d: { age: 9, tags: ["x"] } },
    expired: { a: 1, b: 1 },
  },
  {
    name: "user guide: multiple rules, an image matching a higher rule's tags is shielded",
    rules: [
      rule(1, { tagStatus: "tagged", tagPrefixList: ["prod"], countType: "imageCountMoreThan", countNumber: 1 }),
      rule(2, { tagStatus: "tagged", tagPrefixList: ["beta"], countType: "imageCountMoreThan", countNumber: 1 }),
    ],
    images: {
      A: { age: 10, tags: ["beta-1", "prod-1"] },
      B: { age: 9, tags: ["beta-2", "prod-2"] },
      C: { age: 8, tags: ["beta-3"] },
    },
    expired: { A: 1 },
  },
  {
    name: "user guide: several prefixes in one rule must all match",
    rules: [
      rule(1, {
        tagStatus: "tagged",
        tagPrefixList: ["alpha", "beta"],
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 5,
      }),
    ],
    images: {
      A: { age: 12, tags: ["alpha-1"] },
      B: { age: 11, tags: ["beta-1"] },
      C: { age: 10, tags: ["alpha-2", "beta-2"] },
      D: { age: 4, tags: ["alpha-3"] },
      E: { age: 3, tags: ["beta-3"] },
      F: { age: 2, tags: ["alpha-4", "beta-4"] },
    },
    expired: { C: 1 },
  },
  {
    name: "user guide: tagStatus any keeps only the newest image",
    rules: [rule(1, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 })],
    images: { a: { age: 3, tags: ["x"] }, b: { age: 2 }, c: { age: 1, tags: ["y"] } },
    expired: { a: 1, b: 1 },
  },
  {
    name: "user guide: keep the newest 2 images tagged prod* (tagPatternList)",
    rules: [
      rule(1, { tagStatus: "tagged", tagPatternList: ["prod*"], countType: "imageCountMoreThan", countNumber: 2 }),
    ],
    images: {
      p1: { age: 4, tags: ["prod-1"] },
      p2: { age: 3, tags: ["prod-2"] },
      p3: { age: 2, tags: ["prod-3"] },
      d1: { age: 9, tags: ["dev-1"] },
    },
    expired: { p1: 1 },
  },
  {
    name: "user guide: untagged after 1 day, keep 3 prod, any older than 30 days",
    rules: [
      untaggedOlderThan(1),
      rule(2, { tagStatus: "tagged", tagPrefixList: ["prod"], countType: "imageCountMoreThan", countNumber: 3 }),
      rule(3, { tagStatus: "any", countType: "sinceImagePushed", countUnit: "days", countNumber: 30 }),
    ],
    images: {
      u1: { age: 2 },
      u2: { age: 0.5 },
      p1: { age: 50, tags: ["prod-1"] },
      p2: { age: 40, tags: ["prod-2"] },
      p3: { age: 35, tags: ["prod-3"] },
      p4: { age: 31, tags: ["prod-4"] },
      t1: { age: 45, tags: ["test-1"] },
      t2: { age: 10, tags: ["test-2"] },
    },
    expired: { u1: 1, p1: 2, t1: 3 },
  },
  {
    name: "a shielded image is kept even when no rule above picked it",
    rules: [
      rule(1, { tagStatus: "tagged", tagPrefixList: ["release"], countType: "imageCountMoreThan", countNumber: 10 }),
      rule(2, { tagStatus: "any", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 }),
    ],
    images: { r1: { age: 100, tags: ["release-1"] }, f1: { age: 100, tags: ["feature-1"] }, u: { age: 8 } },
    expired: { f1: 2, u: 2 },
  },
  {
    name: "imageCountMoreThan counts images already marked by a higher rule",
    rules: [
      rule(1, {
        tagStatus: "tagged",
        tagPrefixList: ["tmp"],
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 5,
      }),
      rule(2, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 2 }),
    ],
    images: {
      a: { age: 1, tags: ["tmp-a"] },
      b: { age: 6, tags: ["tmp-b"] },
      c: { age: 2, tags: ["v3"] },
      d: { age: 3, tags: ["v2"] },
      e: { age: 4 },
    },
    // rule 2 ranks a, c, d, e, b (newest first) and picks d, e, b; b is rule 1's already, a is shielded.
    expired: { b: 1, d: 2, e: 2 },
  },
  {
    name: "an image is expired by one rule only: the highest-priority one that picks it",
    rules: [
      untaggedOlderThan(1),
      rule(2, { tagStatus: "any", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 }),
    ],
    images: { u: { age: 5 }, t: { age: 5, tags: ["x"] } },
    expired: { u: 1, t: 2 },
  },
  {
    name: "rules apply by rulePriority, not by their order in the document",
    rules: [rule(9, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 }), untaggedOlderThan(3, 2)],
    images: { u: { age: 5 }, t: { age: 4, tags: ["x"] }, n: { age: 1, tags: ["y"] } },
    expired: { u: 2, t: 9 },
  },
  {
    name: "a tag matching several prefixes counts the image once",
    rules: [rule(1, { tagStatus: "tagged", tagPrefixList: ["v"], countType: "imageCountMoreThan", countNumber: 1 })],
    images: { a: { age: 2, tags: ["v1", "v1.0", "v1.0.0"] }, b: { age: 1, tags: ["v2"] } },
    expired: { a: 1 },
  },
  {
    name: "a prefix matches longer tags (prod matches production)",
    rules: [
      rule(1, {
        tagStatus: "tagged",
        tagPrefixList: ["prod"],
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 1,
      }),
    ],
    images: { a: { age: 2, tags: ["production"] }, b: { age: 2, tags: ["pro"] } },
    expired: { a: 1 },
  },
  {
    name: "a pattern without a wildcard matches the whole tag only",
    rules: [
      rule(1, {
        tagStatus: "tagged",
        tagPatternList: ["latest"],
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 1,
      }),
    ],
    images: { a: { age: 2, tags: ["latest"] }, b: { age: 2, tags: ["latest-1"] } },
    expired: { a: 1 },
  },
  {
    name: "four wildcards in one pattern",
    rules: [
      rule(1, {
        tagStatus: "tagged",
        tagPatternList: ["*test*1*2*3"],
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 1,
      }),
    ],
    images: {
      a: { age: 2, tags: ["my-test-1-2-3"] },
      b: { age: 2, tags: ["test123"] },
      c: { age: 2, tags: ["test-3-2-1"] },
    },
    expired: { a: 1, b: 1 },
  },
  {
    name: "several patterns must each match some tag",
    rules: [
      rule(1, {
        tagStatus: "tagged",
        tagPatternList: ["*-amd64", "v*"],
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 1,
      }),
    ],
    images: {
      a: { age: 2, tags: ["v1", "build-amd64"] },
      b: { age: 2, tags: ["v1-arm64"] },
      c: { age: 2, tags: ["v2-amd64"] },
    },
    expired: { a: 1, c: 1 },
  },
  {
    name: "a tagged rule never selects untagged images",
    rules: [
      rule(1, {
        tagStatus: "tagged",
        tagPatternList: ["*"],
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 1,
      }),
    ],
    images: { u: { age: 9 }, t: { age: 9, tags: ["x"] } },
    expired: { t: 1 },
  },
  {
    name: "sinceImagePulled: an image pulled recently is kept, one pulled long ago expires",
    rules: [rule(1, { tagStatus: "any", countType: "sinceImagePulled", countUnit: "days", countNumber: 30 })],
    images: { hot: { age: 90, pulled: 2 }, cold: { age: 90, pulled: 60 } },
    expired: { cold: 1 },
  },
  {
    name: "sinceImagePulled: an image never pulled counts from its push",
    rules: [rule(1, { tagStatus: "any", countType: "sinceImagePulled", countUnit: "days", countNumber: 30 })],
    images: { old: { age: 31 }, young: { age: 29 } },
    expired: { old: 1 },
  },
  {
    name: "an image exactly countNumber days old is not yet expired",
    rules: [untaggedOlderThan(14)],
    images: { edge: { age: 14 }, past: { age: 14.001 } },
    expired: { past: 1 },
  },
  {
    name: "exactly countNumber images: none expires",
    rules: [rule(1, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 3 })],
    images: { a: { age: 3 }, b: { age: 2 }, c: { age: 1 } },
    expired: {},
  },
  {
    name: "images pushed at the same time are ranked by digest, whatever their input order",
    rules: [rule(1, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 })],
    images: { zz: { age: 1 }, aa: { age: 1 }, mm: { age: 1 } },
    expired: { mm: 1, zz: 1 },
  },
  {
    name: "an empty repository expires nothing",
    rules: [rule(1, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 })],
    images: {},
    expired: {},
  },
  {
    name: "images referenced by an index are kept while the index lives",
    rules: [untaggedOlderThan(1)],
    images: {
      idx: { age: 5, tags: ["multi"], children: ["amd", "arm"] },
      amd: { age: 5 },
      arm: { age: 5 },
      loose: { age: 5 },
    },
    expired: { loose: 1 },
  },
  {
    name: "an index that expires in this run still keeps its children for now",
    rules: [rule(1, { tagStatus: "any", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 })],
    images: { idx: { age: 5, tags: ["old"], children: ["amd"] }, amd: { age: 5 } },
    expired: { idx: 1 },
  },
  {
    name: "children of a nested index are kept",
    rules: [untaggedOlderThan(1)],
    images: {
      top: { age: 2, tags: ["t"], children: ["inner"] },
      inner: { age: 2, children: ["leaf"] },
      leaf: { age: 2 },
    },
    expired: {},
  },
  {
    name: "a referrer expires with its subject, under the subject's rule",
    rules: [
      rule(1, {
        tagStatus: "tagged",
        tagPrefixList: ["pr-"],
        countType: "sinceImagePushed",
        countUnit: "days",
        countNumber: 3,
      }),
    ],
    images: { img: { age: 5, tags: ["pr-7"] }, sig: { age: 5, subject: "img" }, sbom: { age: 1, subject: "img" } },
    expired: { img: 1, sig: 1, sbom: 1 },
  },
  {
    name: "a referrer of a kept image is kept, even untagged and old",
    rules: [untaggedOlderThan(1)],
    images: { img: { age: 50, tags: ["v1"] }, sig: { age: 50, subject: "img" } },
    expired: {},
  },
  {
    name: "a referrer whose subject is not in the repository expires once a day old",
    rules: [untaggedOlderThan(100)],
    images: { orphan: { age: 1.5, subject: "sha256:gone" } },
    expired: { orphan: null },
  },
  {
    name: "a young referrer without its subject is kept (it may be pushed before its subject)",
    rules: [untaggedOlderThan(1)],
    images: { early: { age: 0.5, subject: "sha256:not-yet" } },
    expired: {},
  },
  {
    name: "referrers of referrers go too (a signature of an SBOM of an image)",
    rules: [untaggedOlderThan(1)],
    images: { img: { age: 3 }, sbom: { age: 3, subject: "img" }, sbomSig: { age: 3, subject: "sbom" } },
    expired: { img: 1, sbom: 1, sbomSig: 1 },
  },
  {
    name: "referrers are not counted by imageCountMoreThan",
    rules: [rule(1, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 })],
    images: { img: { age: 2, tags: ["v1"] }, s1: { age: 1, subject: "img" }, s2: { age: 0.5, subject: "img" } },
    expired: {},
  },
  {
    name: "untagged and tagged rules side by side with an any rule last",
    rules: [
      untaggedOlderThan(7),
      rule(2, { tagStatus: "tagged", tagPatternList: ["*-rc*"], countType: "imageCountMoreThan", countNumber: 1 }),
      rule(3, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 3 }),
    ],
    images: {
      u1: { age: 10 },
      u2: { age: 3 },
      rc1: { age: 9, tags: ["1.0-rc1"] },
      rc2: { age: 8, tags: ["1.0-rc2"] },
      r1: { age: 7, tags: ["1.0"] },
      r2: { age: 6, tags: ["1.1"] },
      r3: { age: 5, tags: ["1.2"] },
    },
    // rule 3 ranks u2, r3, r2, r1, rc2, rc1, u1 and picks r1 (rc2, rc1 are shielded by rule 2; u1 is rule 1's).
    expired: { u1: 1, rc1: 2, r1: 3 },
  },
];

describe("evaluateLifecycle", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, testCase) => {
    const policy = parseLifecyclePolicy(JSON.stringify({ rules: testCase.rules }));
    const decisions = evaluateLifecycle(policy, images(testCase.images), NOW);
    expect(Object.fromEntries(decisions.map((d) => [d.digest, d.rulePriority]))).toEqual(testCase.expired);
    expect(new Set(decisions.map((d) => d.digest)).size).toBe(decisions.length);
    for (let i = 1; i < decisions.length; i++)
      expect(decisions[i]!.pushedAt).toBeGreaterThanOrEqual(decisions[i - 1]!.pushedAt);
  });

  it("has at least 30 cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });
});

describe("matchesTagPattern", () => {
  it.each([
    ["prod*", "prod", true],
    ["prod*", "production", true],
    ["prod*", "pro", false],
    ["*prod", "preprod", true],
    ["*", "", true],
    ["a*b*c", "abc", true],
    ["a*b*c", "a-b-c", true],
    ["a*b*c", "a-c-b", false],
    ["a*a", "a", false],
    ["a*a", "aa", true],
    ["v*-*", "v1-2", true],
    ["exact", "exactly", false],
  ] as const)("%s ~ %s is %s", (pattern, tag, expected) => {
    expect(matchesTagPattern(pattern, tag)).toBe(expected);
  });
});
