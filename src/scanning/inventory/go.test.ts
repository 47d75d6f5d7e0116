import { describe, expect, it } from "vitest";
import { GoBuildInfoScanner, parseModInfo, stdlibVersion } from "./go";

const PATH = "/usr/local/bin/server";
// The linker's sentinels around modinfo (cmd/go/internal/modload).
const INFO_START = "3077af0c9274080241e1c107e6d618e6";
const INFO_END = "f932433186182072008242104116d8f2";

const MODINFO_TEXT = [
  "path\tgithub.com/acme/server/cmd/server",
  "mod\tgithub.com/acme/server\tv1.4.2\th1:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=",
  "dep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=",
  "dep\tgolang.org/x/net\tv0.17.0\th1:pVaXccu2ozPjCXewfr1S7xoGW+v8EQ0Q0uEbqIhVmIk=",
  "=>\tgolang.org/x/net\tv0.23.0\th1:7mQ2DQ6eJ0sUEu8V5Gyzz4R1G8AQOxFsZ2KiMlmQEvs=",
  "dep\tgithub.com/acme/internal\tv0.0.0-00010101000000-000000000000\t",
  "=>\t../internal\t\t",
  "build\t-buildmode=exe",
  "build\tCGO_ENABLED=0",
  "build\tGOOS=linux",
  "",
].join("\n");

const EXPECTED = [
  { ecosystem: "Go", name: "github.com/acme/server", version: "v1.4.2", path: PATH },
  { ecosystem: "Go", name: "github.com/google/uuid", version: "v1.6.0", path: PATH },
  { ecosystem: "Go", name: "golang.org/x/net", version: "v0.23.0", path: PATH },
  { ecosystem: "Go", name: "stdlib", version: "1.21.5", path: PATH },
];

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const uvarint = (n: number) => {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  return [...out, n];
};
const join = (...parts: ArrayLike<number>[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const MAGIC = latin1("\xff Go buildinf:");
/** Deterministic filler with no magic in it. */
const filler = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 251);

/** The build info block: header, then inline version and modinfo strings. */
function buildInfo(flags = 2, version = "go1.21.5"): Uint8Array {
  const modinfo = join(hex(INFO_START), latin1(MODINFO_TEXT), hex(INFO_END));
  const header = join(MAGIC, [8, flags], new Uint8Array(16));
  return join(header, uvarint(version.length), latin1(version), uvarint(modinfo.length), modinfo);
}

/** An ELF-looking binary: decoy magics (unaligned; aligned without a valid header), then the build info at `at`. */
function binary(at = 8192, info = buildInfo()): Uint8Array {
  const bytes = join([0x7f, 0x45, 0x4c, 0x46], filler(at - 4, 7), info, filler(3000, 11));
  bytes.set(MAGIC, 1003); // unaligned
  bytes.set(join(MAGIC, [0x41, 0x42]), 2048); // aligned, but "AB" is no pointer size and flags
  return bytes;
}

function scan(bytes: Uint8Array, cuts: number[]): GoBuildInfoScanner {
  const scanner = new GoBuildInfoScanner();
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.push(bytes.subarray(from, cut));
    from = cut;
  }
  return scanner;
}

describe("GoBuildInfoScanner", () => {
  it("finds the build info in one chunk", () => {
    const scanner = scan(binary(), []);
    expect(scanner.done()).toBe(true);
    expect(scanner.result(PATH)).toEqual(EXPECTED);
  });
  it("finds it however the chunks cut through the header and strings", () => {
    const bytes = binary(4096 + 16 * 37);
    const at = 4096 + 16 * 37;
    for (let cut = at - 20; cut < at + 80; cut++) {
      expect(scan(bytes, [cut]).result(PATH), `cut at ${cut}`).toEqual(EXPECTED);
      expect(scan(bytes, [cut, cut + 3, cut + 5]).result(PATH), `cuts at ${cut}`).toEqual(EXPECTED);
    }
  });
  it("finds it in tiny and odd-sized chunks", () => {
    const bytes = binary();
    for (const size of [1, 2, 7, 13, 15, 16, 17, 100, 4096]) {
      const cuts = Array.from({ length: Math.floor(bytes.length / size) }, (_, i) => (i + 1) * size);
      expect(scan(bytes, cuts).result(PATH), `chunks of ${size}`).toEqual(EXPECTED);
    }
  });
  it("is done as soon as the build info is read", () => {
    const bytes = binary();
    const scanner = new GoBuildInfoScanner();
    scanner.push(bytes.subarray(0, 8192 + 16));
    expect(scanner.done()).toBe(false);
    scanner.push(bytes.subarray(8192 + 16, 8192 + 2000));
    expect(scanner.done()).toBe(true);
    expect(scanner.result(PATH)).toEqual(EXPECTED);
  });
  it("reports nothing for a binary without build info, or with the pre-1.18 format", () => {
    const plain = scan(join([0x7f, 0x45, 0x4c, 0x46], filler(10_000, 3)), [5000]);
    expect(plain.done()).toBe(false);
    expect(plain.result(PATH)).toEqual([]);
    const old = scan(binary(8192, buildInfo(0)), []);
    expect(old.done()).toBe(true);
    expect(old.result(PATH)).toEqual([]);
  });
  it("gives up on a truncated build info, and on files that are no executable", () => {
    const bytes = binary();
    expect(scan(bytes.subarray(0, 8192 + 100), []).result(PATH)).toEqual([]);
    const script = new GoBuildInfoScanner();
    script.push(latin1("#!/bin/sh\n"));
    expect(script.done()).toBe(true);
  });
});

describe("parseModInfo", () => {
  it("reads modules, replacements and the toolchain from sentinel-wrapped modinfo", () => {
    const wrapped = String.fromCharCode(...hex(INFO_START)) + MODINFO_TEXT + String.fromCharCode(...hex(INFO_END));
    expect(parseModInfo(wrapped, PATH, "go1.21.5")).toEqual(EXPECTED);
  });
  it("reads `go version -m` style text, skipping a (devel) main module", () => {
    const text =
      "go\tgo1.22.1\npath\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.14.0\th1:x=\n";
    expect(parseModInfo(text, PATH)).toEqual([
      { ecosystem: "Go", name: "golang.org/x/text", version: "v0.14.0", path: PATH },
      { ecosystem: "Go", name: "stdlib", version: "1.22.1", path: PATH },
    ]);
  });
  it("never throws on junk", () => {
    expect(parseModInfo("\u0000=>\tx\ndep\n=>\n", PATH, "devel go1.23-abc")).toEqual([]);
  });
});

describe("stdlibVersion", () => {
  it("writes Go release tags as OSV's stdlib versions", () => {
    expect(stdlibVersion("go1.21.5")).toBe("1.21.5");
    expect(stdlibVersion("go1.20")).toBe("1.20.0");
    expect(stdlibVersion("go1.22rc1")).toBe("1.22.0-rc.1");
    expect(stdlibVersion("go1.21.5 X:boringcrypto")).toBe("1.21.5");
    expect(stdlibVersion("devel go1.23-abcdef")).toBeNull();
  });
});
