/**
 * The scanning fixtures: images whose layers hold real package-database formats (a Debian
 * `status`, distroless `status.d/`, Alpine's `installed`, an npm tree, a PyPI dist-info, a Go
 * binary's build info, a jar's pom.properties), and OSV advisories with real ids and the ranges
 * that exercise each version scheme's boundaries. Built with Web APIs and modern-tar only, so
 * both the workers tests and the e2e tests (Node) build the same bytes.
 */
import { packTar } from "modern-tar";

export interface FixtureFile {
  path: string;
  data: string | Uint8Array;
  mode?: number;
}

const encoder = new TextEncoder();
const bytesOf = (data: string | Uint8Array) => (typeof data === "string" ? encoder.encode(data) : data);

/** A layer's tar, gzip-compressed; `whiteouts` are paths deleted from the layers below. */
export async function gzipLayer(files: readonly FixtureFile[], whiteouts: readonly string[] = []): Promise<Uint8Array> {
  const entries = [
    ...files.map((file) => {
      const body = bytesOf(file.data);
      return { header: { name: file.path, size: body.length, type: "file" as const, mode: file.mode ?? 0o644 }, body };
    }),
    ...whiteouts.map((path) => {
      const slash = path.lastIndexOf("/");
      const name = `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`;
      return { header: { name, size: 0, type: "file" as const, mode: 0o644 }, body: new Uint8Array(0) };
    }),
  ];
  const tar = await packTar(entries);
  const gzipped = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(gzipped).arrayBuffer());
}

// ---- a Go binary with build info (the inline format of Go 1.18 and later) ------------------

const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const hex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (b) => parseInt(b, 16));
function uvarint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  return [...out, n];
}
function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An ELF-looking file whose build info names `goVersion`, the main module and `deps` (path → version). */
export function goBinary(goVersion: string, main: string, deps: Record<string, string>): Uint8Array {
  const modinfo = [
    `path\t${main}/cmd/server`,
    `mod\t${main}\t(devel)\t`,
    ...Object.entries(deps).map(([path, version]) => `dep\t${path}\t${version}\th1:AAAA=`),
    "build\tGOOS=linux",
    "",
  ].join("\n");
  const info = concat(
    hex("3077af0c9274080241e1c107e6d618e6"),
    latin1(modinfo),
    hex("f932433186182072008242104116d8f2"),
  );
  const header = concat(latin1("\xff Go buildinf:"), [8, 2], new Uint8Array(16));
  const block = concat(header, uvarint(goVersion.length), latin1(goVersion), uvarint(info.length), info);
  const before = new Uint8Array(4096);
  before.set([0x7f, 0x45, 0x4c, 0x46]);
  return concat(before, block, new Uint8Array(2048));
}

// ---- a jar (zip, stored entries) with a pom.properties --------------------------------------

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A zip of stored (uncompressed) entries. */
export function storedZip(entries: readonly { name: string; data: string | Uint8Array }[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    const data = bytesOf(entry.data);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, name.length, true);
    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true);
    central.setUint16(4, 20, true);
    central.setUint16(6, 20, true);
    central.setUint32(16, crc, true);
    central.setUint32(20, data.length, true);
    central.setUint32(24, data.length, true);
    central.setUint16(28, name.length, true);
    central.setUint32(42, offset, true);
    const localBytes = concat(new Uint8Array(local.buffer), name, data);
    locals.push(localBytes);
    centrals.push(concat(new Uint8Array(central.buffer), name));
    offset += localBytes.length;
  }
  const directory = concat(...centrals);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, directory.length, true);
  end.setUint32(16, offset, true);
  return concat(...locals, directory, new Uint8Array(end.buffer));
}

export function jar(group: string, artifact: string, version: string): Uint8Array {
  return storedZip([
    { name: "META-INF/MANIFEST.MF", data: "Manifest-Version: 1.0\r\n" },
    {
      name: `META-INF/maven/${group}/${artifact}/pom.properties`,
      data: `#Created by Apache Maven 3.8.1\ngroupId=${group}\nartifactId=${artifact}\nversion=${version}\n`,
    },
  ]);
}

// ---- the images ---------------------------------------------------------------------------

const DEBIAN_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;

const DPKG_STATUS = `Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12986
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u3
Description: GNU C Library: Shared libraries

Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries

Package: openssl
Status: install ok installed
Priority: optional
Section: utils
Architecture: amd64
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - cryptographic utility

Package: libcap2
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Multi-Arch: same
Version: 1:2.66-3
Description: POSIX 1003.1e capabilities (library)

Package: oldlib
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
Description: removed, its configuration kept
`;

const ALPINE_INSTALLED = `C:Q1bnh3nEhGRNgBVGlqq8gLbk9R3bA=
P:busybox
V:1.36.1-r5
A:x86_64
S:515424
I:947200
T:Size optimized toolbox of many common UNIX utilities
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1696606123

C:Q1u7ZrDqkVJ+pqPl5MFYuGt1CiU7Y=
P:libcrypto3
V:3.1.4-r0
A:x86_64
T:Crypto library from openssl
o:openssl
t:1698248372

C:Q1c2t1BhgZdo3ykC4Fd9UZcFA3jOE=
P:libssl3
V:3.1.4-r0
A:x86_64
T:SSL shared libraries
o:openssl
t:1698248372
`;

export interface FixtureImage {
  /** The layers, bottom first (gzip tars). */
  layers: Uint8Array[];
}

export async function debianImage(): Promise<FixtureImage> {
  return {
    layers: [
      await gzipLayer([
        { path: "etc/os-release", data: DEBIAN_OS_RELEASE },
        { path: "var/lib/dpkg/status", data: DPKG_STATUS },
        { path: "usr/share/doc/openssl/copyright", data: "..." },
      ]),
    ],
  };
}

export async function alpineImage(): Promise<FixtureImage> {
  return {
    layers: [
      await gzipLayer([
        {
          path: "etc/os-release",
          data: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n',
        },
        { path: "lib/apk/db/installed", data: ALPINE_INSTALLED },
      ]),
    ],
  };
}

export async function distrolessImage(): Promise<FixtureImage> {
  return {
    layers: [
      await gzipLayer([
        {
          path: "usr/lib/os-release",
          data: DEBIAN_OS_RELEASE.replace('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"', 'PRETTY_NAME="Distroless"'),
        },
        {
          path: "var/lib/dpkg/status.d/libssl3",
          data: "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\nDescription: Secure Sockets Layer toolkit\n",
        },
        {
          path: "var/lib/dpkg/status.d/libssl3.md5sums",
          data: "d41d8cd98f00b204e9800998ecf8427e  usr/lib/x86_64-linux-gnu/libssl.so.3\n",
        },
        {
          path: "var/lib/dpkg/status.d/tzdata",
          data: "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\nDescription: time zone data\n",
        },
      ]),
    ],
  };
}

/** npm, PyPI, Go and Maven packages; minimist is deleted by a whiteout in the upper layer. */
export async function applicationImage(): Promise<FixtureImage> {
  return {
    layers: [
      await gzipLayer([
        { path: "app/node_modules/lodash/package.json", data: JSON.stringify({ name: "lodash", version: "4.17.20" }) },
        {
          path: "app/node_modules/minimist/package.json",
          data: JSON.stringify({ name: "minimist", version: "1.2.5" }),
        },
        {
          path: "usr/lib/python3.11/site-packages/requests-2.31.0rc1.dist-info/METADATA",
          data: "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0rc1\nSummary: Python HTTP for Humans.\n\nVersion: 9.9.9 is in the description, not a header\n",
        },
        {
          path: "app/server",
          data: goBinary("go1.21.5", "github.com/acme/server", {
            "golang.org/x/net": "v0.6.0",
            "github.com/google/uuid": "v1.6.0",
          }),
          mode: 0o755,
        },
        { path: "app/lib/log4j-core-2.14.1.jar", data: jar("org.apache.logging.log4j", "log4j-core", "2.14.1") },
      ]),
      await gzipLayer([{ path: "app/README", data: "the upper layer" }], ["app/node_modules/minimist"]),
    ],
  };
}

// ---- advisories (OSV) -----------------------------------------------------------------------

const CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; // 9.8
const HIGH_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"; // 7.5
const MEDIUM_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"; // 6.1
const MAX_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"; // 10.0

const range = (...events: Record<string, string>[]) => [{ type: "ECOSYSTEM", events }];
const semverRange = (...events: Record<string, string>[]) => [{ type: "SEMVER", events }];

function advisory(
  id: string,
  affected: { ecosystem: string; name: string; ranges: unknown[] }[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    schema_version: "1.6.0",
    id,
    modified: "2024-01-15T10:00:00Z",
    published: "2023-11-06T16:15:00Z",
    summary: `${id} summary`,
    affected: affected.map(({ ecosystem, name, ranges }) => ({ package: { ecosystem, name }, ranges })),
    references: [{ type: "ADVISORY", url: `https://example.org/${id}` }],
    ...extra,
  };
}

export const ADVISORIES: Record<string, unknown>[] = [
  // Debian: tilde ordering (3.0.11-1~deb12u2 < 3.0.13-1~deb12u1), a fixed boundary, an epoch.
  advisory(
    "DEBIAN-CVE-2023-5678",
    [{ ecosystem: "Debian:12", name: "openssl", ranges: range({ introduced: "0" }, { fixed: "3.0.13-1~deb12u1" }) }],
    {
      upstream: ["CVE-2023-5678"],
    },
  ),
  advisory("DEBIAN-CVE-2023-5678-BULLSEYE", [
    { ecosystem: "Debian:11", name: "openssl", ranges: range({ introduced: "0" }, { fixed: "1.1.1w-0+deb11u1" }) },
  ]),
  advisory(
    "DEBIAN-CVE-2023-4911",
    [{ ecosystem: "Debian:12", name: "glibc", ranges: range({ introduced: "0" }, { fixed: "2.36-9+deb12u3" }) }],
    {
      upstream: ["CVE-2023-4911"],
    },
  ),
  advisory(
    "DEBIAN-CVE-2023-2603",
    [{ ecosystem: "Debian:12", name: "libcap2", ranges: range({ introduced: "0" }, { fixed: "1:2.66-4" }) }],
    {
      upstream: ["CVE-2023-2603"],
    },
  ),
  // Alpine: apk revisions (3.1.4-r0 < 3.1.4-r1; 1.36.1-r5 is the fix itself).
  advisory(
    "ALPINE-CVE-2023-5678",
    [{ ecosystem: "Alpine:v3.18", name: "openssl", ranges: range({ introduced: "0" }, { fixed: "3.1.4-r1" }) }],
    {
      aliases: ["CVE-2023-5678"],
    },
  ),
  advisory("ALPINE-CVE-2022-48174", [
    { ecosystem: "Alpine:v3.18", name: "busybox", ranges: range({ introduced: "0" }, { fixed: "1.36.1-r5" }) },
  ]),
  // npm (SEMVER): lodash affected; minimist affected but deleted by a whiteout; an older fix.
  advisory(
    "GHSA-35jh-r3h4-6jhm",
    [{ ecosystem: "npm", name: "lodash", ranges: semverRange({ introduced: "0" }, { fixed: "4.17.21" }) }],
    {
      aliases: ["CVE-2021-23337"],
      severity: [{ type: "CVSS_V3", score: HIGH_VECTOR }],
    },
  ),
  advisory(
    "GHSA-jf85-cpcp-j695",
    [{ ecosystem: "npm", name: "lodash", ranges: semverRange({ introduced: "0" }, { fixed: "4.17.12" }) }],
    {
      aliases: ["CVE-2019-10744"],
      severity: [{ type: "CVSS_V3", score: CRITICAL_VECTOR }],
    },
  ),
  advisory(
    "GHSA-xvch-5gv4-984h",
    [{ ecosystem: "npm", name: "minimist", ranges: semverRange({ introduced: "1.0.0" }, { fixed: "1.2.6" }) }],
    {
      aliases: ["CVE-2021-44906"],
      severity: [{ type: "CVSS_V3", score: CRITICAL_VECTOR }],
    },
  ),
  // PyPI (PEP 440): a release candidate is before its release.
  advisory(
    "PYSEC-2023-74",
    [{ ecosystem: "PyPI", name: "requests", ranges: range({ introduced: "2.3.0" }, { fixed: "2.31.0" }) }],
    {
      aliases: ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
      severity: [{ type: "CVSS_V3", score: MEDIUM_VECTOR }],
    },
  ),
  // Go: a module below its fix; the toolchain above its.
  advisory(
    "GO-2023-1571",
    [{ ecosystem: "Go", name: "golang.org/x/net", ranges: semverRange({ introduced: "0" }, { fixed: "0.7.0" }) }],
    {
      aliases: ["CVE-2022-41723"],
      severity: [{ type: "CVSS_V3", score: HIGH_VECTOR }],
    },
  ),
  advisory(
    "GO-2023-2041",
    [{ ecosystem: "Go", name: "stdlib", ranges: semverRange({ introduced: "1.21.0-0" }, { fixed: "1.21.1" }) }],
    {
      aliases: ["CVE-2023-39321"],
    },
  ),
  // Maven: log4j-core 2.14.1 inside 2.13.0 ≤ v < 2.15.0.
  advisory(
    "GHSA-jfh8-c2jp-5v3q",
    [
      {
        ecosystem: "Maven",
        name: "org.apache.logging.log4j:log4j-core",
        ranges: range({ introduced: "2.13.0" }, { fixed: "2.15.0" }, { introduced: "2.0-beta9" }, { fixed: "2.12.2" }),
      },
    ],
    { aliases: ["CVE-2021-44228"], severity: [{ type: "CVSS_V3", score: MAX_VECTOR }] },
  ),
];

/** What each fixture image must be found to have: finding name, package, version, severity. */
export const EXPECTED_FINDINGS: Record<"debian" | "alpine" | "distroless" | "application", string[]> = {
  debian: ["CVE-2023-5678 openssl 3.0.11-1~deb12u2 UNDEFINED", "CVE-2023-2603 libcap2 1:2.66-3 UNDEFINED"],
  alpine: ["CVE-2023-5678 openssl 3.1.4-r0 UNDEFINED"],
  distroless: ["CVE-2023-5678 openssl 3.0.11-1~deb12u2 UNDEFINED"],
  application: [
    "CVE-2021-44228 org.apache.logging.log4j:log4j-core 2.14.1 CRITICAL",
    "CVE-2021-23337 lodash 4.17.20 HIGH",
    "CVE-2022-41723 golang.org/x/net v0.6.0 HIGH",
    "CVE-2023-32681 requests 2.31.0rc1 MEDIUM",
  ],
};
