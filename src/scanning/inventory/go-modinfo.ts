/**
 * The module information the Go linker embeds in a binary (what `go version -m` prints): the
 * main module, every dependency compiled in, and, from the build info's version string, the
 * toolchain whose standard library is linked in, which OSV tracks as the Go package `stdlib`.
 */
import type { InstalledPackage } from "./types";

interface Module {
  kind: "mod" | "dep";
  path: string;
  /** Null when a replacement points at a local directory: no version to match. */
  version: string | null;
}

/**
 * Parses modinfo: lines `path <main package>`, `mod <path> <version> <sum>`, `dep <path>
 * <version> <sum>`, and `=> <path> <version> <sum>` replacing the module just above it
 * (tab-separated; spaces tolerated). The linker wraps the text in 16-byte sentinels, stripped
 * when present; `goVersion` is the build info's version string (`go1.21.5`), and a `go` line
 * (as `go version -m` prints) is read too. Module versions are kept as Go writes them
 * (`v1.2.3`); the main module is skipped when built from a checkout (`(devel)`).
 */
export function parseModInfo(modinfo: string, path: string, goVersion?: string): InstalledPackage[] {
  let text = modinfo;
  if (text.length >= 33 && text[text.length - 17] === "\n") text = text.slice(16, -16);
  let toolchain = goVersion ?? null;
  const modules: Module[] = [];
  for (const line of text.split("\n")) {
    const [kind, modulePath, version] = line.trim().split(/[\t ]+/);
    if (kind === "go" && toolchain === null && modulePath) toolchain = modulePath;
    if ((kind === "mod" || kind === "dep") && modulePath) {
      modules.push({ kind, path: modulePath, version: version ?? null });
    }
    const last = modules[modules.length - 1];
    if (kind === "=>" && last && modulePath) {
      last.path = modulePath;
      last.version = version ?? null;
    }
  }
  const out: InstalledPackage[] = [];
  for (const m of modules) {
    if (!m.version || (m.kind === "mod" && m.version === "(devel)")) continue;
    out.push({ ecosystem: "Go", name: m.path, version: m.version, path });
  }
  const stdlib = toolchain === null ? null : stdlibVersion(toolchain);
  if (stdlib !== null) out.push({ ecosystem: "Go", name: "stdlib", version: stdlib, path });
  return out;
}

/**
 * A Go release tag as OSV's `stdlib` versions write it: `go1.21.5` → `1.21.5`, `go1.20` →
 * `1.20.0`, `go1.22rc1` → `1.22.0-rc.1`; an experiment suffix (`go1.21.5 X:boringcrypto`) is
 * dropped; a development toolchain (`devel …`) has no release to match, so null.
 */
export function stdlibVersion(goVersion: string): string | null {
  const tag = goVersion.trim().split(/\s+/)[0] ?? "";
  const match = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?$/.exec(tag);
  if (!match) return null;
  const [, major, minor, patch, pre, preNumber] = match;
  const release = `${major}.${minor}.${patch ?? "0"}`;
  return pre ? `${release}-${pre}.${preNumber}` : release;
}
