/**
 * Inventories as D1 keeps them (JSON: a layer's in `layer_inventories`, an image's in
 * `image_scans.inventory`), read back with their shape checked: a row written by an older
 * version, or damaged, is treated as absent (the layer is read again; the image is not
 * re-matched) rather than trusted.
 */
import type { InstalledPackage, OsRelease, PackageEcosystem } from "./inventory/types";
import type { ImageInventory, LayerInventory, LayerPackageFile } from "./merge";

const ECOSYSTEMS = new Set<string>(["Debian", "Ubuntu", "Alpine", "npm", "PyPI", "Go", "Maven"]);

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, name) : undefined;
}

const isString = (value: unknown): value is string => typeof value === "string";
const isNullableString = (value: unknown): value is string | null => value === null || typeof value === "string";

function asPackage(value: unknown): InstalledPackage | null {
  const [ecosystem, name, version, path, binaryName] = ["ecosystem", "name", "version", "path", "binaryName"].map(
    (key) => field(value, key),
  );
  if (!isString(ecosystem) || !ECOSYSTEMS.has(ecosystem) || !isString(name) || !isString(version) || !isString(path))
    return null;
  const pkg: InstalledPackage = { ecosystem: ecosystem as PackageEcosystem, name, version, path };
  if (isString(binaryName)) pkg.binaryName = binaryName;
  return pkg;
}

function asOs(value: unknown): OsRelease | null {
  const [id, versionId, versionCodename, prettyName] = ["id", "versionId", "versionCodename", "prettyName"].map((key) =>
    field(value, key),
  );
  if (
    !isString(id) ||
    !isNullableString(versionId) ||
    !isNullableString(versionCodename) ||
    !isNullableString(prettyName)
  )
    return null;
  return { id, versionId, versionCodename, prettyName };
}

function asPackages(value: unknown): InstalledPackage[] | null {
  if (!Array.isArray(value)) return null;
  const packages = value.map(asPackage);
  return packages.every((pkg): pkg is InstalledPackage => pkg !== null) ? packages : null;
}

function asStrings(value: unknown): string[] | null {
  return Array.isArray(value) && value.every(isString) ? value : null;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function parseLayerInventory(text: string): LayerInventory | null {
  const value = parse(text);
  const files = field(value, "files");
  const deleted = asStrings(field(field(value, "whiteouts"), "deleted"));
  const opaque = asStrings(field(field(value, "whiteouts"), "opaque"));
  if (!Array.isArray(files) || deleted === null || opaque === null) return null;
  const parsed: LayerPackageFile[] = [];
  for (const file of files) {
    const path = field(file, "path");
    const packages = asPackages(field(file, "packages"));
    const os = field(file, "os");
    const unreadable = field(file, "unreadable");
    if (!isString(path) || packages === null) return null;
    const entry: LayerPackageFile = { path, packages };
    if (os !== undefined) {
      const release = asOs(os);
      if (release === null) return null;
      entry.os = release;
    }
    if (isString(unreadable)) entry.unreadable = unreadable;
    parsed.push(entry);
  }
  return { files: parsed, whiteouts: { deleted, opaque } };
}

export function parseImageInventory(text: string): ImageInventory | null {
  const value = parse(text);
  const os = field(value, "os");
  const packages = asPackages(field(value, "packages"));
  const unsupported = field(value, "unsupported");
  if (packages === null || !isNullableString(unsupported ?? null)) return null;
  const release = os === null || os === undefined ? null : asOs(os);
  if (os !== null && os !== undefined && release === null) return null;
  return { os: release, packages, unsupported: isString(unsupported) ? unsupported : null };
}
