import { describe, expect, it } from "vitest";
import { absolutePath, GO_BINARY_MAX_SIZE, interestOf, normalizePath, WHOLE_FILE_CAPS } from "./paths";

const file = (size = 100, mode = 0o644) => ({ size, mode, type: "file" as const });

describe("normalizePath", () => {
  it("strips leading ./ and / however the tar writer spelled them", () => {
    expect(normalizePath("./etc/os-release")).toBe("etc/os-release");
    expect(normalizePath("/etc/os-release")).toBe("etc/os-release");
    expect(normalizePath(".//./etc/os-release")).toBe("etc/os-release");
    expect(absolutePath("./var/lib/dpkg/status")).toBe("/var/lib/dpkg/status");
  });
});

describe("interestOf", () => {
  it("finds the OS and package databases", () => {
    expect(interestOf("./etc/os-release", file())).toBe("os-release");
    expect(interestOf("usr/lib/os-release", file())).toBe("os-release");
    expect(interestOf("/var/lib/dpkg/status", file())).toBe("dpkg-status");
    expect(interestOf("var/lib/dpkg/status-old", file())).toBeNull();
    expect(interestOf("lib/apk/db/installed", file())).toBe("apk-installed");
  });
  it("takes distroless status.d stanza files but not their md5sums", () => {
    expect(interestOf("var/lib/dpkg/status.d/libssl3", file())).toBe("dpkg-status-d");
    expect(interestOf("var/lib/dpkg/status.d/libssl3.md5sums", file())).toBeNull();
    expect(interestOf("var/lib/dpkg/status.d/sub/x", file())).toBeNull();
  });
  it("skips links and directories, and whole files above their cap", () => {
    expect(interestOf("etc/os-release", { size: 100, mode: 0o777, type: "other" })).toBeNull();
    expect(interestOf("var/lib/dpkg/status", file(WHOLE_FILE_CAPS["dpkg-status"]))).toBe("dpkg-status");
    expect(interestOf("var/lib/dpkg/status", file(WHOLE_FILE_CAPS["dpkg-status"] + 1))).toBeNull();
    expect(interestOf("app/huge.jar", file(WHOLE_FILE_CAPS.jar + 1))).toBeNull();
  });
  it("takes lockfiles outside node_modules only", () => {
    expect(interestOf("app/package-lock.json", file())).toBe("npm-lockfile");
    expect(interestOf("package-lock.json", file())).toBe("npm-lockfile");
    expect(interestOf("app/node_modules/x/package-lock.json", file())).toBeNull();
  });
  it("takes an installed package's own package.json, not one deeper inside it", () => {
    expect(interestOf("app/node_modules/express/package.json", file())).toBe("npm-package-json");
    expect(interestOf("app/node_modules/@babel/core/package.json", file())).toBe("npm-package-json");
    expect(interestOf("app/node_modules/a/node_modules/b/package.json", file())).toBe("npm-package-json");
    expect(interestOf("app/node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/package.json", file())).toBe(
      "npm-package-json",
    );
    expect(interestOf("app/node_modules/resolve/test/fixtures/package.json", file())).toBeNull();
    expect(interestOf("app/node_modules/@babel/package.json", file())).toBeNull();
    expect(interestOf("app/node_modules/.bin/package.json", file())).toBeNull();
    expect(interestOf("app/package.json", file())).toBeNull();
  });
  it("takes Python metadata and Java archives", () => {
    expect(interestOf("usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA", file())).toBe(
      "pypi-metadata",
    );
    expect(interestOf("usr/lib/python3/site-packages/six-1.16.0.egg-info/PKG-INFO", file())).toBe("pypi-metadata");
    expect(interestOf("usr/lib/python3/site-packages/METADATA", file())).toBeNull();
    expect(interestOf("app/app.jar", file(5000, 0o755))).toBe("jar");
    expect(interestOf("opt/tomcat/webapps/ROOT.WAR", file())).toBe("jar");
    expect(interestOf("srv/app.ear", file())).toBe("jar");
  });
  it("takes executables of a plausible size as Go binary candidates", () => {
    expect(interestOf("usr/local/bin/app", file(5_000_000, 0o755))).toBe("go-binary-candidate");
    expect(interestOf("usr/local/bin/app", file(5_000_000, 0o100))).toBe("go-binary-candidate");
    expect(interestOf("usr/local/bin/app", file(5_000_000, 0o644))).toBeNull();
    expect(interestOf("usr/local/bin/tiny.sh", file(200, 0o755))).toBeNull();
    expect(interestOf("usr/local/bin/app", file(GO_BINARY_MAX_SIZE + 1, 0o755))).toBeNull();
    expect(interestOf("proc/1/exe", file(5_000_000, 0o755))).toBeNull();
    expect(interestOf("./sys/x", file(5_000_000, 0o755))).toBeNull();
  });
});
