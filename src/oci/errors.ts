/**
 * The OCI vocabulary's own failures: domain errors with no HTTP in them. Each surface maps them
 * to its wire error (the OCI error JSON on `/v2`, an ECR exception on the control plane, an
 * upstream failure in the pull-through cache), so the same bad manifest reads right on each.
 */

export type OciFormatCode =
  /** A manifest that is not one this registry accepts (malformed, unsupported, inconsistent). */
  | "manifest-invalid"
  /** A digest that is malformed or of an algorithm this registry cannot verify. */
  | "digest-invalid";

export class OciFormatError extends Error {
  readonly code: OciFormatCode;
  /** Structured facts about the failure, for surfaces that report them. */
  readonly detail: unknown;

  constructor(code: OciFormatCode, message: string, detail?: unknown) {
    super(message);
    this.name = "OciFormatError";
    this.code = code;
    this.detail = detail;
  }
}
