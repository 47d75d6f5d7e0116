/**
 * IAM policy documents: the normalized types, and `parsePolicyDocument`, which validates the
 * JSON text of an identity policy or a repository (resource) policy and normalizes it.
 * Pure; anything malformed throws a `PolicyError` whose message names the offending element.
 */
import { parseIpRange } from "./ip";

export class PolicyError extends Error {
  override readonly name = "PolicyError";
}

/** The policy size limit ECR applies to repository policies. */
export const MAX_POLICY_LENGTH = 10_240;

export type PolicyKind = "identity" | "resource";
export type PolicyVersion = "2012-10-17" | "2008-10-17";
export type Effect = "Allow" | "Deny";
/**
 * `aws`: account ids and IAM ARNs. `services`: AWS service principals (`lambda.amazonaws.com`),
 * kept so the policies AWS documents for Lambda or CodeBuild are accepted; no caller of this
 * registry is a service principal (src/auth/policy/evaluate.ts).
 */
export type PrincipalSet = { everyone: true } | { everyone: false; aws: string[]; services: string[] };
export type ConditionQualifier = "ForAnyValue" | "ForAllValues" | null;

/** The value format an operator needs, which decides how its values are validated. */
export type ValueFormat = "string" | "arn" | "number" | "date" | "bool" | "ip" | "null";

/** The positive comparison behind each operator (a negated operator inverts it). */
export type Comparison =
  | "StringEquals"
  | "StringEqualsIgnoreCase"
  | "StringLike"
  | "NumericEquals"
  | "NumericLessThan"
  | "NumericLessThanEquals"
  | "NumericGreaterThan"
  | "NumericGreaterThanEquals"
  | "DateEquals"
  | "DateLessThan"
  | "DateLessThanEquals"
  | "DateGreaterThan"
  | "DateGreaterThanEquals"
  | "Bool"
  | "IpAddress"
  | "ArnLike"
  | "Null";

export interface OperatorInfo {
  readonly comparison: Comparison;
  readonly negated: boolean;
  readonly format: ValueFormat;
}

function op(comparison: Comparison, format: ValueFormat, negated = false): OperatorInfo {
  return { comparison, negated, format };
}

export const OPERATORS = {
  StringEquals: op("StringEquals", "string"),
  StringNotEquals: op("StringEquals", "string", true),
  StringEqualsIgnoreCase: op("StringEqualsIgnoreCase", "string"),
  StringNotEqualsIgnoreCase: op("StringEqualsIgnoreCase", "string", true),
  StringLike: op("StringLike", "string"),
  StringNotLike: op("StringLike", "string", true),
  NumericEquals: op("NumericEquals", "number"),
  NumericNotEquals: op("NumericEquals", "number", true),
  NumericLessThan: op("NumericLessThan", "number"),
  NumericLessThanEquals: op("NumericLessThanEquals", "number"),
  NumericGreaterThan: op("NumericGreaterThan", "number"),
  NumericGreaterThanEquals: op("NumericGreaterThanEquals", "number"),
  DateEquals: op("DateEquals", "date"),
  DateNotEquals: op("DateEquals", "date", true),
  DateLessThan: op("DateLessThan", "date"),
  DateLessThanEquals: op("DateLessThanEquals", "date"),
  DateGreaterThan: op("DateGreaterThan", "date"),
  DateGreaterThanEquals: op("DateGreaterThanEquals", "date"),
  Bool: op("Bool", "bool"),
  IpAddress: op("IpAddress", "ip"),
  NotIpAddress: op("IpAddress", "ip", true),
  // IAM documents ArnEquals and ArnLike as the same comparison (wildcards allowed in both).
  ArnEquals: op("ArnLike", "arn"),
  ArnNotEquals: op("ArnLike", "arn", true),
  ArnLike: op("ArnLike", "arn"),
  ArnNotLike: op("ArnLike", "arn", true),
  Null: op("Null", "null"),
} as const satisfies Record<string, OperatorInfo>;

export type ConditionOperator = keyof typeof OPERATORS;

export interface ConditionClause {
  operator: ConditionOperator;
  qualifier: ConditionQualifier;
  ifExists: boolean;
  /** The condition key, lowercased (keys are case-insensitive). */
  key: string;
  values: string[];
}

export interface Statement {
  sid?: string;
  effect: Effect;
  principal?: PrincipalSet;
  notPrincipal?: PrincipalSet;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: ConditionClause[];
}

export interface PolicyDocument {
  version: PolicyVersion;
  statements: Statement[];
}

const TOP_LEVEL_KEYS = ["Version", "Id", "Statement"];
const STATEMENT_KEYS = [
  "Sid",
  "Effect",
  "Principal",
  "NotPrincipal",
  "Action",
  "NotAction",
  "Resource",
  "NotResource",
  "Condition",
];

type JsonObject = Record<string, unknown>;

/** One string of a string-or-array element, with the path that names it in messages. */
interface Item {
  value: string;
  path: string;
}

function fail(message: string): never {
  throw new PolicyError(message);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function has(object: JsonObject, key: string): boolean {
  return Object.hasOwn(object, key);
}

function quote(value: string): string {
  return JSON.stringify(value);
}

/** Validates and normalizes the JSON text of a policy; throws `PolicyError` on anything malformed. */
export function parsePolicyDocument(text: string, kind: PolicyKind): PolicyDocument {
  if (text.length > MAX_POLICY_LENGTH) {
    fail(`Policy document is ${text.length} characters long; the limit is ${MAX_POLICY_LENGTH}`);
  }
  const root = parseJson(text);
  if (!isObject(root)) fail("Policy document must be a JSON object");
  rejectUnknownKeys(root, TOP_LEVEL_KEYS, "Policy document");
  const version = parseVersion(root);
  if (has(root, "Id") && typeof root["Id"] !== "string") fail("Id must be a string");
  const statements = parseStatements(root, kind);
  return { version, statements };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return fail(`Policy document is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function rejectUnknownKeys(object: JsonObject, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) fail(`${where} has unknown key ${quote(key)}`);
  }
}

function parseVersion(root: JsonObject): PolicyVersion {
  if (!has(root, "Version")) return "2008-10-17";
  const version = root["Version"];
  if (version === "2012-10-17" || version === "2008-10-17") return version;
  return fail('Version must be "2012-10-17" or "2008-10-17"');
}

function parseStatements(root: JsonObject, kind: PolicyKind): Statement[] {
  if (!has(root, "Statement")) fail("Statement is required");
  const raw = root["Statement"];
  if (isObject(raw)) return [parseStatement(raw, "Statement", kind)];
  if (!Array.isArray(raw)) fail("Statement must be an object or an array of objects");
  const list: unknown[] = raw;
  if (list.length === 0) fail("Statement must not be empty");
  const statements = list.map((entry, index) => {
    const path = `Statement[${index}]`;
    if (!isObject(entry)) fail(`${path} must be an object`);
    return parseStatement(entry, path, kind);
  });
  rejectDuplicateSids(statements);
  return statements;
}

function rejectDuplicateSids(statements: readonly Statement[]): void {
  const seen = new Map<string, number>();
  statements.forEach((statement, index) => {
    if (statement.sid === undefined) return;
    const first = seen.get(statement.sid);
    if (first !== undefined) {
      fail(`Statement[${index}].Sid ${quote(statement.sid)} duplicates the Sid of Statement[${first}]`);
    }
    seen.set(statement.sid, index);
  });
}

function parseStatement(raw: JsonObject, path: string, kind: PolicyKind): Statement {
  rejectUnknownKeys(raw, STATEMENT_KEYS, path);
  const statement: Statement = { effect: parseEffect(raw, path), conditions: [] };
  const sid = parseSid(raw, path);
  if (sid !== undefined) statement.sid = sid;
  assignPrincipals(statement, raw, path, kind);
  assignActions(statement, raw, path);
  assignResources(statement, raw, path, kind);
  statement.conditions = parseConditions(raw, `${path}.Condition`);
  return statement;
}

function parseSid(raw: JsonObject, path: string): string | undefined {
  if (!has(raw, "Sid")) return undefined;
  const sid = raw["Sid"];
  if (typeof sid !== "string" || !/^[A-Za-z0-9]+$/.test(sid)) {
    fail(`${path}.Sid must be a non-empty string of letters and digits`);
  }
  return sid;
}

function parseEffect(raw: JsonObject, path: string): Effect {
  if (!has(raw, "Effect")) fail(`${path}.Effect is required`);
  const effect = raw["Effect"];
  if (effect === "Allow" || effect === "Deny") return effect;
  return fail(`${path}.Effect must be "Allow" or "Deny"`);
}

/** Which one of a positive/negative element pair is present; fails when both are. */
function pickOne(raw: JsonObject, path: string, positive: string, negative: string): string | null {
  const hasPositive = has(raw, positive);
  const hasNegative = has(raw, negative);
  if (hasPositive && hasNegative) fail(`${path} must not have both ${positive} and ${negative}`);
  if (hasPositive) return positive;
  return hasNegative ? negative : null;
}

function assignPrincipals(statement: Statement, raw: JsonObject, path: string, kind: PolicyKind): void {
  const key = pickOne(raw, path, "Principal", "NotPrincipal");
  if (kind === "identity") {
    if (key !== null) fail(`${path}.${key} is not allowed in an identity policy`);
    return;
  }
  if (key === null) fail(`${path} must have either Principal or NotPrincipal`);
  const set = parsePrincipal(raw[key], `${path}.${key}`);
  if (key === "Principal") statement.principal = set;
  else statement.notPrincipal = set;
}

function assignActions(statement: Statement, raw: JsonObject, path: string): void {
  const key = pickOne(raw, path, "Action", "NotAction");
  if (key === null) fail(`${path} must have either Action or NotAction`);
  const actions = items(raw[key], `${path}.${key}`).map(validateAction);
  if (key === "Action") statement.action = actions;
  else statement.notAction = actions;
}

function assignResources(statement: Statement, raw: JsonObject, path: string, kind: PolicyKind): void {
  const key = pickOne(raw, path, "Resource", "NotResource");
  if (key === null) {
    if (kind === "identity") fail(`${path} must have either Resource or NotResource`);
    return;
  }
  const resources = items(raw[key], `${path}.${key}`).map(validateResource);
  if (key === "Resource") statement.resource = resources;
  else statement.notResource = resources;
}

/** Reads a string-or-array-of-strings element. */
function items(raw: unknown, path: string): Item[] {
  if (typeof raw === "string") return [{ value: raw, path }];
  const list: unknown[] = Array.isArray(raw) ? raw : [];
  const strings = list.filter((entry): entry is string => typeof entry === "string");
  if (strings.length === 0 || strings.length !== list.length) {
    fail(`${path} must be a string or a non-empty array of strings`);
  }
  return strings.map((value, index) => ({ value, path: `${path}[${index}]` }));
}

const ACTION = /^[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+$/;

function validateAction(item: Item): string {
  if (item.value === "*" || ACTION.test(item.value)) return item.value;
  return fail(`${item.path} ${quote(item.value)} is not a valid action; expected "service:Action" or "*"`);
}

const ARN = /^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$/;

function validateResource(item: Item): string {
  if (item.value === "*" || ARN.test(item.value)) return item.value;
  return fail(`${item.path} ${quote(item.value)} is not a valid resource; expected "*" or an ARN`);
}

const ACCOUNT_ID = /^\d{12}$/;
const IAM_PRINCIPAL_ARN = /^arn:[a-z-]+:iam::\d{12}:(root|user\/.+|role\/.+)$/;

const PRINCIPAL_TYPES = ["AWS", "Service"];

function parsePrincipal(raw: unknown, path: string): PrincipalSet {
  if (raw === "*") return { everyone: true };
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    fail(`${path} must be "*" or an object with "AWS" or "Service" keys`);
  }
  for (const type of Object.keys(raw)) {
    if (!PRINCIPAL_TYPES.includes(type))
      fail(`${path} has unsupported principal type ${quote(type)} (only "AWS" and "Service" are supported)`);
  }
  const aws = has(raw, "AWS") ? items(raw["AWS"], `${path}.AWS`).map(validatePrincipal) : [];
  const services = has(raw, "Service") ? items(raw["Service"], `${path}.Service`).map(validateServicePrincipal) : [];
  return aws.includes("*") ? { everyone: true } : { everyone: false, aws, services };
}

function validatePrincipal(item: Item): string {
  const value = item.value;
  if (value === "*" || ACCOUNT_ID.test(value) || IAM_PRINCIPAL_ARN.test(value)) return value;
  return fail(`${item.path} ${quote(value)} must be "*", a 12-digit account id or an IAM user, role or root ARN`);
}

/** A service principal is the DNS-style name of an AWS service; IAM allows no wildcard in it. */
const SERVICE_PRINCIPAL =
  /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*\.(amazonaws\.com|amazonaws\.com\.cn|amazon\.com)$/;

function validateServicePrincipal(item: Item): string {
  if (SERVICE_PRINCIPAL.test(item.value)) return item.value;
  return fail(`${item.path} ${quote(item.value)} must be an AWS service principal such as "lambda.amazonaws.com"`);
}

// ---- Conditions ----------------------------------------------------------------------------

interface ParsedOperator {
  operator: ConditionOperator;
  qualifier: ConditionQualifier;
  ifExists: boolean;
}

const QUALIFIERS = ["ForAnyValue", "ForAllValues"] as const;

function isOperator(name: string): name is ConditionOperator {
  return Object.hasOwn(OPERATORS, name);
}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts; null when it is not a supported operator. */
export function parseOperatorName(name: string): ParsedOperator | null {
  const qualifier = QUALIFIERS.find((q) => name.startsWith(`${q}:`)) ?? null;
  let base = qualifier === null ? name : name.slice(qualifier.length + 1);
  const ifExists = base.endsWith("IfExists");
  if (ifExists) base = base.slice(0, -"IfExists".length);
  if (!isOperator(base)) return null;
  if (base === "Null" && (ifExists || qualifier !== null)) return null;
  return { operator: base, qualifier, ifExists };
}

function parseConditions(raw: JsonObject, path: string): ConditionClause[] {
  if (!has(raw, "Condition")) return [];
  const block = raw["Condition"];
  if (!isObject(block)) fail(`${path} must be an object`);
  return Object.entries(block).flatMap(([name, body]) => parseOperatorBlock(name, body, path));
}

function parseOperatorBlock(name: string, body: unknown, path: string): ConditionClause[] {
  const parsed = parseOperatorName(name) ?? fail(`${path} has unknown operator ${quote(name)}`);
  const where = `${path}.${name}`;
  if (!isObject(body) || Object.keys(body).length === 0) {
    fail(`${where} must be an object mapping condition keys to values`);
  }
  return Object.entries(body).map(([key, rawValues]) => {
    if (!/^[^:\s]+:.+$/.test(key)) fail(`${where} key ${quote(key)} must be of the form "prefix:name"`);
    const values = conditionValues(rawValues, `${where}[${quote(key)}]`, OPERATORS[parsed.operator].format);
    return { ...parsed, key: key.toLowerCase(), values };
  });
}

function conditionValues(raw: unknown, path: string, format: ValueFormat): string[] {
  const list: unknown[] = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) fail(`${path} must not be an empty array`);
  return list.map((entry, index) => {
    const itemPath = Array.isArray(raw) ? `${path}[${index}]` : path;
    return validateConditionValue(scalarText(entry, itemPath), itemPath, format);
  });
}

function scalarText(value: unknown, path: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return fail(`${path} must be a string, number or boolean`);
}

function validateConditionValue(value: string, path: string, format: ValueFormat): string {
  switch (format) {
    case "ip":
      if (parseIpRange(value) === null) fail(`${path} ${quote(value)} is not a valid IP address or CIDR block`);
      return value;
    case "number":
      if (parseNumber(value) === null) fail(`${path} ${quote(value)} is not a valid number`);
      return value;
    case "date":
      if (parseInstant(value) === null) {
        fail(`${path} ${quote(value)} is not a valid date; expected ISO 8601 or epoch seconds`);
      }
      return value;
    case "bool":
    case "null": {
      const lower = value.toLowerCase();
      if (lower !== "true" && lower !== "false") fail(`${path} ${quote(value)} must be "true" or "false"`);
      return lower;
    }
    default:
      return value;
  }
}

// ---- Value formats (shared with the evaluator) ---------------------------------------------

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number, or null. */
export function parseNumber(text: string): number | null {
  if (!NUMBER.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
const EPOCH_SECONDS = /^\d+(\.\d+)?$/;

/** An instant in epoch milliseconds from ISO 8601 (UTC unless an offset is given) or epoch seconds. */
export function parseInstant(text: string): number | null {
  if (EPOCH_SECONDS.test(text)) return Number(text) * 1000;
  const match = ISO_8601.exec(text);
  if (match === null) return null;
  const part = (index: number): number => Number(match[index] ?? "0");
  const [year, month, day] = [part(1), part(2), part(3)];
  const [hour, minute, second] = [part(4), part(5), part(6)];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  const offset = offsetMillis(match[8]);
  if (hour > 23 || minute > 59 || second > 59 || offset === null) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(`${match[7] ?? ""}000`.slice(0, 3)));
  return date.getTime() - offset;
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/** The zone offset in milliseconds; null when out of range. */
function offsetMillis(zone: string | undefined): number | null {
  if (zone === undefined || zone === "Z" || zone === "z") return 0;
  const digits = zone.slice(1).replace(":", "");
  const [hours, minutes] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
  if (hours > 23 || minutes > 59) return null;
  return (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}
