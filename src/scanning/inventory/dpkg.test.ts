import { describe, expect, it } from "vitest";
import { parseDpkgStatus } from "./dpkg";

// Trimmed from a debian:12 image's /var/lib/dpkg/status.
const STATUS = `Package: libssl3
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 6211
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u2
Depends: libc6 (>= 2.34)
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL and
 TLS cryptographic protocols for secure communication over the Internet.
 .
 It provides the libssl and libcrypto shared libraries.
Homepage: https://www.openssl.org/

Package: libgcc-s1
Status: install ok installed
Priority: optional
Section: libs
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Description: GCC support library

Package: zlib1g
Status: hold ok installed
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime

Package: bash
Status: install ok installed
Essential: yes
Version: 5.2.15-2+b2
Description: GNU Bourne Again SHell

Package: libpcre3
Status: deinstall ok config-files
Source: pcre3
Version: 2:8.39-15

Package: tzdata
Status: install reinstreq half-installed
Version: 2024a-0+deb12u1

Version: 1.0
Description: a stanza without a package name

Package: libfoo1
Source: foo (1.2-3+b1)
Version: 1.2-3+b1
`;

const PATH = "/var/lib/dpkg/status";

describe("parseDpkgStatus", () => {
  it("reports installed packages under their source name and version", () => {
    expect(
      parseDpkgStatus(STATUS, PATH, { id: "debian", versionId: "12", versionCodename: null, prettyName: null }),
    ).toEqual([
      { ecosystem: "Debian", name: "openssl", binaryName: "libssl3", version: "3.0.11-1~deb12u2", path: PATH },
      { ecosystem: "Debian", name: "gcc-12", binaryName: "libgcc-s1", version: "12.2.0-14", path: PATH },
      { ecosystem: "Debian", name: "zlib", binaryName: "zlib1g", version: "1:1.2.13.dfsg-1", path: PATH },
      { ecosystem: "Debian", name: "bash", version: "5.2.15-2+b2", path: PATH },
      { ecosystem: "Debian", name: "foo", binaryName: "libfoo1", version: "1.2-3+b1", path: PATH },
    ]);
  });
  it("uses the source version from `Source: name (version)` when the binary's differs", () => {
    const text =
      "Package: libssl3\nStatus: install ok installed\nSource: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2+b1\n";
    expect(parseDpkgStatus(text, PATH, null)).toEqual([
      { ecosystem: "Debian", name: "openssl", binaryName: "libssl3", version: "3.0.11-1~deb12u2", path: PATH },
    ]);
  });
  it("labels an Ubuntu image's packages Ubuntu", () => {
    const ubuntu = { id: "ubuntu", versionId: "22.04", versionCodename: "jammy", prettyName: null };
    const text = "Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.35-0ubuntu3.6\n";
    expect(parseDpkgStatus(text, PATH, ubuntu)).toEqual([
      { ecosystem: "Ubuntu", name: "glibc", binaryName: "libc6", version: "2.35-0ubuntu3.6", path: PATH },
    ]);
  });
  it("treats distroless status.d stanzas (no Status) as installed", () => {
    const text = "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nSource: openssl\n";
    expect(parseDpkgStatus(text, "/var/lib/dpkg/status.d/libssl3", null)).toEqual([
      {
        ecosystem: "Debian",
        name: "openssl",
        binaryName: "libssl3",
        version: "3.0.11-1~deb12u2",
        path: "/var/lib/dpkg/status.d/libssl3",
      },
    ]);
  });
  it("never throws on junk", () => {
    expect(parseDpkgStatus("\u0000\u00ff\n\n:::\nPackage\nVersion:\n", PATH, null)).toEqual([]);
    expect(parseDpkgStatus("", PATH, null)).toEqual([]);
  });
});
