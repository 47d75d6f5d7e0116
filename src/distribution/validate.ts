/**
 * Boundary checks for path and query values, throwing the spec's error for each, and the
 * spec's error for each failure of the OCI vocabulary (src/oci/errors.ts).
 */
import { OciError, RegistryError } from "../errors";
import type { OciFormatError } from "../oci/errors";
import { isValidRepositoryName, parseDigest, type ParsedDigest } from "../oci/grammar";

export function requireName(name: string): string {
  if (!isValidRepositoryName(name)) {
    throw new RegistryError(OciError.NAME_INVALID, `invalid repository name "${name}"`, { name });
  }
  return name;
}

/** The `/v2` error for a failure of the OCI vocabulary: MANIFEST_INVALID or DIGEST_INVALID (400). */
export function ociWireError(error: OciFormatError): RegistryError {
  const descriptor = error.code === "manifest-invalid" ? OciError.MANIFEST_INVALID : OciError.DIGEST_INVALID;
  return new RegistryError(descriptor, error.message, error.detail);
}

export function requireDigest(value: string | null | undefined): ParsedDigest {
  const digest = value ? parseDigest(value) : null;
  if (!digest) {
    throw new RegistryError(
      OciError.DIGEST_INVALID,
      `invalid or unsupported digest "${value ?? ""}" (sha256 and sha512 are supported)`,
    );
  }
  return digest;
}
