import { describe, expect, it } from "vitest";
import { LifecyclePolicyError, parseLifecyclePolicy } from "./policy";

const PAD = "a description long enough that every test policy passes the 100 character minimum";

function text(rules: unknown[]): string {
  return JSON.stringify({ rules });
}

function rule(
  rulePriority: number,
  selection: Record<string, unknown>,
  action: Record<string, unknown> = { type: "expire" },
) {
  return { rulePriority, description: PAD, selection, action };
}

const untagged = (priority: number) =>
  rule(priority, { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 14 });

describe("parseLifecyclePolicy", () => {
  it("accepts ECR's documented shapes and sorts rules by priority", () => {
    const policy = parseLifecyclePolicy(
      text([
        rule(10, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 100 }),
        rule(2, { tagStatus: "tagged", tagPrefixList: ["prod"], countType: "imageCountMoreThan", countNumber: 5 }),
        untagged(1),
        rule(3, {
          tagStatus: "tagged",
          tagPatternList: ["*test*1*2*3", "test*1*2*3*"],
          storageClass: "standard",
          countType: "sinceImagePulled",
          countUnit: "days",
          countNumber: 30,
        }),
      ]),
    );
    expect(policy.rules.map((r) => r.rulePriority)).toEqual([1, 2, 3, 10]);
    expect(policy.rules[0]!.selection).toMatchObject({
      tagStatus: "untagged",
      countUnit: "days",
      countNumber: 14,
      tagPrefixList: null,
    });
  });

  it.each([
    ["short text", '{"rules":[]}', /100 to 30720 characters/],
    ["not JSON", "{" + " ".repeat(120), /not valid JSON/],
    ["no rules", JSON.stringify({ rules: [], pad: PAD }), /unknown field "pad"/],
    ["empty rules", JSON.stringify({ rules: [] }).padEnd(120, " "), /rules must be a non-empty list/],
    [
      "51 rules",
      text(
        Array.from({ length: 51 }, (_, i) =>
          rule(i + 1, {
            tagStatus: "tagged",
            tagPrefixList: [`p${i}`],
            countType: "imageCountMoreThan",
            countNumber: 1,
          }),
        ),
      ),
      /at most 50 rules/,
    ],
    [
      "duplicate priorities",
      text([
        untagged(1),
        rule(1, { tagStatus: "tagged", tagPrefixList: ["x"], countType: "imageCountMoreThan", countNumber: 1 }),
      ]),
      /rulePriority 1 is used by more than one rule/,
    ],
    ["priority zero", text([untagged(0)]), /rulePriority must be a positive integer/],
    [
      "any not last",
      text([rule(1, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 1 }), untagged(2)]),
      /"any" .*must have the highest rulePriority/,
    ],
    [
      "tagged without a list",
      text([rule(1, { tagStatus: "tagged", countType: "imageCountMoreThan", countNumber: 1 })]),
      /needs tagPrefixList or tagPatternList/,
    ],
    [
      "tagged with both lists",
      text([
        rule(1, {
          tagStatus: "tagged",
          tagPrefixList: ["a"],
          tagPatternList: ["a*"],
          countType: "imageCountMoreThan",
          countNumber: 1,
        }),
      ]),
      /not both/,
    ],
    [
      "untagged with prefixes",
      text([rule(1, { tagStatus: "untagged", tagPrefixList: ["a"], countType: "imageCountMoreThan", countNumber: 1 })]),
      /only for tagStatus "tagged"/,
    ],
    [
      "five wildcards",
      text([
        rule(1, {
          tagStatus: "tagged",
          tagPatternList: ["test*1*2*3*4*5*6"],
          countType: "imageCountMoreThan",
          countNumber: 1,
        }),
      ]),
      /has 6 wildcards; at most 4/,
    ],
    [
      "countUnit with imageCountMoreThan",
      text([rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countUnit: "days", countNumber: 1 })]),
      /countUnit cannot be used with countType "imageCountMoreThan"/,
    ],
    [
      "since without countUnit",
      text([rule(1, { tagStatus: "untagged", countType: "sinceImagePushed", countNumber: 1 })]),
      /countUnit must be "days"/,
    ],
    [
      "countNumber zero",
      text([rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 0 })]),
      /countNumber must be a positive integer/,
    ],
    [
      "countNumber fraction",
      text([rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 1.5 })]),
      /countNumber must be a positive integer/,
    ],
    [
      "unknown countType",
      text([rule(1, { tagStatus: "untagged", countType: "sinceForever", countNumber: 1 })]),
      /countType must be/,
    ],
    [
      "unknown tagStatus",
      text([rule(1, { tagStatus: "some", countType: "imageCountMoreThan", countNumber: 1 })]),
      /tagStatus must be/,
    ],
    [
      "transition action",
      text([
        rule(
          1,
          { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 1 },
          { type: "transition", targetStorageClass: "archive" },
        ),
      ]),
      /action.type must be "expire"/,
    ],
    [
      "archive storage class",
      text([
        rule(1, { tagStatus: "untagged", storageClass: "archive", countType: "imageCountMoreThan", countNumber: 1 }),
      ]),
      /only "standard"/,
    ],
    ["two untagged rules", text([untagged(1), untagged(2)]), /only one rule may select untagged images/],
    [
      "same prefix set twice",
      text([
        rule(1, { tagStatus: "tagged", tagPrefixList: ["a", "b"], countType: "imageCountMoreThan", countNumber: 1 }),
        rule(2, { tagStatus: "tagged", tagPrefixList: ["b", "a"], countType: "imageCountMoreThan", countNumber: 2 }),
      ]),
      /same tag prefixes/,
    ],
    [
      "unknown selection field",
      text([rule(1, { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 1, tagFilter: "x" })]),
      /unknown field "tagFilter"/,
    ],
    [
      "missing action",
      text([
        {
          rulePriority: 1,
          description: PAD,
          selection: { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: 1 },
        },
      ]),
      /action is required/,
    ],
    [
      "empty prefix",
      text([rule(1, { tagStatus: "tagged", tagPrefixList: [""], countType: "imageCountMoreThan", countNumber: 1 })]),
      /tagPrefixList\[0\] must be a non-empty string/,
    ],
  ])("refuses %s", (_name, document, message) => {
    expect(() => parseLifecyclePolicy(document)).toThrow(LifecyclePolicyError);
    expect(() => parseLifecyclePolicy(document)).toThrow(message);
  });
});
