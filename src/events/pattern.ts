/**
 * Amazon EventBridge event patterns: how a webhook subscription chooses the registry events it
 * receives. Pure: no I/O. `parseEventPattern` validates a pattern at the boundary with
 * EventBridge's rules (the operators of its user guide, "Comparison operators for use in event
 * patterns", and the reference matcher aws/event-ruler) and compiles it; `matchesEvent` tests
 * an event envelope against the compiled form.
 *
 * Matching follows EventBridge, which treats an event as its leaf values (strings, numbers,
 * booleans, null) found by path, arrays flattened: a leaf array matches when any value in it
 * matches any leaf at that path; `exists` asks whether there is a leaf there at all, so a field
 * holding an object (or an empty array) counts as absent; a nested pattern object applied to an
 * array of objects matches when one element matches it whole (EventBridge's array consistency).
 */

/** What a JSON leaf can be. */
type Scalar = string | number | boolean | null;

interface Bound {
  readonly value: number;
  readonly inclusive: boolean;
}

/** A test of one leaf value. Ignore-case operands are stored folded, so matching folds once. */
type ValueTest =
  | { readonly kind: "equals"; readonly value: Scalar }
  | { readonly kind: "prefix" | "suffix"; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: "equals-ignore-case"; readonly value: string }
  | { readonly kind: "wildcard"; readonly parts: readonly string[] }
  | { readonly kind: "numeric"; readonly lower: Bound | null; readonly upper: Bound | null }
  | { readonly kind: "cidr"; readonly family: 4 | 6; readonly network: bigint; readonly mask: bigint }
  | { readonly kind: "anything-but"; readonly excluded: readonly ValueTest[] };

type Matcher = ValueTest | { readonly kind: "exists"; readonly present: boolean };

type Field =
  | { readonly name: string; readonly leaf: readonly Matcher[] }
  | { readonly name: string; readonly nested: PatternNode };

interface PatternNode {
  readonly fields: readonly Field[];
  /** Each `$or` at this level: one of its alternatives must match the same object. */
  readonly anyOf: readonly (readonly PatternNode[])[];
}

declare const validated: unique symbol;

/** A pattern that `parseEventPattern` accepted; only it makes one. */
export type EventPattern = PatternNode & { readonly [validated]: true };

export const MAX_PATTERN_BYTES = 4096;
export const MAX_PATTERN_DEPTH = 10;
export const MAX_PATTERN_LEAVES = 256;

const OPERATORS = new Set([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "wildcard",
  "anything-but",
  "exists",
  "numeric",
  "cidr",
]);

/** Thrown inside the parser only; parseEventPattern turns it into its `ok: false` answer. */
class PatternError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(path: string, problem: string): never {
  throw new PatternError(`${path === "" ? "pattern" : path}: ${problem}`);
}

function child(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

export function parseEventPattern(
  value: unknown,
): { ok: true; pattern: EventPattern } | { ok: false; message: string } {
  try {
    if (!isObject(value)) fail("", "must be a JSON object");
    let json: string;
    try {
      json = JSON.stringify(value);
    } catch (_error) {
      fail("", "must be plain JSON");
    }
    // Measured before the walk, so an oversized pattern costs no more than its serialization.
    const bytes = new TextEncoder().encode(json).byteLength;
    if (bytes > MAX_PATTERN_BYTES) fail("", `is ${bytes} bytes as JSON, over the ${MAX_PATTERN_BYTES}-byte limit`);
    const node = parseNode(value, "", 1, { leaves: 0 }, false);
    // The brand is what makes "validated" hold: no other code path produces one.
    return { ok: true, pattern: node as EventPattern };
  } catch (error) {
    if (error instanceof PatternError) return { ok: false, message: error.message };
    throw error;
  }
}

function parseNode(
  object: Record<string, unknown>,
  path: string,
  depth: number,
  counts: { leaves: number },
  inOr: boolean,
): PatternNode {
  if (depth > MAX_PATTERN_DEPTH) fail(path, `nesting is deeper than ${MAX_PATTERN_DEPTH} levels`);
  const entries = Object.entries(object);
  if (entries.length === 0) fail(path, "must not be an empty object");
  const fields: Field[] = [];
  const anyOf: PatternNode[][] = [];
  for (const [name, value] of entries) {
    const fieldPath = child(path, name);
    if (name === "$or") {
      if (!Array.isArray(value) || value.length < 2) {
        fail(fieldPath, "must be an array of at least two pattern objects");
      }
      anyOf.push(
        value.map((alternative: unknown, i) => {
          const altPath = `${fieldPath}[${i}]`;
          if (!isObject(alternative)) fail(altPath, "must be a pattern object");
          return parseNode(alternative, altPath, depth + 1, counts, true);
        }),
      );
    } else if (inOr && OPERATORS.has(name)) {
      // EventBridge reserves operator names inside $or, where they would read as a misplaced operator.
      fail(fieldPath, `"${name}" is an operator name and cannot be a field inside $or`);
    } else if (Array.isArray(value)) {
      counts.leaves += 1;
      if (counts.leaves > MAX_PATTERN_LEAVES) fail(fieldPath, `the pattern has more than ${MAX_PATTERN_LEAVES} fields`);
      if (value.length === 0) fail(fieldPath, "must not be an empty array");
      fields.push({ name, leaf: value.map((item: unknown) => parseMatchValue(item, fieldPath)) });
    } else if (isObject(value)) {
      fields.push({ name, nested: parseNode(value, fieldPath, depth + 1, counts, inOr) });
    } else {
      fail(fieldPath, "must be an array of match values or a nested pattern object");
    }
  }
  return { fields, anyOf };
}

function parseMatchValue(value: unknown, path: string): Matcher {
  if (value === null || typeof value === "string" || typeof value === "boolean") return { kind: "equals", value };
  if (typeof value === "number") return { kind: "equals", value: finite(value, path) };
  if (!isObject(value)) fail(path, "a match value must be a string, number, boolean, null or operator object");
  const keys = Object.keys(value);
  if (keys.length !== 1) fail(path, `an operator object must have exactly one key, not ${keys.length}`);
  const operator = keys[0]!;
  const operand = value[operator];
  switch (operator) {
    case "prefix":
    case "suffix":
      return parseAffix(operator, operand, path, true);
    case "equals-ignore-case":
      return { kind: operator, value: fold(text(operand, path, operator)) };
    case "wildcard":
      return parseWildcard(operand, path);
    case "anything-but":
      return { kind: operator, excluded: parseAnythingBut(operand, path) };
    case "exists":
      if (typeof operand !== "boolean") fail(path, "exists must be true or false");
      return { kind: "exists", present: operand };
    case "numeric":
      return parseNumeric(operand, path);
    case "cidr":
      return parseCidr(operand, path);
    default:
      return fail(path, `unknown operator "${operator}"`);
  }
}

function finite(value: number, path: string): number {
  if (!Number.isFinite(value)) fail(path, "numbers must be finite");
  return value;
}

function text(operand: unknown, path: string, operator: string): string {
  if (typeof operand !== "string") fail(path, `${operator} needs a string`);
  return operand;
}

function fold(value: string): string {
  return value.toLowerCase();
}

/** `{"prefix": "s"}` or `{"prefix": {"equals-ignore-case": "s"}}`, and the same for suffix. */
function parseAffix(kind: "prefix" | "suffix", operand: unknown, path: string, allowEmpty: boolean): ValueTest {
  let value: string;
  let ignoreCase = false;
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1 || keys[0] !== "equals-ignore-case") {
      fail(path, `${kind} needs a string or {"equals-ignore-case": string}`);
    }
    value = fold(text(operand["equals-ignore-case"], path, `${kind} equals-ignore-case`));
    ignoreCase = true;
  } else {
    value = text(operand, path, allowEmpty ? kind : `anything-but ${kind}`);
  }
  if (!allowEmpty && value === "") fail(path, `anything-but ${kind} needs a non-empty string`);
  return { kind, value, ignoreCase };
}

/**
 * Splits a wildcard at its unescaped stars. EventBridge's rules: `\*` is a literal star, `\\`
 * a literal backslash, any other escape is an error, and two stars in a row are refused.
 */
function parseWildcard(operand: unknown, path: string): ValueTest {
  const source = text(operand, path, "wildcard");
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      const next = source[i + 1];
      if (next !== "*" && next !== "\\") fail(path, `wildcard has an invalid escape at position ${i}`);
      current += next;
      i += 1;
    } else if (c === "*") {
      if (source[i + 1] === "*") fail(path, `wildcard has consecutive wildcard characters at position ${i}`);
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return { kind: "wildcard", parts };
}

function parseAnythingBut(operand: unknown, path: string): ValueTest[] {
  if (typeof operand === "string") return [{ kind: "equals", value: operand }];
  if (typeof operand === "number") return [{ kind: "equals", value: finite(operand, path) }];
  if (Array.isArray(operand)) {
    const strings = operand.every((item) => typeof item === "string");
    const numbers = operand.every((item) => typeof item === "number");
    if (operand.length === 0 || !(strings || numbers)) {
      fail(path, "an anything-but list must be non-empty and hold only strings or only numbers");
    }
    return operand.map((item: string | number) => ({
      kind: "equals",
      value: typeof item === "number" ? finite(item, path) : item,
    }));
  }
  if (!isObject(operand) || Object.keys(operand).length !== 1) {
    return fail(path, "anything-but needs a string, number, list, or one of prefix/suffix/equals-ignore-case/wildcard");
  }
  const [operator, inner] = Object.entries(operand)[0]!;
  switch (operator) {
    case "prefix":
    case "suffix":
      if (isObject(inner)) fail(path, `anything-but ${operator} needs a string`);
      return [parseAffix(operator, inner, path, false)];
    case "equals-ignore-case":
    case "wildcard": {
      const items: unknown[] = Array.isArray(inner) ? inner : [inner];
      if (items.length === 0) fail(path, `anything-but ${operator} needs a string or a non-empty list of strings`);
      return items.map((item) =>
        operator === "wildcard"
          ? parseWildcard(item, path)
          : { kind: operator, value: fold(text(item, path, `anything-but ${operator}`)) },
      );
    }
    default:
      return fail(path, `anything-but does not support "${operator}"`);
  }
}

const LOWER_OPS = new Set([">", ">="]);
const UPPER_OPS = new Set(["<", "<="]);

/** `[op, n]`, or a range `[">" | ">=", low, "<" | "<=", high]` with low below high. */
function parseNumeric(operand: unknown, path: string): ValueTest {
  const shape = `numeric needs [op, number] or [">"|">=", number, "<"|"<=", number]`;
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) fail(path, shape);
  const [op1, n1, op2, n2] = operand as unknown[];
  if (typeof op1 !== "string" || typeof n1 !== "number") fail(path, shape);
  const first: Bound = { value: finite(n1, path), inclusive: op1.endsWith("=") };
  if (operand.length === 2) {
    if (op1 === "=") return { kind: "numeric", lower: first, upper: first };
    if (LOWER_OPS.has(op1)) return { kind: "numeric", lower: first, upper: null };
    if (UPPER_OPS.has(op1)) return { kind: "numeric", lower: null, upper: first };
    return fail(path, `unknown numeric operator "${op1}"`);
  }
  if (!LOWER_OPS.has(op1) || typeof op2 !== "string" || !UPPER_OPS.has(op2) || typeof n2 !== "number") {
    return fail(path, shape);
  }
  if (!(n1 < finite(n2, path))) fail(path, "a numeric range's lower bound must be below its upper bound");
  return { kind: "numeric", lower: first, upper: { value: n2, inclusive: op2 === "<=" } };
}

function parseCidr(operand: unknown, path: string): ValueTest {
  const source = text(operand, path, "cidr");
  const slash = source.indexOf("/");
  const address = parseIp(source.slice(0, Math.max(slash, 0)));
  const bitsText = source.slice(slash + 1);
  if (slash < 0 || address === null || !/^\d{1,3}$/.test(bitsText)) {
    fail(path, `cidr needs an address block such as "10.0.0.0/24", not "${source}"`);
  }
  const width = address.family === 4 ? 32 : 128;
  const bits = Number(bitsText);
  if (bits > width) fail(path, `cidr prefix length must be at most ${width}`);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  return { kind: "cidr", family: address.family, network: address.value & mask, mask };
}

function parseIp(source: string): { family: 4 | 6; value: bigint } | null {
  const v4 = parseIpv4(source);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(source);
  return v6 === null ? null : { family: 6, value: v6 };
}

function parseIpv4(source: string): bigint | null {
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(source);
  if (octets === null) return null;
  let value = 0n;
  for (const octet of octets.slice(1)) {
    const n = Number(octet);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** RFC 4291 text forms: eight hex groups, one `::` for a run of zeros, an optional IPv4 tail. */
function parseIpv6(source: string): bigint | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(source)) return null;
  let hex = source;
  if (source.includes(".")) {
    const lastColon = source.lastIndexOf(":");
    const v4 = parseIpv4(source.slice(lastColon + 1));
    if (lastColon < 0 || v4 === null) return null;
    hex = `${source.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = hex.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (halves.length === 2 && head.length + tail.length > 7) return null;
  const groups =
    halves.length === 2 ? [...head, ...new Array<string>(8 - head.length - tail.length).fill("0"), ...tail] : head;
  if (groups.length !== 8) return null;
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return null;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  return value;
}

/** Whether the event (an EventBridge envelope, or any JSON object) matches the pattern. */
export function matchesEvent(pattern: EventPattern, event: unknown): boolean {
  return isObject(event) && matchNode(pattern, event);
}

function matchNode(node: PatternNode, object: Record<string, unknown> | null): boolean {
  return (
    node.fields.every((field) => {
      // Own properties only: a field named "constructor" must not find Object's.
      const value = object !== null && Object.hasOwn(object, field.name) ? object[field.name] : undefined;
      return "leaf" in field ? matchLeaf(field.leaf, leavesOf(value, [])) : matchNested(field.nested, value);
    }) && node.anyOf.every((alternatives) => alternatives.some((alternative) => matchNode(alternative, object)))
  );
}

/** A nested pattern descends into an object, or into any one object of an array. */
function matchNested(node: PatternNode, value: unknown): boolean {
  const objects = objectsOf(value, []);
  // With no object to descend into, every field below is absent (which `exists: false` accepts).
  if (objects.length === 0) return matchNode(node, null);
  return objects.some((object) => matchNode(node, object));
}

function objectsOf(value: unknown, into: Record<string, unknown>[]): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) objectsOf(item, into);
  else if (isObject(value)) into.push(value);
  return into;
}

function leavesOf(value: unknown, into: Scalar[]): Scalar[] {
  if (Array.isArray(value)) for (const item of value) leavesOf(item, into);
  else if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    into.push(value);
  }
  return into;
}

function matchLeaf(matchers: readonly Matcher[], leaves: readonly Scalar[]): boolean {
  return matchers.some((matcher) =>
    matcher.kind === "exists" ? leaves.length > 0 === matcher.present : leaves.some((leaf) => testValue(matcher, leaf)),
  );
}

function testValue(test: ValueTest, leaf: Scalar): boolean {
  switch (test.kind) {
    case "equals":
      // JSON numbers arrive as doubles, so 5 and 5.0 are the same value here.
      return leaf === test.value;
    case "anything-but":
      return !test.excluded.some((excluded) => testValue(excluded, leaf));
    case "numeric":
      return (
        typeof leaf === "number" &&
        (test.lower === null || leaf > test.lower.value || (test.lower.inclusive && leaf === test.lower.value)) &&
        (test.upper === null || leaf < test.upper.value || (test.upper.inclusive && leaf === test.upper.value))
      );
    default:
      return typeof leaf === "string" && testString(test, leaf);
  }
}

function testString(test: ValueTest, leaf: string): boolean {
  switch (test.kind) {
    case "prefix":
      return (test.ignoreCase ? fold(leaf) : leaf).startsWith(test.value);
    case "suffix":
      return (test.ignoreCase ? fold(leaf) : leaf).endsWith(test.value);
    case "equals-ignore-case":
      return fold(leaf) === test.value;
    case "wildcard":
      return wildcardMatches(test.parts, leaf);
    case "cidr": {
      const address = parseIp(leaf);
      return address !== null && address.family === test.family && (address.value & test.mask) === test.network;
    }
    default:
      return false;
  }
}

/**
 * Literal parts separated by stars: the first part anchors the start, the last the end, and
 * each middle part is taken at its leftmost place, which for `*`-only globs never loses a match.
 */
function wildcardMatches(parts: readonly string[], value: string): boolean {
  const first = parts[0]!;
  if (parts.length === 1) return value === first;
  const last = parts[parts.length - 1]!;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  const end = value.length - last.length;
  let position = first.length;
  for (const part of parts.slice(1, -1)) {
    const at = value.indexOf(part, position);
    if (at < 0 || at + part.length > end) return false;
    position = at + part.length;
  }
  return true;
}
