/**
 * Semantic Versioning 2.0.0 precedence (semver.org, section 11): the ordering of npm packages,
 * Go modules and OSV's SEMVER ranges. A leading `v` is tolerated because Go writes its module
 * versions that way (`v1.2.3`) while OSV's Go records drop it; Go's pseudo-versions
 * (`v0.0.0-20200101000000-abcdef123456`) are ordinary pre-releases and sort as such. Build
 * metadata (`+incompatible`, `+build.5`) takes no part in precedence.
 */

interface SemVer {
  release: [string, string, string];
  /** Empty for a release; a release sorts after all of its pre-releases. */
  prerelease: string[];
}

const NUMBER = "0|[1-9][0-9]*";
const IDENTIFIER = `(?:${NUMBER}|[0-9]*[A-Za-z-][0-9A-Za-z-]*)`;
const SEMVER = new RegExp(
  `^v?(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})` +
    `(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?$`,
);
const NUMERIC = /^[0-9]+$/;

function parse(version: string): SemVer | null {
  const match = SEMVER.exec(version);
  if (!match) return null;
  const [, major = "", minor = "", patch = "", prerelease] = match;
  return { release: [major, minor, patch], prerelease: prerelease === undefined ? [] : prerelease.split(".") };
}

/** Whether the version is SemVer 2.0.0, optionally with a leading `v`. */
export function isValidSemver(version: string): boolean {
  return SEMVER.test(version);
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Two digit strings without leading zeros, compared as numbers of any length. */
const byNumber = (a: string, b: string): number =>
  a.length !== b.length ? Math.sign(a.length - b.length) : byString(a, b);

/** Numeric identifiers compare numerically and sort before alphanumeric ones, which compare in ASCII. */
function compareIdentifiers(a: string, b: string): number {
  const numericA = NUMERIC.test(a);
  const numericB = NUMERIC.test(b);
  if (numericA && numericB) return byNumber(a, b);
  if (numericA !== numericB) return numericA ? -1 : 1;
  return byString(a, b);
}

function comparePrereleases(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return Math.sign(b.length - a.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const result = compareIdentifiers(a[i] ?? "", b[i] ?? "");
    if (result !== 0) return result;
  }
  return Math.sign(a.length - b.length);
}

/**
 * SemVer precedence of two versions: negative, zero or positive. Versions that are not SemVer
 * (see isValidSemver) compare as strings after every valid one; callers check validity first.
 */
export function compareSemver(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return x ? -1 : y ? 1 : byString(a, b);
  for (let i = 0; i < 3; i++) {
    const result = byNumber(x.release[i] ?? "", y.release[i] ?? "");
    if (result !== 0) return result;
  }
  return comparePrereleases(x.prerelease, y.prerelease);
}
