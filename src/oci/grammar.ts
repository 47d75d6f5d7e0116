/**
 * Grammar of repository names, tags, digests and manifest references (OCI distribution-spec
 * v1.1 §"Pulling manifests", with ECR's name length limits). Pure functions, no I/O.
 */

/** One path component: lowercase alphanumerics separated by `.`, `_`, `__` or runs of `-`. */
const NAME_COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const NAME_PATTERN = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** `algorithm ":" encoded` from the OCI image-spec descriptor grammar. */
const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** ECR accepts repository names of 2 to 256 characters. */
export const NAME_MIN_LENGTH = 2;
export const NAME_MAX_LENGTH = 256;

export type DigestAlgorithm = "sha256" | "sha512";

/** Hex lengths of the algorithms this registry can verify. */
const DIGEST_HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** The canonical string form, `<algorithm>:<hex>`. */
  digest: string;
}

export function isValidRepositoryName(name: string): boolean {
  return name.length >= NAME_MIN_LENGTH && name.length <= NAME_MAX_LENGTH && NAME_PATTERN.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

/** True for anything shaped like a digest, whatever its algorithm. */
export function looksLikeDigest(reference: string): boolean {
  return reference.includes(":");
}

/**
 * Parses a digest this registry supports (sha256 or sha512 with lowercase hex of the right
 * length). Returns null for anything else, including well-formed digests of other algorithms.
 */
export function parseDigest(value: string): ParsedDigest | null {
  if (!DIGEST_PATTERN.test(value)) return null;
  const colon = value.indexOf(":");
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (algorithm !== "sha256" && algorithm !== "sha512") return null;
  if (hex.length !== DIGEST_HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) return null;
  return { algorithm, hex, digest: value };
}

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return value === "sha256" || value === "sha512";
}

/**
 * ECR's WILDCARD tag patterns (tag mutability exclusion filters, lifecycle tagPatternList):
 * `*` matches any run of characters (none included); everything else literally.
 */
export function matchesTagPattern(pattern: string, tag: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === tag;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!tag.startsWith(first) || tag.length < first.length + last.length || !tag.endsWith(last)) return false;
  let at = first.length;
  const end = tag.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = tag.indexOf(middle, at);
    if (found < 0 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

/** What a manifest is named by: a tag, or a digest this registry supports. */
export type Reference = { kind: "tag"; tag: string } | { kind: "digest"; digest: ParsedDigest };

/**
 * A reference from a path or a request: null when it is neither a supported digest nor a
 * valid tag (such a reference names no manifest).
 */
export function parseReference(text: string): Reference | null {
  if (looksLikeDigest(text)) {
    const digest = parseDigest(text);
    return digest === null ? null : { kind: "digest", digest };
  }
  return isValidTag(text) ? { kind: "tag", tag: text } : null;
}

/** A reference as clients write it: the tag, or the digest's canonical form. */
export function referenceText(reference: Reference): string {
  return reference.kind === "tag" ? reference.tag : reference.digest.digest;
}
