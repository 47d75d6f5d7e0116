import { describe, expect, it } from "vitest";
import type { InstalledPackage } from "./inventory/types";
import { matchingEcosystem, mergeLayers, type LayerInventory } from "./merge";

const npm = (name: string, version: string, path: string): InstalledPackage => ({
  ecosystem: "npm",
  name,
  version,
  path,
});
const layer = (files: LayerInventory["files"], deleted: string[] = [], opaque: string[] = []): LayerInventory => ({
  files,
  whiteouts: { deleted, opaque },
});

describe("mergeLayers", () => {
  it("keeps the upper layer's file at a path, and drops what a whiteout deletes", () => {
    const merged = mergeLayers([
      layer([
        {
          path: "app/node_modules/lodash/package.json",
          packages: [npm("lodash", "4.17.20", "/app/node_modules/lodash/package.json")],
        },
        {
          path: "app/node_modules/ms/package.json",
          packages: [npm("ms", "2.0.0", "/app/node_modules/ms/package.json")],
        },
      ]),
      layer(
        [
          {
            path: "app/node_modules/ms/package.json",
            packages: [npm("ms", "2.1.3", "/app/node_modules/ms/package.json")],
          },
        ],
        ["app/node_modules/lodash"],
      ),
    ]);
    expect(merged.packages.map((pkg) => `${pkg.name}@${pkg.version}`)).toEqual(["ms@2.1.3"]);
  });

  it("hides a directory's lower contents behind an opaque marker, keeping the marker layer's own files", () => {
    const merged = mergeLayers([
      layer([{ path: "srv/a/package.json", packages: [npm("a", "1.0.0", "/srv/a/package.json")] }]),
      layer([{ path: "srv/b/package.json", packages: [npm("b", "1.0.0", "/srv/b/package.json")] }], [], ["srv"]),
    ]);
    expect(merged.packages.map((pkg) => pkg.name)).toEqual(["b"]);
  });

  it("reads the OS from etc/os-release before usr/lib/os-release, and files Debian packages of Ubuntu under Ubuntu", () => {
    const debianPackage: InstalledPackage = {
      ecosystem: "Debian",
      name: "openssl",
      version: "3.0.2-0ubuntu1.10",
      path: "/var/lib/dpkg/status",
    };
    const merged = mergeLayers([
      layer([
        {
          path: "usr/lib/os-release",
          os: { id: "debian", versionId: "12", versionCodename: null, prettyName: null },
          packages: [],
        },
        {
          path: "etc/os-release",
          os: { id: "ubuntu", versionId: "22.04", versionCodename: "jammy", prettyName: null },
          packages: [],
        },
        { path: "var/lib/dpkg/status", packages: [debianPackage] },
      ]),
    ]);
    expect(merged.os?.id).toBe("ubuntu");
    expect(merged.packages).toEqual([{ ...debianPackage, ecosystem: "Ubuntu" }]);
  });
});

describe("unreadable package databases", () => {
  it("make the image unsupported while they survive the merge", () => {
    const rpm = { path: "var/lib/rpm/rpmdb.sqlite", packages: [], unreadable: "RPM databases are not read" };
    expect(mergeLayers([layer([rpm])]).unsupported).toBe("RPM databases are not read");
    expect(mergeLayers([layer([rpm]), layer([], ["var/lib/rpm"])]).unsupported).toBeNull();
  });
});

describe("matchingEcosystem", () => {
  const os = (id: string, versionId: string) => ({ id, versionId, versionCodename: null, prettyName: null });
  it("names the distribution release for OS packages", () => {
    const pkg = (ecosystem: InstalledPackage["ecosystem"]): InstalledPackage => ({
      ecosystem,
      name: "x",
      version: "1",
      path: "/",
    });
    expect(matchingEcosystem(pkg("Debian"), os("debian", "12"))).toBe("Debian:12");
    expect(matchingEcosystem(pkg("Ubuntu"), os("ubuntu", "22.04"))).toBe("Ubuntu:22.04");
    expect(matchingEcosystem(pkg("Alpine"), os("alpine", "3.19.1"))).toBe("Alpine:v3.19");
    expect(matchingEcosystem(pkg("npm"), os("alpine", "3.19.1"))).toBe("npm");
    expect(matchingEcosystem(pkg("Debian"), null)).toBe("Debian");
  });
});
