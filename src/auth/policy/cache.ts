/**
 * Parsed policy documents remembered per isolate, keyed by their text: stored policies are
 * parsed on every request that evaluates them, and their text rarely changes.
 */
import { BoundedMap } from "../../bounded-map";
import { parsePolicyDocument, type PolicyDocument, type PolicyKind } from "./document";

const parsed = new BoundedMap<string, PolicyDocument>(1000);

/** Parses a stored (already validated) policy document, reusing an earlier parse. */
export function storedPolicy(text: string, kind: PolicyKind): PolicyDocument {
  const key = `${kind}\u0000${text}`;
  let document = parsed.get(key);
  if (!document) {
    document = parsePolicyDocument(text, kind);
    parsed.set(key, document);
  }
  return document;
}
