// OSV records from files, for `npm run advisories -- import PATH` (scripts/admin.mjs): a JSON
// file (one record, or a list of them), a directory of such files (recursively), or a zip
// archive as OSV.dev publishes per ecosystem (`<ecosystem>/all.zip`, one JSON file per record).
// Records are yielded one at a time; the caller sends them in batches.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";

/** The entries of a zip archive (name and bytes), from its central directory. Zip64 is refused. */
export function* zipEntries(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65_535); at--) {
    if (view.getUint32(at, true) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Error("not a zip archive (no end of central directory)");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new Error("zip64 archives are not supported");
  for (let index = 0; index < count; index++) {
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error("corrupt zip central directory");
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith("/")) continue;
    const dataAt = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const data = bytes.subarray(dataAt, dataAt + compressed);
    if (method === 0) yield { name, bytes: data };
    else if (method === 8) yield { name, bytes: inflateRawSync(data) };
    else throw new Error(`${name}: zip compression method ${method} is not supported`);
  }
}

function* recordsOfJson(text, where) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where} is not JSON: ${error.message}`, { cause: error });
  }
  if (Array.isArray(value)) yield* value;
  else yield value;
}

/** Every OSV record under `path` (a .json file, a directory, or a .zip archive). */
export function* osvRecords(path) {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      if (statSync(child).isDirectory() || name.endsWith(".json") || name.endsWith(".zip")) yield* osvRecords(child);
    }
    return;
  }
  const bytes = readFileSync(path);
  if (path.endsWith(".zip")) {
    for (const entry of zipEntries(bytes)) {
      if (entry.name.endsWith(".json"))
        yield* recordsOfJson(new TextDecoder().decode(entry.bytes), `${path}:${entry.name}`);
    }
    return;
  }
  yield* recordsOfJson(bytes.toString("utf8"), path);
}
