/**
 * Python distributions: the core metadata an installer writes beside each installed package
 * (`*.dist-info/METADATA`, or `*.egg-info/PKG-INFO` for setuptools installs).
 */
import type { InstalledPackage } from "./types";

/**
 * `Name:` and `Version:` from the RFC 822 headers. Headers end at the first empty line: what
 * follows is the long description, which may well contain a `Version:` line of its own.
 * Names are reported as written (the matcher normalizes them as PEP 503 says).
 */
export function parsePythonMetadata(text: string, path: string): InstalledPackage[] {
  let name: string | null = null;
  let version: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    // A folded continuation of the previous header (a multi-line License, say).
    if (line.startsWith(" ") || line.startsWith("\t")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "name" && name === null) name = value;
    else if (key === "version" && version === null) version = value;
  }
  if (!name || !version) return [];
  return [{ ecosystem: "PyPI", name, version, path }];
}
