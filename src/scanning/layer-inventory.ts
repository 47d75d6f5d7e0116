/**
 * One layer's inventory: the layer reader (./layers.ts) asks, for each regular file, whether
 * the inventory wants it (./inventory/paths.ts); package databases and manifests are parsed
 * whole, Go binaries streamed through the build-info scanner. The result is stored by layer
 * digest and merged with the other layers' (./merge.ts).
 */
import { parseApkInstalled } from "./inventory/apk";
import { parseDpkgStatus } from "./inventory/dpkg";
import { GoBuildInfoScanner } from "./inventory/go";
import { parseJar } from "./inventory/java";
import { parsePackageJson, parsePackageLock } from "./inventory/npm";
import { parseOsRelease } from "./inventory/os-release";
import { absolutePath, interestOf, type WholeFileInterest } from "./inventory/paths";
import { parsePythonMetadata } from "./inventory/pypi";
import type { InstalledPackage, OsRelease } from "./inventory/types";
import { readLayer, type LayerFileHeader } from "./layers";
import type { LayerInventory, LayerPackageFile } from "./merge";

const utf8 = new TextDecoder();

/** RPM's package databases (SQLite, Berkeley DB, NDB): not read, so an RPM image is reported unsupported. */
const RPM_DATABASES = new Set([
  "var/lib/rpm/rpmdb.sqlite",
  "usr/lib/sysimage/rpm/rpmdb.sqlite",
  "var/lib/rpm/Packages",
  "var/lib/rpm/Packages.db",
]);
const RPM_REASON =
  "RPM package databases (rpmdb) are not read: the SQLite reader they need does not fit the Worker's bundle and CPU budgets yet, so this image's OS packages cannot be listed.";

/** What one whole file says: the OS (os-release) or the packages it lists. */
export async function parseInventoryFile(
  kind: WholeFileInterest,
  path: string,
  bytes: Uint8Array,
): Promise<{ os?: OsRelease; packages: InstalledPackage[] }> {
  switch (kind) {
    case "os-release":
      return { os: parseOsRelease(utf8.decode(bytes)), packages: [] };
    case "dpkg-status":
    case "dpkg-status-d":
      // Filed under Debian here; the merge moves them to Ubuntu when the image's OS says so.
      return { packages: parseDpkgStatus(utf8.decode(bytes), path, null) };
    case "apk-installed":
      return { packages: parseApkInstalled(utf8.decode(bytes), path) };
    case "npm-lockfile":
      return { packages: parsePackageLock(utf8.decode(bytes), path) };
    case "npm-package-json":
      return { packages: parsePackageJson(utf8.decode(bytes), path) };
    case "pypi-metadata":
      return { packages: parsePythonMetadata(utf8.decode(bytes), path) };
    case "jar":
      return { packages: await parseJar(bytes, path) };
  }
}

/** Reads a layer stream into its inventory (throws UnreadableLayerError for a corrupt layer). */
export async function readLayerInventory(
  body: ReadableStream<Uint8Array>,
  compression: "gzip" | "none",
): Promise<LayerInventory> {
  const files: LayerPackageFile[] = [];
  const record = (file: LayerFileHeader, found: { os?: OsRelease; packages: InstalledPackage[] }) => {
    if (found.os !== undefined || found.packages.length > 0) files.push({ path: file.path, ...found });
  };
  const whiteouts = await readLayer(body, compression, {
    wants(file) {
      if (RPM_DATABASES.has(file.path)) {
        files.push({ path: file.path, packages: [], unreadable: RPM_REASON });
        return null;
      }
      const interest = interestOf(file.path, { size: file.size, mode: file.mode, type: "file" });
      if (interest === null) return null;
      if (interest !== "go-binary-candidate") return { whole: true };
      const scanner = new GoBuildInfoScanner();
      return {
        scanner: {
          push: (chunk) => scanner.push(chunk),
          done: () => scanner.done(),
          finish: () => {
            record(file, { packages: scanner.result(absolutePath(file.path)) });
            return Promise.resolve();
          },
        },
      };
    },
    async whole(file, bytes) {
      const interest = interestOf(file.path, { size: file.size, mode: file.mode, type: "file" });
      if (interest === null || interest === "go-binary-candidate") return;
      record(file, await parseInventoryFile(interest, absolutePath(file.path), bytes));
    },
  });
  return { files, whiteouts };
}
