/**
 * Request bodies, read in one place for every route that reads one (blob uploads, manifests,
 * ECR's control plane): what a request declares about its body (Content-Length, an upload
 * chunk's Content-Range), parsed strictly and checked against the route's limit before a byte
 * is read, and the timeout that ends a body which stops arriving.
 *
 * RFC 9112 §6.3: when a request carries both `Transfer-Encoding` and `Content-Length`, the
 * transfer coding wins and the length must be ignored. The runtime then hands the Worker a
 * body of unknown length, so trusting the Content-Length would end in R2's "readable stream
 * must have a known length" (a 500) or in a false length mismatch.
 */
import type { Settings } from "./config/settings";
import type { RegistryError } from "./errors";

/**
 * A body must deliver at least this much (or end) within each timeout period. Reading in
 * pieces of this size rather than byte by byte keeps the runtime's per-read cost low; the
 * slowest body kept is then about 1 KiB/s with the default timeout.
 */
export const BODY_PROGRESS_BYTES = 64 * 1024;

/** How a route reports a bad declared length (its surface's error codes). */
export interface LengthFailures {
  /** A malformed Content-Length or Content-Range. */
  invalid(message: string): RegistryError;
  /** A length above the route's limit. */
  tooLarge(message: string): RegistryError;
}

/** A timeout on the progress of a request body: `error` ends the read when it fires. */
export interface BodyTimeout {
  readonly ms: number;
  error(): Error;
}

/**
 * A decimal length: ASCII digits only (no sign, no exponent, no spaces), null for anything
 * else. A value past `Number.MAX_SAFE_INTEGER` would not convert exactly: it is Infinity,
 * which every limit refuses as too large.
 */
export function parseDecimalLength(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : Number.POSITIVE_INFINITY;
}

/**
 * The body length a request declares: its Content-Length, or null when it has none or when it
 * is sent with a transfer coding (which makes any Content-Length meaningless). A length above
 * `limit` is refused here, before the body is read.
 */
export function declaredBodyLength(headers: Headers, limit: number, failures: LengthFailures): number | null {
  if (headers.has("Transfer-Encoding")) return null;
  const header = headers.get("Content-Length");
  if (header === null) return null;
  const length = parseDecimalLength(header);
  if (length === null) throw failures.invalid(`invalid Content-Length "${header}"`);
  if (length > limit) throw failures.tooLarge(`Content-Length ${length} exceeds the limit of ${limit} bytes`);
  return length;
}

/** Bytes `start` to `start + length - 1` of an upload. */
export interface ByteRange {
  start: number;
  length: number;
}

/**
 * An upload chunk's `Content-Range: <start>-<end>` (inclusive; distribution's form, with or
 * without a `bytes` unit and a `/<total>`), or null when absent. A range ending past `limit`
 * is refused before the body is read.
 */
export function parseContentRange(header: string | null, limit: number, failures: LengthFailures): ByteRange | null {
  if (header === null) return null;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  const start = match ? parseDecimalLength(match[1] ?? "") : null;
  const end = match ? parseDecimalLength(match[2] ?? "") : null;
  if (start === null || end === null) throw failures.invalid(`invalid Content-Range "${header}"`);
  if (end >= limit) throw failures.tooLarge(`Content-Range ${header} ends past the limit of ${limit} bytes`);
  if (end < start) throw failures.invalid(`invalid Content-Range "${header}"`);
  return { start, length: end - start + 1 };
}

/** The request body timeout (REQUEST_BODY_TIMEOUT_SECONDS), whose expiry is reported with `error`. */
export function bodyTimeout(settings: Pick<Settings, "requestBodyTimeoutMs">, error: () => Error): BodyTimeout {
  return { ms: settings.requestBodyTimeoutMs, error };
}
