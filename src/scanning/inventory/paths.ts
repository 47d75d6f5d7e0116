/**
 * Which layer entries the inventory wants, decided from the tar entry alone so the layer reader
 * can skip everything else unread. Whole-file kinds are parsed in memory and so are capped;
 * Go binaries are streamed through GoBuildInfoScanner, so only their size range is bounded.
 *
 * Paths are normalized by stripping every leading `./` and `/` (tar writers differ: `./etc/x`,
 * `/etc/x` and `etc/x` all name the image's /etc/x); `absolutePath` gives the image path back.
 */

export type Interest =
  | "os-release"
  | "dpkg-status"
  | "dpkg-status-d"
  | "apk-installed"
  | "npm-lockfile"
  | "npm-package-json"
  | "pypi-metadata"
  | "jar"
  | "go-binary-candidate";

/** The kinds read whole into memory (everything but Go binaries). */
export type WholeFileInterest = Exclude<Interest, "go-binary-candidate">;

export interface TarEntryInfo {
  size: number;
  mode: number;
  type: "file" | "other";
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The largest file of each whole-file kind that is read; a larger one is skipped. */
export const WHOLE_FILE_CAPS: Readonly<Record<WholeFileInterest, number>> = {
  "os-release": 64 * KiB,
  // A big Debian or Alpine image's database is a few MiB (apk's lists every file).
  "dpkg-status": 32 * MiB,
  "apk-installed": 32 * MiB,
  "dpkg-status-d": 8 * MiB,
  "npm-lockfile": 8 * MiB,
  "npm-package-json": 8 * MiB,
  "pypi-metadata": 8 * MiB,
  jar: 64 * MiB,
};

/** Go binary candidates: smaller files are scripts or stubs, larger ones not worth streaming. */
export const GO_BINARY_MIN_SIZE = KiB;
export const GO_BINARY_MAX_SIZE = 512 * MiB;

/** `./etc/x`, `/etc/x`, `.//etc/x` → `etc/x`. */
export function normalizePath(path: string): string {
  let p = path;
  for (;;) {
    if (p.startsWith("./")) p = p.slice(2);
    else if (p.startsWith("/")) p = p.slice(1);
    else return p;
  }
}

/** The image's absolute path of a tar entry name: `./etc/x` → `/etc/x`. */
export function absolutePath(path: string): string {
  return "/" + normalizePath(path);
}

/** Whether an interest is parsed whole (else streamed). */
export function isWholeFile(interest: Interest): interest is WholeFileInterest {
  return interest !== "go-binary-candidate";
}

/** What the inventory wants of a tar entry, or null (also for a whole file above its cap). */
export function interestOf(path: string, entry: TarEntryInfo): Interest | null {
  // Symlinks, hard links and directories carry no bytes of their own.
  if (entry.type !== "file") return null;
  const interest = byPath(normalizePath(path), entry);
  if (interest === null) return null;
  if (isWholeFile(interest) && entry.size > WHOLE_FILE_CAPS[interest]) return null;
  return interest;
}

function byPath(p: string, entry: TarEntryInfo): Interest | null {
  if (p === "etc/os-release" || p === "usr/lib/os-release") return "os-release";
  if (p === "var/lib/dpkg/status") return "dpkg-status";
  if (p === "lib/apk/db/installed") return "apk-installed";
  const segments = p.split("/");
  const base = segments[segments.length - 1] ?? "";
  if (p.startsWith("var/lib/dpkg/status.d/") && segments.length === 5) {
    // Distroless writes one stanza file per package beside its `.md5sums` list.
    return base !== "" && !base.startsWith(".") && !base.endsWith(".md5sums") ? "dpkg-status-d" : null;
  }
  if (base === "package-lock.json") return segments.includes("node_modules") ? null : "npm-lockfile";
  if (base === "package.json") return isPackageRoot(segments) ? "npm-package-json" : null;
  const dir = segments[segments.length - 2] ?? "";
  if (base === "METADATA" && dir.endsWith(".dist-info")) return "pypi-metadata";
  if (base === "PKG-INFO" && dir.endsWith(".egg-info")) return "pypi-metadata";
  const lower = base.toLowerCase();
  if (lower.endsWith(".jar") || lower.endsWith(".war") || lower.endsWith(".ear")) return "jar";
  if (isGoBinaryCandidate(p, entry)) return "go-binary-candidate";
  return null;
}

/**
 * `…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json` under the
 * last node_modules: a package's own manifest, not a fixture deeper inside it.
 */
function isPackageRoot(segments: readonly string[]): boolean {
  const at = segments.lastIndexOf("node_modules");
  if (at < 0) return false;
  const rest = segments.slice(at + 1);
  const [first, second] = rest;
  if (first === undefined || first === "" || first.startsWith(".")) return false;
  if (first.startsWith("@")) return rest.length === 3 && second !== undefined && second !== "";
  return rest.length === 2;
}

function isGoBinaryCandidate(p: string, entry: TarEntryInfo): boolean {
  if ((entry.mode & 0o111) === 0) return false;
  if (entry.size < GO_BINARY_MIN_SIZE || entry.size > GO_BINARY_MAX_SIZE) return false;
  return !p.startsWith("proc/") && !p.startsWith("sys/");
}
