/**
 * HTTP `Range` requests on blobs (RFC 9110 §14): one `bytes=` range, open-ended or suffix.
 * Pure.
 */

export type RangeRequest =
  /** No usable Range header: serve the whole blob. */
  { kind: "full" } | { kind: "partial"; offset: number; length: number } | { kind: "unsatisfiable" };

export function parseRange(header: string | null, size: number): RangeRequest {
  if (header === null) return { kind: "full" };
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  // Several ranges, other units or bad syntax: RFC 9110 lets a server ignore the header.
  if (!match) return { kind: "full" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "full" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return { kind: "unsatisfiable" };
    // RFC 9110 §14.1.1: a non-zero suffix is satisfiable even for an empty representation.
    if (size === 0) return { kind: "full" };
    const length = Math.min(suffix, size);
    return { kind: "partial", offset: size - length, length };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== "" && Number(last) < start) return { kind: "full" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "partial", offset: start, length: end - start + 1 };
}

/** `Content-Range` value for a partial response. */
export function contentRange(offset: number, length: number, size: number): string {
  return `bytes ${offset}-${offset + length - 1}/${size}`;
}
