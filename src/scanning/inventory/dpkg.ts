/**
 * dpkg's status database (`/var/lib/dpkg/status`, and distroless's one-file-per-package
 * `/var/lib/dpkg/status.d/*`). Debian and Ubuntu advisories are keyed by SOURCE package and
 * source version, so each installed binary package is reported under its source.
 */
import { fieldsOf, records } from "./records";
import type { InstalledPackage, OsRelease } from "./types";

/** Ubuntu's advisories for an Ubuntu image, Debian's for Debian and everything else dpkg-based. */
export function dpkgEcosystem(os: OsRelease | null): "Debian" | "Ubuntu" {
  return os?.id === "ubuntu" ? "Ubuntu" : "Debian";
}

/**
 * The installed packages of a status file. A stanza without Package or Version is skipped; one
 * with a Status is kept only when actually installed (`install ok installed`, and also `hold`:
 * a held package is on disk all the same); status.d stanzas have no Status and are installed.
 */
export function parseDpkgStatus(text: string, path: string, os: OsRelease | null): InstalledPackage[] {
  const ecosystem = dpkgEcosystem(os);
  const out: InstalledPackage[] = [];
  for (const lines of records(text)) {
    const fields = fieldsOf(lines, true);
    const binary = fields.get("package");
    const version = fields.get("version");
    if (!binary || !version || /\s/.test(binary) || /\s/.test(version)) continue;
    const status = fields.get("status");
    if (status !== undefined && !isInstalled(status)) continue;
    const source = parseSource(fields.get("source"));
    const name = source?.name ?? binary;
    const pkg: InstalledPackage = { ecosystem, name, version: source?.version ?? version, path };
    if (name !== binary) pkg.binaryName = binary;
    out.push(pkg);
  }
  return out;
}

/** `want flag status`: the package's files are installed and dpkg saw no error. */
function isInstalled(status: string): boolean {
  const [, flag, state, ...rest] = status.split(/\s+/);
  return flag === "ok" && state === "installed" && rest.length === 0;
}

/**
 * `Source: openssl` or `Source: openssl (3.0.11-1~deb12u2)`: a binary rebuilt (binNMU) or
 * versioned apart from its source names the source version it came from.
 */
function parseSource(value: string | undefined): { name: string; version: string | null } | null {
  if (!value) return null;
  const match = /^(\S+)(?:\s+\(\s*(\S+)\s*\))?$/.exec(value);
  if (!match?.[1]) return null;
  return { name: match[1], version: match[2] ?? null };
}
