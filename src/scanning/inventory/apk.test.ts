import { describe, expect, it } from "vitest";
import { parseApkInstalled } from "./apk";

// Trimmed from an alpine:3.19 image's /lib/apk/db/installed.
const INSTALLED = `C:Q1kXj3jB0BCLYWBqBdGJpaMoG0BBs=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407278
I:667648
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1705321532
c:f93af038c3be4b5d3e2bc3f8ea1ee8e2c1a1e9f0
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Jt5KB5jw4jgt5XzTXNKiMGqj6H8=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1X2bVqVlM3O5Dyv6FMmpmxJm2rms=
P:libcrypto3
V:3.1.4-r5
A:x86_64
T:Crypto library from openssl
o:openssl
F:usr
F:usr/lib
R:libcrypto.so.3

C:Q1X2bVqVlM3O5Dyv6FMmpmxJm2rmt=
P:libssl3
V:3.1.4-r5
p:so:libssl.so.3=3
o:openssl

P:no-origin
V:1.0-r0

P:no-version
o:something
`;

describe("parseApkInstalled", () => {
  it("reports each package under its origin, the subpackage as its binary name", () => {
    const path = "/lib/apk/db/installed";
    expect(parseApkInstalled(INSTALLED, path)).toEqual([
      { ecosystem: "Alpine", name: "musl", version: "1.2.4_git20230717-r4", path },
      { ecosystem: "Alpine", name: "openssl", binaryName: "libcrypto3", version: "3.1.4-r5", path },
      { ecosystem: "Alpine", name: "openssl", binaryName: "libssl3", version: "3.1.4-r5", path },
      { ecosystem: "Alpine", name: "no-origin", version: "1.0-r0", path },
    ]);
  });
  it("never throws on junk", () => {
    expect(parseApkInstalled("\u0000P\nV:\n\r\n\r\nP:x\r\nV:1-r0\r\n", "/x")).toEqual([
      { ecosystem: "Alpine", name: "x", version: "1-r0", path: "/x" },
    ]);
  });
});
