/**
 * Maven artifacts inside a jar (or war, ear): the `pom.properties` Maven's archiver writes for
 * every artifact it packages (several in a shaded jar), in the jar itself and in the jars it
 * bundles one level down (Spring Boot's BOOT-INF/lib, a war's WEB-INF/lib, an ear's lib).
 * Nested artifacts are reported at `<jar path>!/<entry>`, the jar URL convention.
 */
import type { InstalledPackage } from "./types";
import { readZipEntries, readZipEntry, type ZipEntry } from "./zip";

const POM_PROPERTIES = /^META-INF\/maven\/([^/]+)\/([^/]+)\/pom\.properties$/;
const NESTED_JAR = /^(?:BOOT-INF\/lib|WEB-INF\/lib|lib)\/[^/]+\.jar$/i;
const MAX_PROPERTIES = 64 * 1024;
/** A nested jar is inflated in memory only up to the outer jar's own cap. */
const MAX_NESTED_JAR = 64 * 1024 * 1024;

const utf8 = new TextDecoder();

/** The Maven packages of a jar; nothing (never an error) for a damaged or unreadable one. */
export async function parseJar(bytes: Uint8Array, path: string): Promise<InstalledPackage[]> {
  const entries = readZipEntries(bytes);
  if (entries === null) return [];
  const out = await pomPackages(bytes, entries, path);
  for (const entry of entries) {
    if (!NESTED_JAR.test(entry.name)) continue;
    const nested = await readZipEntry(bytes, entry, MAX_NESTED_JAR);
    const nestedEntries = nested === null ? null : readZipEntries(nested);
    if (nested === null || nestedEntries === null) continue;
    out.push(...(await pomPackages(nested, nestedEntries, `${path}!/${entry.name}`)));
  }
  return out;
}

async function pomPackages(bytes: Uint8Array, entries: ZipEntry[], path: string): Promise<InstalledPackage[]> {
  const out: InstalledPackage[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const match = POM_PROPERTIES.exec(entry.name);
    if (!match) continue;
    const data = await readZipEntry(bytes, entry, MAX_PROPERTIES);
    if (data === null) continue;
    const properties = parseProperties(utf8.decode(data));
    // The directory names are the coordinates too; the file's own values win.
    const group = properties.get("groupId") || match[1];
    const artifact = properties.get("artifactId") || match[2];
    const version = properties.get("version");
    if (!group || !artifact || !version) continue;
    const name = `${group}:${artifact}`;
    if (seen.has(`${name}@${version}`)) continue;
    seen.add(`${name}@${version}`);
    out.push({ ecosystem: "Maven", name, version, path });
  }
  return out;
}

/** Java properties, simply: `key=value`, `key:value` or `key value`; `#` and `!` comments. */
export function parseProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const match = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (match?.[1] && !properties.has(match[1])) properties.set(match[1], (match[2] ?? "").trim());
  }
  return properties;
}
