/**
 * Version ordering by scheme, for matching installed packages against advisories: an OSV
 * ecosystem name picks the scheme its versions are ordered by, and compareVersions orders two
 * versions under it. Each ecosystem needs its own rules (a `~` sorts first for dpkg, `_p1`
 * follows the release for apk, `1!0.1` beats `2.0` for PEP 440); comparing as strings or as
 * semver everywhere would report fixed packages as vulnerable and the reverse.
 *
 * compareVersions never throws, whatever it is given: a scan must not fail on one odd version
 * string. Versions its scheme cannot parse (isValidVersion false) sort after every valid one,
 * and among themselves by their UTF-16 code units, so the order stays total and deterministic
 * (a sort stays a sort). Callers that must not guess check isValidVersion first.
 */
import { compareAlpineVersions, isValidAlpineVersion } from "./alpine";
import { compareDebianVersions, isValidDebianVersion } from "./debian";
import { compareMavenVersions, isValidMavenVersion } from "./maven";
import { comparePep440, isValidPep440 } from "./pep440";
import { compareSemver, isValidSemver } from "./semver";

export type VersionScheme = "debian" | "alpine" | "semver" | "pep440" | "maven";

interface Scheme {
  valid: (version: string) => boolean;
  compare: (a: string, b: string) => number;
}

const SCHEMES: Record<VersionScheme, Scheme> = {
  debian: { valid: isValidDebianVersion, compare: compareDebianVersions },
  alpine: { valid: isValidAlpineVersion, compare: compareAlpineVersions },
  semver: { valid: isValidSemver, compare: compareSemver },
  pep440: { valid: isValidPep440, compare: comparePep440 },
  maven: { valid: isValidMavenVersion, compare: compareMavenVersions },
};

/** OSV ecosystem names (before any `:release` suffix) and the scheme of their versions. */
const ECOSYSTEM_SCHEMES: ReadonlyMap<string, VersionScheme> = new Map([
  ["Debian", "debian"],
  ["Ubuntu", "debian"],
  ["Alpine", "alpine"],
  ["npm", "semver"],
  ["Go", "semver"],
  ["PyPI", "pep440"],
  ["Maven", "maven"],
]);

/**
 * The version scheme of an OSV ecosystem (`Debian:12`, `Ubuntu:Pro:18.04:LTS`, `Alpine:v3.19`,
 * `npm`, `Go`, `PyPI`, `Maven`), or null for an ecosystem whose versions this module cannot
 * order: its advisories' ranges cannot be evaluated.
 */
export function schemeOf(ecosystem: string): VersionScheme | null {
  const base = ecosystem.split(":", 1)[0] ?? "";
  return ECOSYSTEM_SCHEMES.get(base) ?? null;
}

/** Whether the scheme can parse the version, so that comparisons with it mean something. */
export function isValidVersion(scheme: VersionScheme, version: string): boolean {
  return SCHEMES[scheme].valid(version);
}

/** The order of two versions under a scheme: negative, zero or positive. Never throws. */
export function compareVersions(scheme: VersionScheme, a: string, b: string): number {
  const { valid, compare } = SCHEMES[scheme];
  const validA = valid(a);
  const validB = valid(b);
  if (validA && validB) return Math.sign(compare(a, b));
  if (validA !== validB) return validA ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
