/**
 * Finds the build info a Go (≥ 1.18) linker writes into every binary, while the binary streams
 * past: only a tail of under 16 bytes is kept between chunks until the build info is found, then
 * just its few KiB. The build info starts with a 16-byte aligned header, "\xff Go buildinf:",
 * pointer size and flags, and (flag 2, Go ≥ 1.18) the version and modinfo strings inline from
 * offset 32, each prefixed by its length as a uvarint. Older binaries (pointers to the strings
 * instead) are reported as nothing: their toolchains are long out of support anyway.
 */
import { parseModInfo } from "./go-modinfo";
import type { InstalledPackage } from "./types";

export { parseModInfo, stdlibVersion } from "./go-modinfo";

const MAGIC = [0xff, 0x20, 0x47, 0x6f, 0x20, 0x62, 0x75, 0x69, 0x6c, 0x64, 0x69, 0x6e, 0x66, 0x3a];
const ALIGN = 16;
/** Magic, pointer size and flags: enough to tell a header from the magic's bytes elsewhere. */
const WINDOW = 16;
const HEADER_SIZE = 32;
const FLAG_INLINE_STRINGS = 2;
/** The largest version or modinfo string believed (a big program's modinfo is tens of KiB). */
const MAX_STRING = 1 << 20;
const MAX_COLLECTED = HEADER_SIZE + 2 * (10 + MAX_STRING);
const EMPTY = new Uint8Array(0);

type State = "format" | "search" | "collect" | "done";

export class GoBuildInfoScanner {
  private state: State = "format";
  /** Bytes pushed so far: the file offset of the next chunk. */
  private offset = 0;
  /** The file's first bytes, until its executable format is known. */
  private head: Uint8Array = EMPTY;
  /** Bytes from an aligned offset whose window the next chunk completes. */
  private carry: Uint8Array = EMPTY;
  /** The build info from its header on, once found. */
  private collected: Uint8Array = EMPTY;
  private info: { version: string; modinfo: string } | null = null;

  /** True once nothing more is needed: the build info was read, or the file cannot hold one. */
  done(): boolean {
    return this.state === "done";
  }

  push(chunk: Uint8Array): void {
    if (this.state === "format") this.checkFormat(chunk);
    if (this.state === "search") this.search(chunk);
    else if (this.state === "collect") this.collect(chunk);
    this.offset += chunk.length;
  }

  /** The modules and toolchain found, with `path` as their file (nothing if none was found). */
  result(path: string): InstalledPackage[] {
    return this.info === null ? [] : parseModInfo(this.info.modinfo, path, this.info.version);
  }

  /** Any executable format Go writes (ELF, PE, Mach-O); anything else is not searched. */
  private checkFormat(chunk: Uint8Array): void {
    this.head = concat(this.head, chunk.subarray(0, 4 - this.head.length));
    if (this.head.length < 4) return;
    const [a, b, c, d] = this.head;
    const elf = a === 0x7f && b === 0x45 && c === 0x4c && d === 0x46;
    const pe = a === 0x4d && b === 0x5a;
    const macho = (a === 0xfe && b === 0xed && c === 0xfa) || (b === 0xfa && c === 0xed && d === 0xfe);
    this.state = elf || pe || macho ? "search" : "done";
  }

  private search(chunk: Uint8Array): void {
    if (this.carry.length > 0) {
      // The carry starts at an aligned offset and is shorter than a window: one candidate.
      const joined = concat(this.carry, chunk.subarray(0, WINDOW - this.carry.length));
      if (joined.length < WINDOW) {
        this.carry = joined;
        return;
      }
      const carry = this.carry;
      this.carry = EMPTY;
      if (isHeader(joined, 0)) {
        this.startCollecting(carry);
        if (this.state === "collect") this.collect(chunk);
        return;
      }
    }
    let i = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    for (; i + WINDOW <= chunk.length; i += ALIGN) {
      if (isHeader(chunk, i)) return this.startCollecting(chunk.subarray(i));
    }
    if (i < chunk.length) this.carry = chunk.slice(i);
  }

  private startCollecting(bytes: Uint8Array): void {
    this.state = "collect";
    this.collected = EMPTY;
    this.collect(bytes);
  }

  private collect(chunk: Uint8Array): void {
    this.collected = concat(this.collected, chunk.subarray(0, MAX_COLLECTED - this.collected.length));
    const decoded = decodeBuildInfo(this.collected);
    if (decoded === "more" && this.collected.length < MAX_COLLECTED) return;
    if (decoded !== "more" && decoded !== "bad") this.info = decoded;
    this.state = "done";
    this.collected = EMPTY;
  }
}

function isHeader(bytes: Uint8Array, at: number): boolean {
  for (let j = 0; j < MAGIC.length; j++) if (bytes[at + j] !== MAGIC[j]) return false;
  const pointerSize = bytes[at + 14];
  const flags = bytes[at + 15] ?? 0xff;
  return (pointerSize === 4 || pointerSize === 8) && (flags & ~3) === 0;
}

type Decoded = { version: string; modinfo: string } | "more" | "bad";

function decodeBuildInfo(bytes: Uint8Array): Decoded {
  if (bytes.length < HEADER_SIZE) return "more";
  if (((bytes[15] ?? 0) & FLAG_INLINE_STRINGS) === 0) return "bad";
  const version = readString(bytes, HEADER_SIZE);
  if (typeof version === "string") return version;
  const modinfo = readString(bytes, version.next);
  if (typeof modinfo === "string") return modinfo;
  return { version: version.value, modinfo: modinfo.value };
}

/** A uvarint length and that many bytes, read one char per byte (modinfo is ASCII between binary sentinels). */
function readString(bytes: Uint8Array, at: number): { value: string; next: number } | "more" | "bad" {
  let length = 0;
  let shift = 1;
  for (let i = 0; ; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) return "more";
    if (i >= 4) return "bad"; // Past 2^28: more than any string believed.
    length += (byte & 0x7f) * shift;
    shift *= 128;
    if (byte < 0x80) {
      at += i + 1;
      break;
    }
  }
  if (length > MAX_STRING) return "bad";
  if (at + length > bytes.length) return "more";
  let value = "";
  for (let i = at; i < at + length; i += 8192) {
    value += String.fromCharCode(...bytes.subarray(i, Math.min(i + 8192, at + length)));
  }
  return { value, next: at + length };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
