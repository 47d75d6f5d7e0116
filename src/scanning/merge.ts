/**
 * An image's filesystem, as far as scanning cares: each layer's package files and whiteouts
 * (./layers.ts) stacked bottom to top. A file in an upper layer replaces the same path below;
 * a whiteout (`.wh.<name>`) deletes a path (and everything under it) from the layers below;
 * an opaque directory (`.wh..wh..opq`) hides everything the layers below put in it. What
 * survives is the image's inventory. Pure.
 */
import type { LayerWhiteouts } from "./layers";
import type { InstalledPackage, OsRelease } from "./inventory/types";

/** What scanning found in one layer (stored by layer digest, so shared layers are read once). */
export interface LayerInventory {
  files: LayerPackageFile[];
  whiteouts: LayerWhiteouts;
}

export interface LayerPackageFile {
  path: string;
  os?: OsRelease;
  packages: InstalledPackage[];
  /** A package database this scanner cannot read (the image is then UNSUPPORTED_IMAGE, with this reason). */
  unreadable?: string;
}

export interface ImageInventory {
  os: OsRelease | null;
  packages: InstalledPackage[];
  /** Why the image's packages cannot all be known, or null. */
  unsupported: string | null;
}

const OS_RELEASE_PATHS = ["etc/os-release", "usr/lib/os-release"];

function isUnder(path: string, dir: string): boolean {
  return dir === "" || path === dir || path.startsWith(`${dir}/`);
}

export function mergeLayers(layers: readonly LayerInventory[]): ImageInventory {
  const files = new Map<string, LayerPackageFile>();
  for (const layer of layers) {
    for (const path of [...files.keys()]) {
      const deleted =
        layer.whiteouts.deleted.some((gone) => isUnder(path, gone)) ||
        layer.whiteouts.opaque.some((dir) => path !== dir && isUnder(path, dir));
      if (deleted) files.delete(path);
    }
    for (const file of layer.files) files.set(file.path, file);
  }
  const os =
    OS_RELEASE_PATHS.map((path) => files.get(path)?.os).find((found): found is OsRelease => found !== undefined) ??
    null;
  const ubuntu = os?.id === "ubuntu";
  const packages = [...files.values()].flatMap((file) =>
    file.packages.map((pkg) => (ubuntu && pkg.ecosystem === "Debian" ? { ...pkg, ecosystem: "Ubuntu" as const } : pkg)),
  );
  const unsupported = [...files.values()].find((file) => file.unreadable !== undefined)?.unreadable ?? null;
  return { os, packages, unsupported };
}

/**
 * The OSV ecosystem a package is matched in: the distribution's release for OS packages
 * (`Debian:12`, `Ubuntu:22.04`, `Alpine:v3.19`), the language ecosystem otherwise.
 */
export function matchingEcosystem(pkg: InstalledPackage, os: OsRelease | null): string {
  const version = os?.versionId ?? null;
  if (version === null) return pkg.ecosystem;
  switch (pkg.ecosystem) {
    case "Debian":
      return `Debian:${version.split(".")[0]}`;
    case "Ubuntu":
      return `Ubuntu:${version}`;
    case "Alpine": {
      const [major, minor] = version.split(".");
      return minor === undefined ? pkg.ecosystem : `Alpine:v${major}.${minor}`;
    }
    default:
      return pkg.ecosystem;
  }
}
