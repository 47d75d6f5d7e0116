/**
 * What a request declares about its body, read in one place for every route that reads a
 * body (blob uploads, manifests, ECR's control plane).
 *
 * RFC 9112 §6.3: when a request carries both `Transfer-Encoding` and `Content-Length`, the
 * transfer coding wins and the length must be ignored. The runtime then hands the Worker a
 * body of unknown length, so trusting the Content-Length would end in R2's "readable stream
 * must have a known length" (a 500) or in a false length mismatch.
 */
import type { RegistryError } from "./errors";

/** How a route reports a malformed length (its surface's error codes). */
export interface LengthFailures {
  invalid(message: string): RegistryError;
}

/**
 * A decimal length: ASCII digits only (no sign, no exponent, no spaces), and no more than
 * `Number.MAX_SAFE_INTEGER`, so it converts exactly. Null for anything else.
 */
export function parseDecimalLength(text: string): number | null {
  if (!/^\d{1,16}$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * The body length a request declares: its Content-Length, or null when it has none or when it
 * is sent with a transfer coding (which makes any Content-Length meaningless).
 */
export function declaredBodyLength(headers: Headers, failures: LengthFailures): number | null {
  if (headers.has("Transfer-Encoding")) return null;
  const header = headers.get("Content-Length");
  if (header === null) return null;
  const length = parseDecimalLength(header);
  if (length === null) throw failures.invalid(`invalid Content-Length "${header}"`);
  return length;
}
