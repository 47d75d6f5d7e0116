/**
 * ECR lifecycle policy documents: parsing and validation, with messages precise enough to fix
 * the document by. Pure: no I/O. The rules follow ECR's user guide (lifecycle policy
 * parameters): unique priorities, the `any` rule last, `tagged` rules with exactly one of
 * tagPrefixList / tagPatternList, at most 4 wildcards per pattern, countUnit only (and always)
 * with the `since*` count types, a positive countNumber, one rule for untagged images, and no
 * two rules with the same tag prefixes. Only the `expire` action exists here (no archive
 * storage class).
 */

export class LifecyclePolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LifecyclePolicyError";
  }
}

export const MIN_POLICY_LENGTH = 100;
export const MAX_POLICY_LENGTH = 30_720;
export const MAX_RULES = 50;
const MAX_WILDCARDS = 4;

export type TagStatus = "tagged" | "untagged" | "any";
export type CountType = "imageCountMoreThan" | "sinceImagePushed" | "sinceImagePulled";

export interface LifecycleSelection {
  tagStatus: TagStatus;
  tagPrefixList: string[] | null;
  tagPatternList: string[] | null;
  countType: CountType;
  /** Days, for the `since*` count types; null for imageCountMoreThan. */
  countUnit: "days" | null;
  countNumber: number;
}

export interface LifecycleRule {
  rulePriority: number;
  description: string | null;
  selection: LifecycleSelection;
  action: { type: "expire" };
}

export interface LifecyclePolicy {
  /** Sorted by rulePriority, lowest (applied first) first. */
  rules: LifecycleRule[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new LifecyclePolicyError(message);
}

function onlyKeys(value: Json, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${where}: unknown field "${key}" (allowed: ${allowed.join(", ")})`);
  }
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0) fail(`${where} must be a non-empty list of strings`);
  return value.map((item, index) => {
    if (typeof item !== "string" || item.length === 0) fail(`${where}[${index}] must be a non-empty string`);
    return item;
  });
}

function parseSelection(value: unknown, where: string): LifecycleSelection {
  if (!isObject(value)) fail(`${where}.selection is required and must be an object`);
  const at = `${where}.selection`;
  onlyKeys(
    value,
    ["tagStatus", "tagPrefixList", "tagPatternList", "storageClass", "countType", "countUnit", "countNumber"],
    at,
  );
  const tagStatus = value.tagStatus;
  if (tagStatus !== "tagged" && tagStatus !== "untagged" && tagStatus !== "any") {
    fail(`${at}.tagStatus must be "tagged", "untagged" or "any"`);
  }
  if (value.storageClass !== undefined && value.storageClass !== "standard") {
    fail(`${at}.storageClass: only "standard" is supported (no archive storage class)`);
  }
  const tagPrefixList =
    value.tagPrefixList === undefined ? null : stringList(value.tagPrefixList, `${at}.tagPrefixList`);
  const tagPatternList =
    value.tagPatternList === undefined ? null : stringList(value.tagPatternList, `${at}.tagPatternList`);
  if (tagStatus === "tagged") {
    if (tagPrefixList === null && tagPatternList === null)
      fail(`${at}: a "tagged" rule needs tagPrefixList or tagPatternList`);
    if (tagPrefixList !== null && tagPatternList !== null) fail(`${at}: use tagPrefixList or tagPatternList, not both`);
  } else if (tagPrefixList !== null || tagPatternList !== null) {
    fail(`${at}: tagPrefixList and tagPatternList are only for tagStatus "tagged"`);
  }
  for (const [index, pattern] of (tagPatternList ?? []).entries()) {
    const wildcards = pattern.split("*").length - 1;
    if (wildcards > MAX_WILDCARDS)
      fail(
        `${at}.tagPatternList[${index}] "${pattern}" has ${wildcards} wildcards; at most ${MAX_WILDCARDS} are allowed`,
      );
  }
  const countType = value.countType;
  if (countType !== "imageCountMoreThan" && countType !== "sinceImagePushed" && countType !== "sinceImagePulled") {
    fail(`${at}.countType must be "imageCountMoreThan", "sinceImagePushed" or "sinceImagePulled"`);
  }
  let countUnit: "days" | null = null;
  if (countType === "imageCountMoreThan") {
    if (value.countUnit !== undefined) fail(`${at}.countUnit cannot be used with countType "imageCountMoreThan"`);
  } else {
    if (value.countUnit !== "days") fail(`${at}.countUnit must be "days" with countType "${countType}"`);
    countUnit = "days";
  }
  const countNumber = value.countNumber;
  if (typeof countNumber !== "number" || !Number.isInteger(countNumber) || countNumber < 1) {
    fail(`${at}.countNumber must be a positive integer`);
  }
  return { tagStatus, tagPrefixList, tagPatternList, countType, countUnit, countNumber };
}

function parseRule(value: unknown, index: number): LifecycleRule {
  const where = `rules[${index}]`;
  if (!isObject(value)) fail(`${where} must be an object`);
  onlyKeys(value, ["rulePriority", "description", "selection", "action"], where);
  const rulePriority = value.rulePriority;
  if (typeof rulePriority !== "number" || !Number.isInteger(rulePriority) || rulePriority < 1) {
    fail(`${where}.rulePriority must be a positive integer`);
  }
  if (value.description !== undefined && (typeof value.description !== "string" || value.description.length > 256)) {
    fail(`${where}.description must be a string of at most 256 characters`);
  }
  const selection = parseSelection(value.selection, where);
  const action = value.action;
  if (!isObject(action)) fail(`${where}.action is required and must be an object`);
  onlyKeys(action, ["type", "targetStorageClass"], `${where}.action`);
  if (action.type !== "expire") fail(`${where}.action.type must be "expire" (transition to archive is not supported)`);
  return {
    rulePriority,
    description: typeof value.description === "string" ? value.description : null,
    selection,
    action: { type: "expire" },
  };
}

/** Parses and validates a lifecycle policy document; throws LifecyclePolicyError. */
export function parseLifecyclePolicy(text: string): LifecyclePolicy {
  if (text.length < MIN_POLICY_LENGTH || text.length > MAX_POLICY_LENGTH) {
    fail(`the policy must be ${MIN_POLICY_LENGTH} to ${MAX_POLICY_LENGTH} characters; it has ${text.length}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    fail(`the policy is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(document)) fail("the policy must be a JSON object with a rules list");
  onlyKeys(document, ["rules"], "policy");
  if (!Array.isArray(document.rules) || document.rules.length === 0) fail("rules must be a non-empty list");
  if (document.rules.length > MAX_RULES)
    fail(`at most ${MAX_RULES} rules are allowed; the policy has ${document.rules.length}`);
  const rules = document.rules.map(parseRule);

  const priorities = new Set<number>();
  for (const rule of rules) {
    if (priorities.has(rule.rulePriority))
      fail(`rulePriority ${rule.rulePriority} is used by more than one rule; priorities must be unique`);
    priorities.add(rule.rulePriority);
  }
  const highest = Math.max(...priorities);
  for (const rule of rules) {
    if (rule.selection.tagStatus === "any" && rule.rulePriority !== highest) {
      fail(
        `the rule with tagStatus "any" (rulePriority ${rule.rulePriority}) must have the highest rulePriority (${highest}), so it is evaluated last`,
      );
    }
  }
  if (rules.filter((rule) => rule.selection.tagStatus === "untagged").length > 1)
    fail('only one rule may select untagged images (tagStatus "untagged")');
  const prefixSets = new Map<string, number>();
  for (const rule of rules) {
    if (rule.selection.tagPrefixList === null) continue;
    const key = JSON.stringify([...new Set(rule.selection.tagPrefixList)].sort());
    const other = prefixSets.get(key);
    if (other !== undefined)
      fail(
        `rules ${other} and ${rule.rulePriority} select the same tag prefixes; each rule's tagPrefixList must be a unique set`,
      );
    prefixSets.set(key, rule.rulePriority);
  }
  return { rules: [...rules].sort((a, b) => a.rulePriority - b.rulePriority) };
}
