/**
 * IAM policy evaluation for a single account: identity policies of the caller plus the
 * repository (resource) policy. An explicit Deny anywhere wins, then any Allow, else the
 * request is implicitly denied. Pure: the caller supplies the request context and the
 * parsed documents.
 */
import {
  OPERATORS,
  parseInstant,
  parseNumber,
  type Comparison,
  type ConditionClause,
  type PolicyDocument,
  type PolicyVersion,
  type PrincipalSet,
  type Statement,
} from "./document";
import { parseIpAddress, parseIpRange, rangeContains } from "./ip";

/** An authenticated IAM user. */
export interface Caller {
  arn: string;
  accountId: string;
  username: string;
}

export interface RequestContext {
  /** null = anonymous. */
  caller: Caller | null;
  /** e.g. "ecr:BatchGetImage". */
  action: string;
  /** e.g. "arn:aws:ecr:us-east-1:123456789012:repository/team-a/web". */
  resource: string;
  /** Condition keys; names are case-insensitive. */
  keys: Record<string, string | string[] | undefined>;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

export interface PolicySet {
  identity: readonly PolicyDocument[];
  resource: readonly PolicyDocument[];
}

type PolicySource = "identity" | "resource";
type KeyValue = string | readonly string[];

/** The request as seen by one document: keys by lowercased name, and whether variables apply. */
interface Scope {
  request: RequestContext;
  keys: ReadonlyMap<string, KeyValue>;
  /** Policy variables are only substituted in 2012-10-17 documents, as in IAM. */
  variables: boolean;
}

export function evaluate(request: RequestContext, policies: PolicySet): Decision {
  const keys = contextKeys(request);
  let allowed = false;
  for (const { document, source } of applicableDocuments(request, policies)) {
    const scope: Scope = { request, keys, variables: usesVariables(document.version) };
    for (const statement of document.statements) {
      if (!statementApplies(statement, source, scope)) continue;
      if (statement.effect === "Deny") return "ExplicitDeny";
      allowed = true;
    }
  }
  return allowed ? "Allow" : "ImplicitDeny";
}

/**
 * Why a request is denied, in words for the 403's message (the request and policies must give
 * a denial): the explicit Deny statement that applies, else an Allow statement that matches
 * the action and resource but whose condition does not hold, else that nothing allows it.
 * Names statements (by Sid, else position), condition operators and keys, and the request's
 * own value of the key; never the values a policy compares against.
 */
export function explainDenial(request: RequestContext, policies: PolicySet): string {
  const keys = contextKeys(request);
  let failedAllow: string | null = null;
  for (const { document, source } of applicableDocuments(request, policies)) {
    const scope: Scope = { request, keys, variables: usesVariables(document.version) };
    for (const [index, statement] of document.statements.entries()) {
      const name = `statement ${statement.sid !== undefined ? `"${statement.sid}"` : index + 1} of ${source === "identity" ? "an identity policy" : "the repository policy"}`;
      const matches =
        (source === "identity" || principalApplies(statement, request.caller)) &&
        actionApplies(statement, request.action) &&
        resourceApplies(statement, scope);
      if (!matches) continue;
      const failed = statement.conditions.find((clause) => !conditionHolds(clause, scope));
      if (statement.effect === "Deny" && failed === undefined) {
        const conditions = statement.conditions.map((clause) => describeCondition(clause, request));
        return `denied explicitly by ${name}${conditions.length > 0 ? ` (its conditions hold: ${conditions.join(", ")})` : ""}`;
      }
      if (statement.effect === "Allow" && failed !== undefined && failedAllow === null) {
        const key = displayKey(failed.key, request);
        const values = keys.get(failed.key);
        const actual = values === undefined ? "absent" : typeof values === "string" ? values : values.join(", ");
        failedAllow = `${name} would allow it, but its condition ${describeCondition(failed, request)} does not hold (the request's ${key} is ${actual})`;
      }
    }
  }
  return failedAllow ?? "no statement of the caller's identity policies or the repository policy allows it";
}

function displayKey(lowercased: string, request: RequestContext): string {
  return Object.keys(request.keys).find((name) => name.toLowerCase() === lowercased) ?? lowercased;
}

function describeCondition(clause: ConditionClause, request: RequestContext): string {
  const qualifier = clause.qualifier === null ? "" : `${clause.qualifier}:`;
  return `${qualifier}${clause.operator}${clause.ifExists ? "IfExists" : ""} on ${displayKey(clause.key, request)}`;
}

function applicableDocuments(
  request: RequestContext,
  policies: PolicySet,
): { document: PolicyDocument; source: PolicySource }[] {
  // Anonymous callers have no identity policies.
  const identity = request.caller === null ? [] : policies.identity;
  return [
    ...identity.map((document) => ({ document, source: "identity" as const })),
    ...policies.resource.map((document) => ({ document, source: "resource" as const })),
  ];
}

function usesVariables(version: PolicyVersion): boolean {
  return version === "2012-10-17";
}

/**
 * The condition keys of a request. The principal keys (aws:username, aws:PrincipalArn,
 * aws:PrincipalAccount) always come from the caller; aws:userid defaults to the user name
 * (or "anonymous") unless the request supplies it.
 */
function contextKeys(request: RequestContext): Map<string, KeyValue> {
  const keys = new Map<string, KeyValue>();
  for (const [name, value] of Object.entries(request.keys)) {
    if (value !== undefined) keys.set(name.toLowerCase(), value);
  }
  for (const name of ["aws:username", "aws:principalarn", "aws:principalaccount"]) keys.delete(name);
  const caller = request.caller;
  if (caller !== null) {
    keys.set("aws:username", caller.username);
    keys.set("aws:principalarn", caller.arn);
    keys.set("aws:principalaccount", caller.accountId);
  }
  if (!keys.has("aws:userid")) keys.set("aws:userid", caller === null ? "anonymous" : caller.username);
  return keys;
}

function statementApplies(statement: Statement, source: PolicySource, scope: Scope): boolean {
  return (
    (source === "identity" || principalApplies(statement, scope.request.caller)) &&
    actionApplies(statement, scope.request.action) &&
    resourceApplies(statement, scope) &&
    statement.conditions.every((clause) => conditionHolds(clause, scope))
  );
}

// ---- Principals ----------------------------------------------------------------------------

function principalApplies(statement: Statement, caller: Caller | null): boolean {
  if (statement.principal !== undefined) return principalMatches(statement.principal, caller);
  if (statement.notPrincipal !== undefined) return !principalMatches(statement.notPrincipal, caller);
  return false;
}

/**
 * Service principals (`set.services`) never match: they name an AWS service acting on its own
 * behalf (Lambda fetching a function image, CodeBuild pulling a build image), and no AWS
 * service calls this registry, whose callers are its own IAM users or anonymous. So an Allow
 * for a service grants nobody anything, and a NotPrincipal naming one excludes nobody. The
 * statement is still stored and returned verbatim, so a policy written for ECR round-trips.
 */
function principalMatches(set: PrincipalSet, caller: Caller | null): boolean {
  if (set.everyone) return true;
  return caller !== null && set.aws.some((entry) => principalEntryMatches(entry, caller));
}

const ROOT_ARN = /^arn:[a-z-]+:iam::(\d{12}):root$/;

/** An account id or root ARN names every user of the account; any other ARN names one principal. */
function principalEntryMatches(entry: string, caller: Caller): boolean {
  const account = /^\d{12}$/.test(entry) ? entry : (ROOT_ARN.exec(entry)?.[1] ?? null);
  return account !== null ? caller.accountId === account : caller.arn === entry;
}

// ---- Actions and resources -----------------------------------------------------------------

function actionApplies(statement: Statement, action: string): boolean {
  const matches = (pattern: string): boolean => matchesPattern(pattern, action, true);
  if (statement.action !== undefined) return statement.action.some(matches);
  if (statement.notAction !== undefined) return !statement.notAction.some(matches);
  return false;
}

/** An absent Resource (allowed in resource policies) covers the resource the policy is attached to. */
function resourceApplies(statement: Statement, scope: Scope): boolean {
  const matches = (pattern: string): boolean => {
    const tokens = compileTemplate(pattern, scope, keepCase);
    return tokens !== null && matchTokens(tokens, scope.request.resource, keepCase);
  };
  if (statement.resource !== undefined) return statement.resource.some(matches);
  if (statement.notResource !== undefined) return !statement.notResource.some(matches);
  return true;
}

// ---- Wildcard patterns ---------------------------------------------------------------------

type Token = { kind: "star" } | { kind: "one" } | { kind: "char"; char: string };
type Fold = (text: string) => string;

const STAR: Token = { kind: "star" };
const ONE: Token = { kind: "one" };
const keepCase: Fold = (text) => text;
const lowerCase: Fold = (text) => text.toLowerCase();

/** `*` matches any run of characters, `?` exactly one; everything else is literal. */
export function matchesPattern(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const fold = caseInsensitive ? lowerCase : keepCase;
  const tokens = compileTemplate(pattern, null, fold);
  return tokens !== null && matchTokens(tokens, value, fold);
}

function pushLiteral(tokens: Token[], text: string): void {
  for (const char of text) tokens.push({ kind: "char", char });
}

/**
 * Compiles a pattern to tokens. With a scope whose document uses variables, `${name}` is
 * replaced by the key's (literal) value; `${*}`, `${?}` and `${$}` are literal escapes.
 * Returns null when a variable cannot be resolved.
 */
function compileTemplate(pattern: string, scope: Scope | null, fold: Fold): Token[] | null {
  const tokens: Token[] = [];
  let index = 0;
  while (index < pattern.length) {
    const end = scope?.variables === true && pattern.startsWith("${", index) ? pattern.indexOf("}", index) : -1;
    if (scope !== null && end > 0) {
      const value = resolveVariable(pattern.slice(index + 2, end), scope);
      if (value === null) return null;
      pushLiteral(tokens, fold(value));
      index = end + 1;
      continue;
    }
    const char = String.fromCodePoint(pattern.codePointAt(index) ?? 0);
    if (char === "*") tokens.push(STAR);
    else if (char === "?") tokens.push(ONE);
    else pushLiteral(tokens, fold(char));
    index += char.length;
  }
  return tokens;
}

function resolveVariable(name: string, scope: Scope): string | null {
  if (name === "*" || name === "?" || name === "$") return name;
  const value = scope.keys.get(name.trim().toLowerCase());
  return typeof value === "string" ? value : null;
}

/** Renders tokens back to text, for operators that compare without wildcards. */
function tokensToText(tokens: readonly Token[]): string {
  return tokens.map((token) => (token.kind === "char" ? token.char : token.kind === "star" ? "*" : "?")).join("");
}

/** Classic greedy glob matching with backtracking to the last star; linear in practice. */
function matchTokens(tokens: readonly Token[], text: string, fold: Fold): boolean {
  const chars = Array.from(fold(text));
  let t = 0;
  let c = 0;
  let starAt = -1;
  let starMatched = 0;
  while (c < chars.length) {
    const token = tokens[t];
    if (token !== undefined && (token.kind === "one" || (token.kind === "char" && token.char === chars[c]))) {
      t++;
      c++;
    } else if (token?.kind === "star") {
      starAt = t++;
      starMatched = c;
    } else if (starAt >= 0) {
      t = starAt + 1;
      c = ++starMatched;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === "star") t++;
  return t === tokens.length;
}

// ---- Conditions ----------------------------------------------------------------------------

/** The request's values for a key; null when the key is missing (or an empty list). */
function requestValues(scope: Scope, key: string): readonly string[] | null {
  const value = scope.keys.get(key);
  if (value === undefined) return null;
  const list = typeof value === "string" ? [value] : value;
  return list.length === 0 ? null : list;
}

function conditionHolds(clause: ConditionClause, scope: Scope): boolean {
  const values = requestValues(scope, clause.key);
  if (clause.operator === "Null") return clause.values.some((expected) => (expected === "true") === (values === null));
  if (values === null) return missingKeyResult(clause);
  const holds = (value: string): boolean => singleValueHolds(clause, value, scope);
  if (clause.qualifier === "ForAllValues") return values.every(holds);
  if (clause.qualifier === "ForAnyValue") return values.some(holds);
  // Unqualified on a multi-valued key: positive operators need one match, negated ones none.
  return OPERATORS[clause.operator].negated ? values.every(holds) : values.some(holds);
}

function missingKeyResult(clause: ConditionClause): boolean {
  if (clause.ifExists) return true;
  if (clause.qualifier === "ForAnyValue") return false;
  if (clause.qualifier === "ForAllValues") return true;
  return OPERATORS[clause.operator].negated;
}

/** One request value against the clause's values: ORed for positive operators, none for negated. */
function singleValueHolds(clause: ConditionClause, value: string, scope: Scope): boolean {
  const { comparison, negated } = OPERATORS[clause.operator];
  const matched = clause.values.some((expected) => compare(comparison, expected, value, scope));
  return negated ? !matched : matched;
}

type Comparer = (expected: string, actual: string, scope: Scope) => boolean;

function numeric(test: (actual: number, expected: number) => boolean): Comparer {
  return (expected, actual) => {
    const [e, a] = [parseNumber(expected), parseNumber(actual)];
    return e !== null && a !== null && test(a, e);
  };
}

function date(test: (actual: number, expected: number) => boolean): Comparer {
  return (expected, actual) => {
    const [e, a] = [parseInstant(expected), parseInstant(actual)];
    return e !== null && a !== null && test(a, e);
  };
}

/** Substitutes variables into a condition value (string and ARN operators only). */
function substituted(expected: string, scope: Scope, fold: Fold): string | null {
  const tokens = compileTemplate(expected, scope, fold);
  return tokens === null ? null : tokensToText(tokens);
}

const COMPARERS: Record<Comparison, Comparer> = {
  StringEquals: (expected, actual, scope) => substituted(expected, scope, keepCase) === actual,
  StringEqualsIgnoreCase: (expected, actual, scope) => substituted(expected, scope, lowerCase) === actual.toLowerCase(),
  StringLike: (expected, actual, scope) => {
    const tokens = compileTemplate(expected, scope, keepCase);
    return tokens !== null && matchTokens(tokens, actual, keepCase);
  },
  NumericEquals: numeric((a, e) => a === e),
  NumericLessThan: numeric((a, e) => a < e),
  NumericLessThanEquals: numeric((a, e) => a <= e),
  NumericGreaterThan: numeric((a, e) => a > e),
  NumericGreaterThanEquals: numeric((a, e) => a >= e),
  DateEquals: date((a, e) => a === e),
  DateLessThan: date((a, e) => a < e),
  DateLessThanEquals: date((a, e) => a <= e),
  DateGreaterThan: date((a, e) => a > e),
  DateGreaterThanEquals: date((a, e) => a >= e),
  Bool: (expected, actual) => expected.toLowerCase() === actual.toLowerCase(),
  IpAddress: (expected, actual) => {
    const [range, address] = [parseIpRange(expected), parseIpAddress(actual)];
    return range !== null && address !== null && rangeContains(range, address);
  },
  ArnLike: arnMatches,
  // Null is decided on key presence in conditionHolds and never reaches a comparer.
  Null: () => false,
};

function compare(comparison: Comparison, expected: string, actual: string, scope: Scope): boolean {
  return COMPARERS[comparison](expected, actual, scope);
}

/** ARN comparison: each of the six colon-separated parts is matched separately, with wildcards. */
function arnMatches(expected: string, actual: string, scope: Scope): boolean {
  const patternParts = splitArnPattern(expected, scope.variables);
  const actualParts = splitArn(actual);
  if (patternParts === null || actualParts === null) {
    const tokens = compileTemplate(expected, scope, keepCase);
    return tokens !== null && matchTokens(tokens, actual, keepCase);
  }
  return patternParts.every((part, index) => {
    const tokens = compileTemplate(part, scope, keepCase);
    return tokens !== null && matchTokens(tokens, actualParts[index] ?? "", keepCase);
  });
}

function splitArn(arn: string): string[] | null {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn") return null;
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

/** Like splitArn, but colons inside `${...}` variables do not split. */
function splitArnPattern(pattern: string, variables: boolean): string[] | null {
  const parts: string[] = [];
  let start = 0;
  for (let index = 0; index < pattern.length && parts.length < 5; index++) {
    const close = variables && pattern.startsWith("${", index) ? pattern.indexOf("}", index) : -1;
    if (close > 0) index = close;
    else if (pattern[index] === ":") {
      parts.push(pattern.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(pattern.slice(start));
  return parts.length === 6 && parts[0] === "arn" ? parts : null;
}
