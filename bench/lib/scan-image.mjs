// The scan workload's image (./workloads/scanning.mjs): five gzip layers of about `layerBytes`
// compressed each, shaped like an application image for the scanner to read:
//  0. a Debian base: os-release, a dpkg status of a few hundred packages, their copyright
//     files, ELF executables (mode 0755, so the scanner streams each through its Go build-info
//     search) and shared libraries (0644);
//  1. Python: thousands of .py files, a few dist-info METADATA;
//  2. a Node application: package-lock.json, node_modules/*/package.json, thousands of .js;
//  3. a Go service: one large executable with a Go build-info block about 60 % into it;
//  4. assets and scripts.
// Each layer is thousands of small text files (random words from a vocabulary: gzip shrinks
// them about 3×) and some large files (executables and libraries that mix random bytes, text
// and zeros, about 2×; already-compressed assets, random bytes). Layers are filled until their
// deflate output reaches `layerBytes`. Names, sizes and choices come from a seeded generator;
// where a layer stops depends on how much output the compressor has handed back at each check,
// so its file count varies a little from run to run.
//
// Repetitions need new layer digests (the scanner keeps each layer's inventory by digest), but
// compressing 200 MB again per repetition is slow. So each layer body is deflated once, ended
// with a full flush instead of a final block, and each repetition appends a small salt entry
// (its own deflate stream, final block, the tar's end blocks) and the gzip trailer (CRC-32 of
// the whole tar, size): one ordinary gzip member, whose tar is the body's entries then the salt.
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, renameSync } from "node:fs";
import { once } from "node:events";
import { dirname, join } from "node:path";
import zlib from "node:zlib";
import { MiB, OCI_LAYER_TAR_GZIP, tarHeader, writeLayout } from "./images.mjs";

const KiB = 1024;
/** gzip member header: deflate, no flags, no mtime, OS Unix. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

/** mulberry32: a seeded generator, so that every run builds files of the same names and sizes. */
function seeded(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let random = seeded(1);
const pick = (list) => list[Math.floor(random() * list.length)];
/** Log-uniform between lo and hi: many small, few large, as file sizes are. */
const logUniform = (lo, hi) => Math.round(Math.exp(Math.log(lo) + random() * (Math.log(hi) - Math.log(lo))));

function makeWords(n) {
  const letters = "abcdefghijklmnopqrstuvwxyz_";
  const words = new Set();
  while (words.size < n) {
    let w = "";
    for (let i = 2 + Math.floor(random() * random() * 12); i > 0; i--) w += letters[Math.floor(random() * 26)];
    words.add(w);
  }
  return [...words];
}

const WORDS = makeWords(4000);
/** Zipf-like: the first words far more frequent, as in text and code. */
const word = () => WORDS[Math.floor(WORDS.length * random() ** 3)];

/** Text like source code and documentation: lines of random words, indentation, punctuation. */
function makeTextPool(bytes) {
  const lines = [];
  let size = 0;
  const punctuation = [" ", " ", " ", " ", ", ", ". ", "(", ") ", " = ", "; ", ": ", " {", "}", "->", "/"];
  while (size < bytes) {
    let line = "  ".repeat(Math.floor(random() * random() * 5));
    for (let n = 3 + Math.floor(random() * 10); n > 0; n--) line += word() + pick(punctuation);
    line += "\n";
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(""), "latin1");
}

const TEXT = makeTextPool(8 * MiB);
const text = (size) => {
  const at = Math.floor(random() * (TEXT.length - size));
  return TEXT.subarray(at, at + size);
};

/** An ELF-looking file: 4 KiB blocks of random bytes (30 %), text (50 %) or zeros (20 %). */
function elfish(size) {
  const out = Buffer.alloc(size);
  for (let at = 0; at < size; at += 4 * KiB) {
    const end = Math.min(size, at + 4 * KiB);
    const r = random();
    if (r < 0.3) randomFillSync(out, at, end - at);
    else if (r < 0.8) text(end - at).copy(out, at);
  }
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  return out;
}

const latin1 = (s) => Buffer.from(s, "latin1");
function uvarint(n) {
  const out = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  return [...out, n];
}

/** A Go (≥ 1.18) build-info block naming `goVersion`, the main module and `deps` (as test/support/scan-fixtures.ts). */
function goBuildInfo(goVersion, main, deps) {
  const modinfo = [
    `path\t${main}/cmd/server`,
    `mod\t${main}\t(devel)\t`,
    ...Object.entries(deps).map(([path, version]) => `dep\t${path}\t${version}\th1:AAAA=`),
    "build\tGOOS=linux",
    "",
  ].join("\n");
  const info = Buffer.concat([
    Buffer.from("3077af0c9274080241e1c107e6d618e6", "hex"),
    latin1(modinfo),
    Buffer.from("f932433186182072008242104116d8f2", "hex"),
  ]);
  return Buffer.concat([
    latin1("\xff Go buildinf:"),
    Buffer.from([8, 2]),
    Buffer.alloc(16),
    Buffer.from(uvarint(goVersion.length)),
    latin1(goVersion),
    Buffer.from(uvarint(info.length)),
    info,
  ]);
}

/** A Go executable of `size` bytes with its build info at a 16-byte aligned offset 60 % in. */
function goBinary(size) {
  const bytes = elfish(size);
  const deps = { "golang.org/x/net": "v0.6.0", "github.com/google/uuid": "v1.6.0" };
  for (let i = 0; i < 40; i++) deps[`github.com/${word()}/${word()}`] = `v1.${i}.${Math.floor(random() * 9)}`;
  const info = goBuildInfo("go1.21.0", "github.com/acme/server", deps);
  info.copy(bytes, Math.floor((size * 0.6) / 16) * 16);
  return bytes;
}

// ---- package files the scanner parses ------------------------------------------------------

const DEBIAN_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;

/** [binary, source or null, version]: the ones the advisories below find, then `n` more. */
function debianPackages(n) {
  const list = [
    ["libc6", "glibc", "2.36-9+deb12u1"],
    ["libc-bin", "glibc", "2.36-9+deb12u1"],
    ["libssl3", "openssl", "3.0.11-1~deb12u2"],
    ["openssl", null, "3.0.11-1~deb12u2"],
    ["libcap2", null, "1:2.66-3"],
  ];
  const seen = new Set(list.map(([b]) => b));
  while (list.length < n) {
    const name = `lib${word()}${Math.floor(random() * 10)}`;
    if (seen.has(name)) continue;
    seen.add(name);
    const version = `${1 + Math.floor(random() * 9)}.${Math.floor(random() * 20)}.${Math.floor(random() * 9)}-${1 + Math.floor(random() * 4)}`;
    list.push([name, random() < 0.3 ? `${name}-src` : null, version]);
  }
  return list;
}

function dpkgStatus(packages) {
  return packages
    .map(([binary, source, version]) =>
      [
        `Package: ${binary}`,
        "Status: install ok installed",
        "Priority: optional",
        "Section: libs",
        `Installed-Size: ${Math.floor(random() * 20000)}`,
        "Maintainer: Debian Maintainers <debian-devel@lists.debian.org>",
        "Architecture: amd64",
        "Multi-Arch: same",
        ...(source ? [`Source: ${source}`] : []),
        `Version: ${version}`,
        "Depends: libc6 (>= 2.34), libgcc-s1 (>= 3.0)",
        `Description: ${word()} ${word()} ${word()} library`,
        ...Array.from({ length: 4 }, () => ` ${text(70).toString("latin1").replace(/\n/g, " ")}`),
        "",
      ].join("\n"),
    )
    .join("\n");
}

/** [name, version]: the ones the advisories find, then `n` more. */
function npmPackages(n) {
  const list = [
    ["lodash", "4.17.20"],
    ["minimist", "1.2.5"],
  ];
  const seen = new Set(list.map(([name]) => name));
  while (list.length < n) {
    const name = random() < 0.2 ? `@${word()}/${word()}-${word()}` : `${word()}-${word()}`;
    if (seen.has(name)) continue;
    seen.add(name);
    list.push([name, `${1 + Math.floor(random() * 5)}.${Math.floor(random() * 30)}.${Math.floor(random() * 10)}`]);
  }
  return list;
}

function packageLock(packages) {
  const entries = { "": { name: "acme-app", version: "1.0.0", dependencies: {} } };
  for (const [name, version] of packages) {
    entries[`node_modules/${name}`] = {
      version,
      resolved: `https://registry.npmjs.org/${name}/-/${name.split("/").pop()}-${version}.tgz`,
      integrity: `sha512-${randomFillSync(Buffer.alloc(48)).toString("base64")}`,
      dependencies: { [pick(packages)[0]]: "^1.0.0" },
    };
  }
  return JSON.stringify({ name: "acme-app", version: "1.0.0", lockfileVersion: 3, requires: true, packages: entries });
}

const packageJson = (name, version) =>
  JSON.stringify(
    {
      name,
      version,
      description: text(120).toString("latin1").replace(/\s+/g, " "),
      main: "lib/index.js",
      license: "MIT",
      repository: { type: "git", url: `https://github.com/${word()}/${name}` },
      dependencies: { [word()]: "^2.0.0" },
    },
    null,
    2,
  );

const pythonMetadata = (name, version) =>
  `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: ${word()} ${word()}\nLicense: Apache 2.0\n\n${text(2000).toString("latin1")}`;

// ---- layer writing --------------------------------------------------------------------------

/** A layer's tar, deflated as it is written; the body that each repetition salts. */
class LayerBody {
  constructor(path) {
    this.path = path;
    this.out = createWriteStream(path, { highWaterMark: 4 * MiB });
    this.deflate = zlib.createDeflateRaw({ level: 6, finishFlush: zlib.constants.Z_FULL_FLUSH });
    this.compressed = 0;
    this.deflate.on("data", (chunk) => {
      this.compressed += chunk.length;
      this.out.write(chunk);
    });
    this.crc = 0;
    this.hash = createHash("sha256");
    this.raw = 0;
    this.contentBytes = 0;
    this.dirs = new Set([""]);
    this.stats = { files: 0, directories: 0, executables: 0, packageFiles: 0 };
  }

  async write(buffer) {
    this.crc = zlib.crc32(buffer, this.crc);
    this.hash.update(buffer);
    this.raw += buffer.length;
    if (!this.deflate.write(buffer)) await once(this.deflate, "drain");
  }

  async directory(path) {
    if (this.dirs.has(path)) return;
    await this.directory(dirname(path) === "." ? "" : dirname(path));
    this.dirs.add(path);
    this.stats.directories++;
    await this.write(tarHeader(`${path}/`, 0, { mode: 0o755, type: "5" }));
  }

  async file(path, data, { mode = 0o644, packageFile = false } = {}) {
    await this.directory(dirname(path));
    this.stats.files++;
    if (mode & 0o111) this.stats.executables++;
    if (packageFile) this.stats.packageFiles++;
    this.contentBytes += data.length;
    await this.write(tarHeader(path, data.length, { mode }));
    await this.write(data);
    if (data.length % 512) await this.write(Buffer.alloc(512 - (data.length % 512)));
  }

  async end() {
    this.deflate.end();
    await once(this.deflate, "end");
    await new Promise((resolve, reject) => this.out.end((error) => (error ? reject(error) : resolve())));
    return {
      path: this.path,
      bodyBytes: this.compressed,
      crc: this.crc,
      hash: this.hash,
      raw: this.raw,
      contentBytes: this.contentBytes,
      ...this.stats,
    };
  }
}

const SMALL_EXTENSIONS = {
  debian: ["txt", "conf", "gz", "1"],
  python: ["py", "pyi", "txt"],
  node: ["js", "d.ts", "md"],
};

/**
 * Fills a layer up to `target` compressed bytes: 99 % of the files small text ones (200 B to
 * 24 KiB) in directories of about 30, 1 % large (256 KiB to 6 MiB) executables, libraries or
 * assets; 3 % of the small ones shell scripts (mode 0755).
 */
async function fill(layer, target, { root, extensions, binDir }) {
  let dir = "";
  let inDir = 0;
  while (layer.compressed < target) {
    if (inDir-- <= 0) {
      dir = `${root}/${word()}${Math.floor(random() * 100)}/${word()}`;
      inDir = 10 + Math.floor(random() * 40);
    }
    if (random() < 0.01) {
      // Not far past the target: the last large file is cut to what the layer still needs.
      const size = Math.min(logUniform(256 * KiB, 6 * MiB), Math.max(256 * KiB, 2 * (target - layer.compressed)));
      const kind = random();
      if (kind < 0.5) await layer.file(`${binDir}/${word()}-${word()}`, elfish(size), { mode: 0o755 });
      else if (kind < 0.8) await layer.file(`${dir}/lib${word()}.so.${Math.floor(random() * 9)}`, elfish(size));
      else
        await layer.file(`${dir}/${word()}.${pick(["png", "woff2", "gz", "jpg"])}`, randomFillSync(Buffer.alloc(size)));
    } else if (random() < 0.03) {
      await layer.file(`${dir}/${word()}.sh`, Buffer.concat([latin1("#!/bin/sh\n"), text(logUniform(200, 8 * KiB))]), {
        mode: 0o755,
      });
    } else {
      await layer.file(`${dir}/${word()}-${word()}.${pick(extensions)}`, text(logUniform(200, 24 * KiB)));
    }
  }
}

/** What the image holds that the advisories of `scanAdvisories` match; set by buildScanBase. */
export const EXPECTED_FINDINGS = [
  "CVE-2023-5678", // openssl (Debian)
  "CVE-2023-4911", // glibc (Debian)
  "CVE-2023-2603", // libcap2 (Debian)
  "CVE-2021-23337", // lodash (npm)
  "CVE-2021-44906", // minimist (npm)
  "CVE-2023-32681", // requests (PyPI)
  "CVE-2022-41723", // golang.org/x/net (Go)
  "CVE-2023-39321", // the Go toolchain (stdlib)
];

/**
 * Builds the five layer bodies under `dir` (about `layerBytes` compressed each); returns
 * {layers, debian, npm} for writeScanImage and scanAdvisories.
 */
export async function buildScanBase(dir, layerBytes) {
  mkdirSync(dir, { recursive: true });
  random = seeded(8);
  const debian = debianPackages(300);
  const npm = npmPackages(400);
  const layers = [];

  let layer = new LayerBody(join(dir, "layer-0.deflate"));
  await layer.file("etc/os-release", latin1(DEBIAN_OS_RELEASE), { packageFile: true });
  await layer.file("var/lib/dpkg/status", latin1(dpkgStatus(debian)), { packageFile: true });
  for (const [binary] of debian) await layer.file(`usr/share/doc/${binary}/copyright`, text(logUniform(500, 12 * KiB)));
  await fill(layer, layerBytes, { root: "usr/share", extensions: SMALL_EXTENSIONS.debian, binDir: "usr/bin" });
  layers.push(await layer.end());

  layer = new LayerBody(join(dir, "layer-1.deflate"));
  const python = [
    ["requests", "2.31.0rc1"],
    ...Array.from({ length: 24 }, () => [word(), `1.${Math.floor(random() * 9)}.0`]),
  ];
  for (const [name, version] of python)
    await layer.file(
      `usr/lib/python3/dist-packages/${name}-${version}.dist-info/METADATA`,
      latin1(pythonMetadata(name, version)),
      { packageFile: true },
    );
  await fill(layer, layerBytes, {
    root: "usr/lib/python3/dist-packages",
    extensions: SMALL_EXTENSIONS.python,
    binDir: "usr/local/bin",
  });
  layers.push(await layer.end());

  layer = new LayerBody(join(dir, "layer-2.deflate"));
  await layer.file("app/package.json", latin1(packageJson("acme-app", "1.0.0")));
  await layer.file("app/package-lock.json", latin1(packageLock(npm)), { packageFile: true });
  for (const [name, version] of npm.slice(0, 150)) {
    await layer.file(`app/node_modules/${name}/package.json`, latin1(packageJson(name, version)), {
      packageFile: true,
    });
    for (let i = 0; i < 4; i++)
      await layer.file(`app/node_modules/${name}/lib/${word()}.js`, text(logUniform(300, 16 * KiB)));
  }
  await fill(layer, layerBytes, { root: "app/node_modules", extensions: SMALL_EXTENSIONS.node, binDir: "app/bin" });
  layers.push(await layer.end());

  layer = new LayerBody(join(dir, "layer-3.deflate"));
  await layer.file("app/bin/server", goBinary(Math.round(layerBytes * 0.7)), { mode: 0o755, packageFile: true });
  await fill(layer, layerBytes, { root: "app/share", extensions: SMALL_EXTENSIONS.debian, binDir: "app/bin" });
  layers.push(await layer.end());

  layer = new LayerBody(join(dir, "layer-4.deflate"));
  await fill(layer, layerBytes, { root: "app/static", extensions: SMALL_EXTENSIONS.node, binDir: "usr/local/bin" });
  layers.push(await layer.end());

  return { layers, debian, npm };
}

const saltData = (salt, index) => latin1(`${salt} layer ${index}\n`);

/** A tar entry `etc/bench-salt-<i>` naming the salt, and the tar's two end blocks. */
function saltTail(salt, index) {
  const data = saltData(salt, index);
  return Buffer.concat([
    tarHeader(`etc/bench-salt-${index}`, data.length),
    data,
    Buffer.alloc(512 - (data.length % 512) + 1024),
  ]);
}

/**
 * Writes an OCI layout at `dir` (tag `tag`) whose layers are the base's bodies salted with
 * `salt`: new digests, the same content but one small file. Returns buildLayout's shape, each
 * layer with its tar's size, its files' bytes and its tar entry count.
 */
export async function writeScanImage(dir, base, salt, tag) {
  const blobsDir = join(dir, "blobs", "sha256");
  mkdirSync(blobsDir, { recursive: true });
  const layers = [];
  for (const [index, body] of base.layers.entries()) {
    const tail = saltTail(salt, index);
    const tailDeflated = zlib.deflateRawSync(tail, { level: 6 });
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(zlib.crc32(tail, body.crc), 0);
    trailer.writeUInt32LE((body.raw + tail.length) % 2 ** 32, 4);
    const tmp = join(blobsDir, `layer-${index}.tmp`);
    const out = createWriteStream(tmp, { highWaterMark: 4 * MiB });
    const hash = createHash("sha256");
    let size = 0;
    const write = async (chunk) => {
      hash.update(chunk);
      size += chunk.length;
      if (!out.write(chunk)) await once(out, "drain");
    };
    await write(GZIP_HEADER);
    for await (const chunk of createReadStream(body.path, { highWaterMark: 4 * MiB })) await write(chunk);
    await write(tailDeflated);
    await write(trailer);
    await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
    const hex = hash.digest("hex");
    renameSync(tmp, join(blobsDir, hex));
    layers.push({
      digest: `sha256:${hex}`,
      size,
      path: join(blobsDir, hex),
      diffId: `sha256:${body.hash.copy().update(tail).digest("hex")}`,
      tarBytes: body.raw + tail.length,
      contentBytes: body.contentBytes + saltData(salt, index).length,
      entries: body.files + body.directories + 1,
    });
  }
  return writeLayout(dir, layers, tag, OCI_LAYER_TAR_GZIP);
}

// ---- advisories ------------------------------------------------------------------------------

const range = (type, fixed, introduced = "0") => [{ type, events: [{ introduced }, { fixed }] }];
const HIGH_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";
const CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";

function advisory(id, ecosystem, name, ranges, extra = {}) {
  return {
    schema_version: "1.6.0",
    id,
    modified: "2024-01-15T10:00:00Z",
    published: "2023-11-06T16:15:00Z",
    summary: `${id} summary`,
    affected: [{ package: { ecosystem, name }, ranges }],
    references: [{ type: "ADVISORY", url: `https://example.org/${id}` }],
    ...extra,
  };
}

/**
 * OSV records: the eight that find EXPECTED_FINDINGS, and one per Debian source and npm package
 * of the image fixed long before its version (looked up and compared, never found).
 */
export function scanAdvisories(base) {
  const matching = [
    advisory("DEBIAN-CVE-2023-5678", "Debian:12", "openssl", range("ECOSYSTEM", "3.0.13-1~deb12u1"), {
      upstream: ["CVE-2023-5678"],
    }),
    advisory("DEBIAN-CVE-2023-4911", "Debian:12", "glibc", range("ECOSYSTEM", "2.36-9+deb12u3"), {
      upstream: ["CVE-2023-4911"],
    }),
    advisory("DEBIAN-CVE-2023-2603", "Debian:12", "libcap2", range("ECOSYSTEM", "1:2.66-4"), {
      upstream: ["CVE-2023-2603"],
    }),
    advisory("GHSA-35jh-r3h4-6jhm", "npm", "lodash", range("SEMVER", "4.17.21"), {
      aliases: ["CVE-2021-23337"],
      severity: [{ type: "CVSS_V3", score: HIGH_VECTOR }],
    }),
    advisory("GHSA-xvch-5gv4-984h", "npm", "minimist", range("SEMVER", "1.2.6", "1.0.0"), {
      aliases: ["CVE-2021-44906"],
      severity: [{ type: "CVSS_V3", score: CRITICAL_VECTOR }],
    }),
    advisory("PYSEC-2023-74", "PyPI", "requests", range("ECOSYSTEM", "2.31.0", "2.3.0"), {
      aliases: ["CVE-2023-32681"],
    }),
    advisory("GO-2023-1571", "Go", "golang.org/x/net", range("SEMVER", "0.7.0"), {
      aliases: ["CVE-2022-41723"],
      severity: [{ type: "CVSS_V3", score: HIGH_VECTOR }],
    }),
    advisory("GO-2023-2041", "Go", "stdlib", range("SEMVER", "1.21.1", "1.21.0-0"), { aliases: ["CVE-2023-39321"] }),
  ];
  const sources = [...new Set(base.debian.map(([binary, source]) => source ?? binary))].filter(
    (name) => !["glibc", "openssl", "libcap2"].includes(name),
  );
  const others = [
    ...sources.map((name, i) => advisory(`DEBIAN-BENCH-${i}`, "Debian:12", name, range("ECOSYSTEM", "0.1-1"))),
    ...base.npm
      .filter(([name]) => name !== "lodash" && name !== "minimist")
      .map(([name], i) => advisory(`GHSA-bench-${i}`, "npm", name, range("SEMVER", "0.0.1"))),
  ];
  return [...matching, ...others];
}
