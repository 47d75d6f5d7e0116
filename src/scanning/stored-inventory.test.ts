import { describe, expect, it } from "vitest";
import { parseImageInventory, parseLayerInventory } from "./stored-inventory";

const pkg = { ecosystem: "npm", name: "lodash", version: "4.17.20", path: "/app/node_modules/lodash/package.json" };
const os = { id: "debian", versionId: "12", versionCodename: "bookworm", prettyName: null };

describe("stored inventories", () => {
  it("read back what was written", () => {
    const layer = {
      files: [
        { path: "etc/os-release", os, packages: [] },
        { path: "a", packages: [pkg] },
      ],
      whiteouts: { deleted: ["x"], opaque: [] },
    };
    expect(parseLayerInventory(JSON.stringify(layer))).toEqual(layer);
    const image = { os, packages: [{ ...pkg, binaryName: "lodash-bin" }], unsupported: null };
    expect(parseImageInventory(JSON.stringify(image))).toEqual(image);
    expect(parseImageInventory(JSON.stringify({ os: null, packages: [] }))).toEqual({
      os: null,
      packages: [],
      unsupported: null,
    });
  });
  it("refuse what does not have the shape", () => {
    expect(parseLayerInventory("{")).toBeNull();
    expect(
      parseLayerInventory(
        JSON.stringify({
          files: [{ path: "a", packages: [{ ...pkg, ecosystem: "Cargo" }] }],
          whiteouts: { deleted: [], opaque: [] },
        }),
      ),
    ).toBeNull();
    expect(parseLayerInventory(JSON.stringify({ files: [], whiteouts: {} }))).toBeNull();
    expect(parseImageInventory(JSON.stringify({ os: { id: 7 }, packages: [] }))).toBeNull();
    expect(parseImageInventory(JSON.stringify({ os: null, packages: "none" }))).toBeNull();
  });
});
