/**
 * Alpine's installed database (`/lib/apk/db/installed`). Alpine's advisories (secdb, in OSV) are
 * keyed by the origin (source) package, so each subpackage is reported under its origin.
 */
import { fieldsOf, records } from "./records";
import type { InstalledPackage } from "./types";

/** `P:` name, `V:` version, `o:` origin; a record without a name or version is skipped. */
export function parseApkInstalled(text: string, path: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const lines of records(text)) {
    const fields = fieldsOf(lines, false);
    const binary = fields.get("P");
    const version = fields.get("V");
    if (!binary || !version) continue;
    const name = fields.get("o") || binary;
    const pkg: InstalledPackage = { ecosystem: "Alpine", name, version, path };
    if (name !== binary) pkg.binaryName = binary;
    out.push(pkg);
  }
  return out;
}
