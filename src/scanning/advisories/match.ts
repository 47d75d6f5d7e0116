/**
 * Whether an OSV advisory's `affected` entry covers an installed package: packageMatches pairs
 * the package (ecosystem and name, each compared the way its ecosystem means them), and
 * affectedVersion evaluates the version against the entry's ranges and versions list with the
 * schema's own algorithm (https://ossf.github.io/osv-schema/#evaluation), ordering the events
 * by the ecosystem's version scheme. GIT ranges need the repository's history and are ignored.
 *
 * A version that the ecosystem's scheme cannot parse is matched against the versions list
 * only: placing it among a range's events would be a guess. An event version the scheme
 * cannot parse is ordered after every valid one (see compareVersions), so a malformed `fixed`
 * leaves the versions before it affected rather than silently clearing them.
 */
import { compareVersions, isValidVersion, schemeOf, type VersionScheme } from "../versions";
import type { OsvAffected, OsvEvent, OsvRange } from "./osv";

export interface AffectedVersion {
  affected: boolean;
  /**
   * The version to upgrade to: in the range holding the version, the first `fixed` above it.
   * When several ranges hold it, the highest of theirs (the lowest leaves none of them
   * behind); null when a range holding it has no fix, or only the versions list matched.
   */
  fixedVersion: string | null;
}

interface Point {
  kind: "introduced" | "fixed" | "last_affected" | "limit";
  version: string;
}

function pointOf(event: OsvEvent): Point {
  if ("introduced" in event) return { kind: "introduced", version: event.introduced };
  if ("fixed" in event) return { kind: "fixed", version: event.fixed };
  if ("last_affected" in event) return { kind: "last_affected", version: event.last_affected };
  return { kind: "limit", version: event.limit };
}

/** `introduced: "0"` sorts before every version, whatever the scheme makes of "0". */
const isOrigin = (point: Point): boolean => point.kind === "introduced" && point.version === "0";

/** One range's verdict on a version the scheme can parse. */
function evaluateRange(range: OsvRange, scheme: VersionScheme, version: string): AffectedVersion {
  const compare = (a: string, b: string): number => compareVersions(scheme, a, b);
  const points = range.events.map(pointOf);
  const limits = points.filter((point) => point.kind === "limit");
  // Without limits the range is unbounded; with some, the version must lie below one of them
  // ("*" in a limit stands for infinity).
  const belowLimits =
    limits.length === 0 || limits.some((limit) => limit.version.includes("*") || compare(version, limit.version) < 0);
  if (!belowLimits) return { affected: false, fixedVersion: null };

  // A stable sort: events of equal versions keep the record's order.
  const timeline = points
    .filter((point) => point.kind !== "limit")
    .sort((a, b) =>
      isOrigin(a) || isOrigin(b) ? Number(isOrigin(b)) - Number(isOrigin(a)) : compare(a.version, b.version),
    );
  let affected = false;
  for (const point of timeline) {
    if (point.kind === "introduced") {
      if (isOrigin(point) || compare(version, point.version) >= 0) affected = true;
    } else if (point.kind === "fixed") {
      if (compare(version, point.version) >= 0) affected = false;
    } else if (compare(version, point.version) > 0) {
      affected = false;
    }
  }
  if (!affected) return { affected: false, fixedVersion: null };
  const fix = timeline.find((point) => point.kind === "fixed" && compare(point.version, version) > 0);
  return { affected: true, fixedVersion: fix?.version ?? null };
}

/** The scheme a range's versions are ordered by, or null when it cannot be evaluated. */
function schemeOfRange(range: OsvRange, ecosystemScheme: VersionScheme | null): VersionScheme | null {
  if (range.type === "SEMVER") return "semver";
  if (range.type === "ECOSYSTEM") return ecosystemScheme;
  return null;
}

/** Whether `version` of the entry's package is affected, and the version that fixes it. */
export function affectedVersion(affected: OsvAffected, version: string): AffectedVersion {
  const ecosystemScheme = affected.package === undefined ? null : schemeOf(affected.package.ecosystem);
  let inRange = false;
  let unfixed = false;
  const fixes: string[] = [];
  for (const range of affected.ranges) {
    const scheme = schemeOfRange(range, ecosystemScheme);
    if (scheme === null || !isValidVersion(scheme, version)) continue;
    const verdict = evaluateRange(range, scheme, version);
    if (!verdict.affected) continue;
    inRange = true;
    if (verdict.fixedVersion === null) unfixed = true;
    else fixes.push(verdict.fixedVersion);
  }
  if (inRange) {
    const order = ecosystemScheme ?? "semver";
    const highest = fixes.reduce<string | null>(
      (best, fix) => (best === null || compareVersions(order, fix, best) > 0 ? fix : best),
      null,
    );
    return { affected: true, fixedVersion: unfixed ? null : highest };
  }
  // The list holds the ecosystem's own spellings: equal under its scheme counts (Go's v1.2.3
  // is 1.2.3, PEP 440's 1.0 is 1.0.0), and so does the same string in any ecosystem.
  const listed = affected.versions.some(
    (listedVersion) =>
      listedVersion === version ||
      (ecosystemScheme !== null &&
        isValidVersion(ecosystemScheme, version) &&
        isValidVersion(ecosystemScheme, listedVersion) &&
        compareVersions(ecosystemScheme, listedVersion, version) === 0),
  );
  return { affected: listed, fixedVersion: null };
}

interface Ecosystem {
  base: string;
  /** The release the ecosystem is scoped to (`12`, `22.04`, `Pro:18.04`, `v3.19`), or null. */
  release: string | null;
}

function ecosystemOf(text: string): Ecosystem {
  const colon = text.indexOf(":");
  if (colon === -1) return { base: text, release: null };
  const base = text.slice(0, colon);
  const release = text.slice(colon + 1);
  switch (base) {
    // OSV spells LTS releases `Ubuntu:22.04:LTS`; an image's os-release gives `22.04`.
    case "Ubuntu":
      return { base, release: release.replace(/:LTS$/, "") };
    // OSV requires the v (`Alpine:v3.19`); /etc/alpine-release has none.
    case "Alpine":
      return { base, release: release.startsWith("v") ? release : `v${release}` };
    // Maven's suffix names a repository, not a release: the coordinates are the package.
    case "Maven":
      return { base, release: null };
    default:
      return { base, release };
  }
}

/** A package name as its ecosystem compares them: PyPI's per PEP 503, the rest exactly. */
function normalizedName(base: string, name: string): string {
  return base === "PyPI" ? name.toLowerCase().replace(/[-_.]+/g, "-") : name;
}

/**
 * Whether the entry is about the package `name` of the image's `ecosystem` (`Debian:12`,
 * `Ubuntu:22.04`, `Alpine:v3.19`, `npm`, `PyPI`, `Go`, `Maven`). An advisory ecosystem without
 * a release covers every release; one with a release covers that release only, so Ubuntu Pro
 * (ESM) advisories (`Ubuntu:Pro:18.04:LTS`) match only an image ecosystem that says Pro.
 */
export function packageMatches(affected: OsvAffected, ecosystem: string, name: string): boolean {
  if (affected.package === undefined) return false;
  const advisory = ecosystemOf(affected.package.ecosystem);
  const image = ecosystemOf(ecosystem);
  if (advisory.base !== image.base) return false;
  if (advisory.release !== null && advisory.release !== image.release) return false;
  return normalizedName(advisory.base, affected.package.name) === normalizedName(image.base, name);
}
