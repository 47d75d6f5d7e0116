/**
 * Reading ECR request parameters: each getter validates one member of the JSON input and
 * throws InvalidParameterException naming it, so handlers get typed values or nothing.
 */
import { EcrError, RegistryError } from "../errors";

export type JsonObject = Record<string, unknown>;

export function invalidParameter(message: string): RegistryError {
  return new RegistryError(EcrError.InvalidParameterException, message);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

interface StringRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
  oneOf?: readonly string[];
}

export class Input {
  constructor(private readonly data: JsonObject) {}

  has(name: string): boolean {
    return this.data[name] !== undefined && this.data[name] !== null;
  }

  optionalString(name: string, rule: StringRule = {}): string | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw invalidParameter(`${name} must be a string`);
    checkString(name, value, rule);
    return value;
  }

  string(name: string, rule: StringRule = {}): string {
    const value = this.optionalString(name, rule);
    if (value === undefined) throw invalidParameter(`${name} is required`);
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "boolean") throw invalidParameter(`${name} must be a boolean`);
    return value;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw invalidParameter(`${name} must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  optionalObject(name: string): Input | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) throw invalidParameter(`${name} must be an object`);
    return new Input(value);
  }

  optionalList(name: string, min: number, max: number): unknown[] | undefined {
    const value = this.data[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw invalidParameter(`${name} must be a list`);
    if (value.length < min || value.length > max) throw invalidParameter(`${name} must have from ${min} to ${max} members`);
    return value;
  }

  list(name: string, min: number, max: number): unknown[] {
    const value = this.optionalList(name, min, max);
    if (value === undefined) throw invalidParameter(`${name} is required`);
    return value;
  }

  optionalStringList(name: string, min: number, max: number, rule: StringRule = {}): string[] | undefined {
    const list = this.optionalList(name, min, max);
    if (list === undefined) return undefined;
    return list.map((item, index) => {
      if (typeof item !== "string") throw invalidParameter(`${name}[${index}] must be a string`);
      checkString(`${name}[${index}]`, item, rule);
      return item;
    });
  }

  stringList(name: string, min: number, max: number, rule: StringRule = {}): string[] {
    const list = this.optionalStringList(name, min, max, rule);
    if (list === undefined) throw invalidParameter(`${name} is required`);
    return list;
  }
}

function checkString(name: string, value: string, rule: StringRule): void {
  if (rule.min !== undefined && value.length < rule.min) throw invalidParameter(`${name} must be at least ${rule.min} characters`);
  if (rule.max !== undefined && value.length > rule.max) throw invalidParameter(`${name} must be at most ${rule.max} characters`);
  if (rule.oneOf !== undefined && !rule.oneOf.includes(value)) {
    throw invalidParameter(`${name} must be one of ${rule.oneOf.join(", ")}; got "${value}"`);
  }
  if (rule.pattern !== undefined && !rule.pattern.test(value)) {
    throw invalidParameter(`${name} "${value}" does not match ${rule.pattern.source}`);
  }
}

/** ECR's registryId: when given, it must be this registry's account id. */
export function checkRegistryId(input: Input, accountId: string): void {
  const registryId = input.optionalString("registryId", { pattern: /^[0-9]{12}$/ });
  if (registryId !== undefined && registryId !== accountId) {
    throw invalidParameter(`registryId ${registryId} is not this registry's (${accountId})`);
  }
}

/** Opaque pagination tokens: base64url of a JSON value the action chose. */
export function encodeNextToken(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeNextToken(token: string | undefined): unknown {
  if (token === undefined) return undefined;
  try {
    return JSON.parse(atob(token.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw invalidParameter("nextToken is not a token this registry returned");
  }
}

/** Epoch seconds, as AWS JSON 1.1 sends timestamps. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
