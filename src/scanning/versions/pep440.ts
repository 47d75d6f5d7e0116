/**
 * PEP 440 version ordering, the ordering of PyPI packages: epochs (`1!0.1`), release segments
 * compared with trailing zeros ignored, pre-releases (`a`, `b`, `rc`), post-releases, dev
 * releases and local versions (`+ubuntu1`). A thin wrapper over @renovatebot/pep440, a port of
 * Python's `packaging.version`: the normalization rules (`1.0RC1` is `1.0rc1`, `1.0-1` is
 * `1.0.post1`) are many and easy to get subtly wrong.
 */
import { compare, valid } from "@renovatebot/pep440";

/** Whether the version is a PEP 440 version (in any of the spellings PEP 440 normalizes). */
export function isValidPep440(version: string): boolean {
  return valid(version) !== null;
}

/**
 * PEP 440 ordering of two versions: negative, zero or positive. Versions that are not PEP 440
 * (see isValidPep440) compare as strings after every valid one: the library cannot order them.
 */
export function comparePep440(a: string, b: string): number {
  const validA = isValidPep440(a);
  const validB = isValidPep440(b);
  if (!validA || !validB) return validA ? -1 : validB ? 1 : a < b ? -1 : a > b ? 1 : 0;
  return Math.sign(compare(a, b));
}
