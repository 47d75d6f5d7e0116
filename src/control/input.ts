/**
 * Reading ECR request parameters: the surface-neutral member getters (src/input.ts) throwing
 * InvalidParameterException naming the member, plus ECR's registryId, pagination tokens and
 * timestamps.
 */
import { EcrError, RegistryError } from "../errors";
import { Input, type JsonObject } from "../input";

export { Input, isObject, parseJsonObject, type JsonObject } from "../input";

export function invalidParameter(message: string): RegistryError {
  return new RegistryError(EcrError.InvalidParameterException, message);
}

/** An ECR input: bad members are InvalidParameterException. */
export function ecrInput(data: JsonObject): Input {
  return new Input(data, invalidParameter);
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
