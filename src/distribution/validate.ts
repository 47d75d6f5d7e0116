/**
 * Boundary checks for path and query values, throwing the spec's error for each.
 */
import { OciError, RegistryError } from "../errors";
import { isValidRepositoryName, parseDigest, type ParsedDigest } from "../oci/grammar";

export function requireName(name: string): string {
  if (!isValidRepositoryName(name)) {
    throw new RegistryError(OciError.NAME_INVALID, `invalid repository name "${name}"`, { name });
  }
  return name;
}

export function requireDigest(value: string | null | undefined): ParsedDigest {
  const digest = value ? parseDigest(value) : null;
  if (!digest) {
    throw new RegistryError(OciError.DIGEST_INVALID, `invalid or unsupported digest "${value ?? ""}" (sha256 and sha512 are supported)`);
  }
  return digest;
}

