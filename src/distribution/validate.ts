/**
 * Boundary checks for path and query values, throwing the spec's error for each.
 */
import { OciError, RegistryError } from "../errors";
import { isValidRepositoryName, parseDigest, type ParsedDigest } from "./grammar";

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

/** The request's Content-Length, or null when absent. */
export function contentLength(request: Request): number | null {
  const header = request.headers.get("Content-Length");
  if (header === null) return null;
  if (!/^\d+$/.test(header)) throw new RegistryError(OciError.SIZE_INVALID, `invalid Content-Length "${header}"`);
  return Number(header);
}
