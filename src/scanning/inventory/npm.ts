/**
 * npm packages: from a project's package-lock.json (what `npm ci` installs) and from each
 * installed package's own package.json under node_modules (what is actually on disk, whatever
 * tool put it there).
 */
import type { InstalledPackage } from "./types";

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseJson(text: string): Json | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** Collects (name, version) pairs once each, skipping versions that are URLs or paths. */
class Found {
  private readonly seen = new Set<string>();
  readonly packages: InstalledPackage[] = [];
  constructor(private readonly path: string) {}

  add(name: unknown, version: unknown): void {
    if (typeof name !== "string" || typeof version !== "string" || name === "" || version === "") return;
    // `npm:real-name@1.2.3` is an alias of another package (lockfile v1).
    if (version.startsWith("npm:")) {
      const at = version.lastIndexOf("@");
      if (at <= 4) return;
      return this.add(version.slice(4, at), version.slice(at + 1));
    }
    // git+https://…, file:…, github:user/repo#sha: no registry version to match advisories to.
    if (/[:/\s]/.test(version)) return;
    const key = `${name}@${version}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.packages.push({ ecosystem: "npm", name, version, path: this.path });
  }
}

/**
 * The packages a lockfile installs: lockfileVersion 2/3's `packages` map when present, else
 * version 1's nested `dependencies` tree. The root project, workspace folders and links are
 * not registry packages; dev dependencies are left out (a production image is built without
 * them, and any that are installed are found by their package.json).
 */
export function parsePackageLock(text: string, path: string): InstalledPackage[] {
  const lock = parseJson(text);
  if (lock === null) return [];
  const found = new Found(path);
  if (isObject(lock.packages)) {
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (!isObject(entry) || entry.link === true || entry.dev === true) continue;
      const at = key.lastIndexOf("node_modules/");
      if (at < 0) continue;
      // An aliased package's key is its alias; `name` is the real package.
      const name = typeof entry.name === "string" ? entry.name : key.slice(at + "node_modules/".length);
      found.add(name, entry.version);
    }
  } else if (isObject(lock.dependencies)) {
    // Iteratively: a hostile lockfile could nest deeper than the stack.
    const pending: Json[] = [lock.dependencies];
    for (let deps = pending.pop(); deps !== undefined; deps = pending.pop()) {
      for (const [name, entry] of Object.entries(deps)) {
        if (!isObject(entry)) continue;
        if (entry.dev !== true) found.add(name, entry.version);
        if (isObject(entry.dependencies)) pending.push(entry.dependencies);
      }
    }
  }
  return found.packages;
}

/** An installed package's own package.json: its name and version, or nothing. */
export function parsePackageJson(text: string, path: string): InstalledPackage[] {
  const manifest = parseJson(text);
  if (manifest === null) return [];
  const found = new Found(path);
  found.add(manifest.name, manifest.version);
  return found.packages;
}
