/**
 * os-release(5): which distribution and release an image is, so dpkg packages are matched
 * against Debian's or Ubuntu's advisories and a finding can name the OS.
 */
import type { OsRelease } from "./types";

/**
 * Parses `KEY=value` lines (values shell-quoted or bare; `#` comments). ID defaults to "linux"
 * as the specification says; absent fields are null.
 */
export function parseOsRelease(text: string): OsRelease {
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    if (!values.has(match[1])) values.set(match[1], unquote(match[2]));
  }
  const field = (key: string): string | null => {
    const value = values.get(key);
    return value === undefined || value === "" ? null : value;
  };
  return {
    id: (field("ID") ?? "linux").toLowerCase(),
    versionId: field("VERSION_ID"),
    versionCodename: field("VERSION_CODENAME") ?? field("UBUNTU_CODENAME"),
    prettyName: field("PRETTY_NAME"),
  };
}

/** A shell value: `"…"` with backslash escapes, `'…'` literal, or bare with backslash escapes. */
function unquote(value: string): string {
  const quote = value[0];
  if (quote === "'") {
    const end = value.indexOf("'", 1);
    return value.slice(1, end < 0 ? undefined : end);
  }
  let out = "";
  const quoted = quote === '"';
  for (let i = quoted ? 1 : 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '"') break;
    if (c === "\\" && i + 1 < value.length) {
      i++;
      out += value[i];
    } else {
      out += c;
    }
  }
  return out;
}
