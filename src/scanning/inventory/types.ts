/**
 * The vocabulary of an image's package inventory: what was found installed, in which file, under
 * the name and ecosystem OSV advisories use, so a matcher can look each package up as is.
 */

export type PackageEcosystem = "Debian" | "Ubuntu" | "Alpine" | "npm" | "PyPI" | "Go" | "Maven";

export interface InstalledPackage {
  ecosystem: PackageEcosystem;
  /** The name advisories use: Debian/Ubuntu the SOURCE package, Alpine the origin package, npm/PyPI/Go module path, Maven "group:artifact". */
  name: string;
  /** The installed binary package's own name when it differs (Debian binary package, Alpine subpackage). */
  binaryName?: string;
  version: string;
  /** The file it was found in (for the finding's attributes), absolute path in the image, e.g. "/var/lib/dpkg/status". */
  path: string;
}

export interface OsRelease {
  id: string;
  versionId: string | null;
  versionCodename: string | null;
  prettyName: string | null;
}
