/**
 * Reading a JSON request body member by member: each getter validates one member and throws
 * the surface's own error (ECR's InvalidParameterException, the admin API's INVALID_REQUEST)
 * naming it, so handlers get typed values or nothing. Surface-neutral and pure.
 */
import type { RegistryError } from "./errors";

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface StringRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
  oneOf?: readonly string[];
}

/** How a surface refuses a bad member: its own wire error with the message. */
export type Invalid = (message: string) => RegistryError;

export class Input {
  constructor(
    private readonly data: JsonObject,
    private readonly invalid: Invalid,
  ) {}

  /** The object itself, for a reader that checks it with errors of its own. */
  members(): JsonObject {
    return this.data;
  }

  has(name: string): boolean {
    return this.data[name] !== undefined && this.data[name] !== null;
  }

  optionalString(name: string, rule: StringRule = {}): string | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw this.invalid(`${name} must be a string`);
    checkString(name, value, rule, this.invalid);
    return value;
  }

  string(name: string, rule: StringRule = {}): string {
    const value = this.optionalString(name, rule);
    if (value === undefined) throw this.invalid(`${name} is required`);
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") throw this.invalid(`${name} must be a boolean`);
    return value;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw this.invalid(`${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  optionalObject(name: string): Input | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) throw this.invalid(`${name} must be an object`);
    return new Input(value, this.invalid);
  }

  optionalList(name: string, min: number, max: number): unknown[] | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw this.invalid(`${name} must be a list`);
    const list: unknown[] = value;
    if (list.length < min || list.length > max) throw this.invalid(`${name} must have from ${min} to ${max} members`);
    return list;
  }

  list(name: string, min: number, max: number): unknown[] {
    const value = this.optionalList(name, min, max);
    if (value === undefined) throw this.invalid(`${name} is required`);
    return value;
  }

  optionalStringList(name: string, min: number, max: number, rule: StringRule = {}): string[] | undefined {
    const list = this.optionalList(name, min, max);
    if (list === undefined) return undefined;
    return list.map((item, index) => {
      if (typeof item !== "string") throw this.invalid(`${name}[${index}] must be a string`);
      checkString(`${name}[${index}]`, item, rule, this.invalid);
      return item;
    });
  }

  stringList(name: string, min: number, max: number, rule: StringRule = {}): string[] {
    const list = this.optionalStringList(name, min, max, rule);
    if (list === undefined) throw this.invalid(`${name} is required`);
    return list;
  }
}

function checkString(name: string, value: string, rule: StringRule, invalid: Invalid): void {
  if (rule.min !== undefined && value.length < rule.min)
    throw invalid(`${name} must be at least ${rule.min} characters`);
  if (rule.max !== undefined && value.length > rule.max)
    throw invalid(`${name} must be at most ${rule.max} characters`);
  if (rule.oneOf !== undefined && !rule.oneOf.includes(value)) {
    throw invalid(`${name} must be one of ${rule.oneOf.join(", ")}; got "${value}"`);
  }
  if (rule.pattern !== undefined && !rule.pattern.test(value)) {
    throw invalid(`${name} "${value}" does not match ${rule.pattern.source}`);
  }
}

/**
 * A request body that must be one JSON object (UTF-8; an empty body is `{}`), or the
 * surface's `malformed` error.
 */
export function parseJsonObject(body: Uint8Array, malformed: Invalid): JsonObject {
  let parsed: unknown;
  try {
    parsed =
      body.length === 0 ? {} : JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    throw malformed("the request body is not valid JSON");
  }
  if (!isObject(parsed)) throw malformed("the request body must be a JSON object");
  return parsed;
}
