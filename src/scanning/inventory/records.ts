/**
 * The record format shared by dpkg's status database and apk's installed database: records
 * separated by blank lines, each line `Key: value` (dpkg) or `K:value` (apk), and dpkg's
 * continuation lines (starting with a space or tab) that carry multi-line values we never need.
 */

/** The records of a database, each as its lines (CRLF tolerated). */
export function records(text: string): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (current.length > 0) out.push(current);
      current = [];
    } else {
      current.push(line);
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * The fields of one record, first occurrence of each key winning; continuation lines and lines
 * without a colon are skipped. dpkg's field names are case-insensitive (`foldCase`), apk's are
 * not (`P:` is the name, `p:` what it provides).
 */
export function fieldsOf(lines: readonly string[], foldCase: boolean): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of lines) {
    if (line.startsWith(" ") || line.startsWith("\t")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = foldCase ? line.slice(0, colon).trim().toLowerCase() : line.slice(0, colon);
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return fields;
}
