/**
 * Range evaluation and package matching on records shaped like osv.dev's: a Debian security
 * advisory, an Alpine secdb entry, GitHub advisories for npm and Maven, a PyPI advisory with
 * pre-releases and a Go vulndb entry.
 */
import { describe, expect, it } from "vitest";
import { affectedVersion, packageMatches } from "./match";
import { parseOsv, type OsvAffected } from "./osv";

/** The first affected entry of a record with the given entries. */
function affectedOf(...affected: unknown[]): OsvAffected {
  const [entry] = parseOsv({ id: "TEST-1", modified: "2024-01-01T00:00:00Z", affected }).affected;
  if (!entry) throw new Error("no affected entry");
  return entry;
}

const ecosystemRange = (...events: object[]) => ({ type: "ECOSYSTEM", events });
const semverRange = (...events: object[]) => ({ type: "SEMVER", events });

/** DSA-5586-1 (openssh, Terrapin): the fixed version carries an epoch. */
const OPENSSH = affectedOf({
  package: { ecosystem: "Debian:12", name: "openssh", purl: "pkg:deb/debian/openssh?arch=source" },
  ranges: [ecosystemRange({ introduced: "0" }, { fixed: "1:9.2p1-2+deb12u2" })],
});

/** ALPINE-CVE-2023-5678 (openssl in Alpine 3.19). */
const ALPINE_OPENSSL = affectedOf({
  package: { ecosystem: "Alpine:v3.19", name: "openssl" },
  ranges: [ecosystemRange({ introduced: "0" }, { fixed: "3.1.4-r5" })],
});

/** GHSA-2p57-rm9w-gvfp (ip): no fix, the last affected version only. */
const IP_UNFIXED = affectedOf({
  package: { ecosystem: "npm", name: "ip" },
  ranges: [semverRange({ introduced: "0" }, { last_affected: "2.0.1" })],
});

/** GHSA-78xj-cgh5-2h22 (ip): two fixed branches in one range. */
const IP_BRANCHES = affectedOf({
  package: { ecosystem: "npm", name: "ip" },
  ranges: [semverRange({ introduced: "0" }, { fixed: "1.1.9" }, { introduced: "2.0.0" }, { fixed: "2.0.1" })],
});

/** A Django advisory (PyPI): both supported series, starting at their first pre-release. */
const DJANGO = affectedOf({
  package: { ecosystem: "PyPI", name: "django", purl: "pkg:pypi/django" },
  ranges: [ecosystemRange({ introduced: "4.2a1" }, { fixed: "4.2.11" }, { introduced: "5.0a1" }, { fixed: "5.0.3" })],
  versions: ["4.2a1", "4.2b1", "4.2rc1", "4.2", "4.2.10", "5.0rc1", "5.0", "5.0.2"],
});

/** GO-2023-2102 (golang.org/x/net, HTTP/2 rapid reset): OSV writes Go versions without the v. */
const X_NET = affectedOf({
  package: { ecosystem: "Go", name: "golang.org/x/net", purl: "pkg:golang/golang.org/x/net" },
  ranges: [semverRange({ introduced: "0" }, { fixed: "0.17.0" })],
  ecosystem_specific: { imports: [{ path: "golang.org/x/net/http2", symbols: ["Server.ServeConn"] }] },
});

/** GHSA-jfh8-c2jp-5v3q (log4j-core, Log4Shell). */
const LOG4J = affectedOf({
  package: { ecosystem: "Maven", name: "org.apache.logging.log4j:log4j-core" },
  ranges: [ecosystemRange({ introduced: "2.0-beta9" }, { fixed: "2.15.0" })],
});

describe("affectedVersion", () => {
  it("evaluates a Debian range in dpkg order, epochs included", () => {
    expect(affectedVersion(OPENSSH, "1:9.2p1-2+deb12u1")).toEqual({
      affected: true,
      fixedVersion: "1:9.2p1-2+deb12u2",
    });
    expect(affectedVersion(OPENSSH, "1:9.2p1-2")).toEqual({ affected: true, fixedVersion: "1:9.2p1-2+deb12u2" });
    // No epoch is epoch 0: older than any 1: version, whatever the upstream number.
    expect(affectedVersion(OPENSSH, "9.9p1-1").affected).toBe(true);
    expect(affectedVersion(OPENSSH, "1:9.2p1-2+deb12u2")).toEqual({ affected: false, fixedVersion: null });
    expect(affectedVersion(OPENSSH, "1:9.2p1-2+deb12u3").affected).toBe(false);
    expect(affectedVersion(OPENSSH, "1:9.6p1-3").affected).toBe(false);
  });

  it("evaluates an Alpine range in apk order", () => {
    expect(affectedVersion(ALPINE_OPENSSL, "3.1.4-r4")).toEqual({ affected: true, fixedVersion: "3.1.4-r5" });
    expect(affectedVersion(ALPINE_OPENSSL, "3.1.4_rc1-r9").affected).toBe(true);
    expect(affectedVersion(ALPINE_OPENSSL, "3.1.4-r5").affected).toBe(false);
    expect(affectedVersion(ALPINE_OPENSSL, "3.1.4_p1-r0").affected).toBe(false);
  });

  it("includes last_affected and reports no fix", () => {
    expect(affectedVersion(IP_UNFIXED, "1.1.9")).toEqual({ affected: true, fixedVersion: null });
    expect(affectedVersion(IP_UNFIXED, "2.0.1")).toEqual({ affected: true, fixedVersion: null });
    expect(affectedVersion(IP_UNFIXED, "2.0.2-beta.1").affected).toBe(false);
    expect(affectedVersion(IP_UNFIXED, "2.0.2").affected).toBe(false);
  });

  it("reports the fix of the interval the version is in", () => {
    expect(affectedVersion(IP_BRANCHES, "1.1.8")).toEqual({ affected: true, fixedVersion: "1.1.9" });
    expect(affectedVersion(IP_BRANCHES, "1.1.9").affected).toBe(false);
    expect(affectedVersion(IP_BRANCHES, "2.0.0")).toEqual({ affected: true, fixedVersion: "2.0.1" });
    expect(affectedVersion(IP_BRANCHES, "2.0.0-rc.1").affected).toBe(false);
    expect(affectedVersion(IP_BRANCHES, "2.0.1").affected).toBe(false);
  });

  it("orders PyPI pre-releases per PEP 440", () => {
    expect(affectedVersion(DJANGO, "4.1.13").affected).toBe(false);
    expect(affectedVersion(DJANGO, "4.2a1")).toEqual({ affected: true, fixedVersion: "4.2.11" });
    expect(affectedVersion(DJANGO, "4.2rc1")).toEqual({ affected: true, fixedVersion: "4.2.11" });
    expect(affectedVersion(DJANGO, "4.2.10.post1")).toEqual({ affected: true, fixedVersion: "4.2.11" });
    expect(affectedVersion(DJANGO, "4.2.11").affected).toBe(false);
    expect(affectedVersion(DJANGO, "5.0rc1")).toEqual({ affected: true, fixedVersion: "5.0.3" });
    expect(affectedVersion(DJANGO, "5.0.3").affected).toBe(false);
    expect(affectedVersion(DJANGO, "5.1a1").affected).toBe(false);
  });

  it("accepts Go's v-prefixed versions and pseudo-versions", () => {
    expect(affectedVersion(X_NET, "v0.15.0")).toEqual({ affected: true, fixedVersion: "0.17.0" });
    expect(affectedVersion(X_NET, "v0.0.0-20220722155237-a158d28d115b").affected).toBe(true);
    expect(affectedVersion(X_NET, "v0.17.0").affected).toBe(false);
    expect(affectedVersion(X_NET, "v0.17.1-0.20231010000000-abcdef123456").affected).toBe(false);
  });

  it("orders Maven qualifiers", () => {
    expect(affectedVersion(LOG4J, "2.14.1")).toEqual({ affected: true, fixedVersion: "2.15.0" });
    expect(affectedVersion(LOG4J, "2.0-beta9").affected).toBe(true);
    expect(affectedVersion(LOG4J, "2.0-beta8").affected).toBe(false);
    expect(affectedVersion(LOG4J, "2.15.0-rc1").affected).toBe(true);
    expect(affectedVersion(LOG4J, "2.15.0").affected).toBe(false);
  });

  it("sorts events given out of order", () => {
    const entry = affectedOf({
      package: { ecosystem: "Debian:12", name: "glibc" },
      ranges: [
        ecosystemRange(
          { fixed: "2.36-9+deb12u3" },
          { introduced: "2.36-9" },
          { fixed: "2.36-8+b1" },
          { introduced: "0" },
        ),
      ],
    });
    expect(affectedVersion(entry, "2.36-8")).toEqual({ affected: true, fixedVersion: "2.36-8+b1" });
    expect(affectedVersion(entry, "2.36-8+b1").affected).toBe(false);
    expect(affectedVersion(entry, "2.36-9+deb12u1")).toEqual({ affected: true, fixedVersion: "2.36-9+deb12u3" });
  });

  it("honours limit events", () => {
    const entry = affectedOf({
      package: { ecosystem: "npm", name: "left-pad" },
      ranges: [semverRange({ introduced: "1.0.0" }, { limit: "2.0.0" })],
    });
    expect(affectedVersion(entry, "1.5.0")).toEqual({ affected: true, fixedVersion: null });
    expect(affectedVersion(entry, "2.0.0").affected).toBe(false);
    const unlimited = affectedOf({
      package: { ecosystem: "npm", name: "left-pad" },
      ranges: [semverRange({ introduced: "1.0.0" }, { limit: "*" })],
    });
    expect(affectedVersion(unlimited, "99.0.0").affected).toBe(true);
  });

  it("takes the highest fix when several ranges hold the version, and none when one has no fix", () => {
    const entry = affectedOf({
      package: { ecosystem: "npm", name: "minimist" },
      ranges: [
        semverRange({ introduced: "0" }, { fixed: "1.2.6" }),
        ecosystemRange({ introduced: "1.0.0" }, { fixed: "1.2.3" }),
      ],
    });
    expect(affectedVersion(entry, "1.2.0")).toEqual({ affected: true, fixedVersion: "1.2.6" });
    expect(affectedVersion(entry, "1.2.4")).toEqual({ affected: true, fixedVersion: "1.2.6" });
    const open = affectedOf({
      package: { ecosystem: "npm", name: "minimist" },
      ranges: [semverRange({ introduced: "0" }, { fixed: "1.2.6" }), semverRange({ introduced: "1.0.0" })],
    });
    expect(affectedVersion(open, "1.2.0")).toEqual({ affected: true, fixedVersion: null });
  });

  it("matches the versions list, exactly or as the scheme's equal", () => {
    const listed = affectedOf({ package: { ecosystem: "PyPI", name: "jinja2" }, versions: ["2.10", "2.10.1"] });
    expect(affectedVersion(listed, "2.10.0")).toEqual({ affected: true, fixedVersion: null });
    expect(affectedVersion(listed, "2.11")).toEqual({ affected: false, fixedVersion: null });
  });

  it("ignores GIT ranges, and ECOSYSTEM ranges of ecosystems it cannot order", () => {
    const git = affectedOf({
      package: { ecosystem: "OSS-Fuzz", name: "zlib" },
      ranges: [{ type: "GIT", repo: "https://github.com/madler/zlib", events: [{ introduced: "0" }] }],
      versions: ["v1.2.11"],
    });
    expect(affectedVersion(git, "v1.2.11")).toEqual({ affected: true, fixedVersion: null });
    expect(affectedVersion(git, "v1.2.12").affected).toBe(false);
    const gem = affectedOf({
      package: { ecosystem: "RubyGems", name: "rack" },
      ranges: [ecosystemRange({ introduced: "0" })],
    });
    expect(affectedVersion(gem, "2.2.8").affected).toBe(false);
    // SEMVER ranges are ordered by SemVer whatever the ecosystem.
    const crate = affectedOf({
      package: { ecosystem: "crates.io", name: "h2" },
      ranges: [semverRange({ introduced: "0" }, { fixed: "0.3.24" })],
    });
    expect(affectedVersion(crate, "0.3.20")).toEqual({ affected: true, fixedVersion: "0.3.24" });
  });

  it("matches a version its scheme cannot parse against the versions list only", () => {
    expect(affectedVersion(IP_UNFIXED, "latest")).toEqual({ affected: false, fixedVersion: null });
    const listed = affectedOf({
      package: { ecosystem: "npm", name: "ip" },
      ranges: [semverRange({ introduced: "0" })],
      versions: ["1.0"],
    });
    expect(affectedVersion(listed, "1.0")).toEqual({ affected: true, fixedVersion: null });
  });

  it("orders an event version its scheme cannot parse after every valid one", () => {
    const entry = affectedOf({
      package: { ecosystem: "Alpine:v3.18", name: "busybox" },
      ranges: [ecosystemRange({ introduced: "0" }, { fixed: "1.36.1-r2 (security)" })],
    });
    expect(affectedVersion(entry, "1.36.1-r9")).toEqual({ affected: true, fixedVersion: "1.36.1-r2 (security)" });
  });
});

describe("packageMatches", () => {
  it("matches a release-scoped ecosystem exactly, and an unscoped one to every release", () => {
    expect(packageMatches(OPENSSH, "Debian:12", "openssh")).toBe(true);
    expect(packageMatches(OPENSSH, "Debian:11", "openssh")).toBe(false);
    expect(packageMatches(OPENSSH, "Debian", "openssh")).toBe(false);
    const unscoped = affectedOf({ package: { ecosystem: "Debian", name: "openssh" } });
    expect(packageMatches(unscoped, "Debian:11", "openssh")).toBe(true);
    expect(packageMatches(unscoped, "Ubuntu:22.04", "openssh")).toBe(false);
    expect(packageMatches(OPENSSH, "Debian:12", "openssh-server")).toBe(false);
  });

  it("matches Ubuntu releases with or without :LTS, and Pro only to Pro", () => {
    const lts = affectedOf({ package: { ecosystem: "Ubuntu:22.04:LTS", name: "openssl" } });
    expect(packageMatches(lts, "Ubuntu:22.04", "openssl")).toBe(true);
    expect(packageMatches(lts, "Ubuntu:22.04:LTS", "openssl")).toBe(true);
    expect(packageMatches(lts, "Ubuntu:24.04", "openssl")).toBe(false);
    const pro = affectedOf({ package: { ecosystem: "Ubuntu:Pro:18.04:LTS", name: "openssl" } });
    expect(packageMatches(pro, "Ubuntu:18.04", "openssl")).toBe(false);
    expect(packageMatches(pro, "Ubuntu:Pro:18.04", "openssl")).toBe(true);
  });

  it("matches Alpine branches with or without the v", () => {
    expect(packageMatches(ALPINE_OPENSSL, "Alpine:v3.19", "openssl")).toBe(true);
    expect(packageMatches(ALPINE_OPENSSL, "Alpine:3.19", "openssl")).toBe(true);
    expect(packageMatches(ALPINE_OPENSSL, "Alpine:v3.18", "openssl")).toBe(false);
  });

  it("compares names as each ecosystem does", () => {
    expect(packageMatches(IP_UNFIXED, "npm", "ip")).toBe(true);
    expect(packageMatches(IP_UNFIXED, "npm", "IP")).toBe(false);
    expect(packageMatches(IP_UNFIXED, "PyPI", "ip")).toBe(false);
    expect(packageMatches(DJANGO, "PyPI", "Django")).toBe(true);
    const typing = affectedOf({ package: { ecosystem: "PyPI", name: "typing-extensions" } });
    expect(packageMatches(typing, "PyPI", "Typing_Extensions")).toBe(true);
    expect(packageMatches(typing, "PyPI", "typing.._extensions")).toBe(true);
    expect(packageMatches(typing, "PyPI", "typingextensions")).toBe(false);
    expect(packageMatches(LOG4J, "Maven", "org.apache.logging.log4j:log4j-core")).toBe(true);
    expect(packageMatches(LOG4J, "Maven", "org.apache.logging.log4j:log4j-api")).toBe(false);
    expect(packageMatches(X_NET, "Go", "golang.org/x/net")).toBe(true);
  });

  it("ignores the repository suffix of Maven ecosystems", () => {
    const google = affectedOf({
      package: { ecosystem: "Maven:https://maven.google.com", name: "androidx.webkit:webkit" },
    });
    expect(packageMatches(google, "Maven", "androidx.webkit:webkit")).toBe(true);
  });

  it("never matches an entry without a package", () => {
    const git = affectedOf({
      ranges: [{ type: "GIT", repo: "https://github.com/madler/zlib", events: [{ introduced: "0" }] }],
    });
    expect(packageMatches(git, "Debian:12", "zlib")).toBe(false);
  });
});
