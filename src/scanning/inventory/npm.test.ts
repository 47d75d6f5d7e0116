import { describe, expect, it } from "vitest";
import { parsePackageJson, parsePackageLock } from "./npm";

const PATH = "/app/package-lock.json";

// A lockfileVersion 3 excerpt as npm 10 writes it.
const LOCK_V3 = JSON.stringify({
  name: "web",
  version: "1.0.0",
  lockfileVersion: 3,
  requires: true,
  packages: {
    "": { name: "web", version: "1.0.0", dependencies: { express: "^4.18.2" }, devDependencies: { jest: "^29" } },
    "node_modules/express": {
      version: "4.18.2",
      resolved: "https://registry.npmjs.org/express/-/express-4.18.2.tgz",
      integrity: "sha512-5/PsL6iGPdfQ/lKM1UuielYgv3BUoJfz1aUwU9vHZ+J7gyvwdQXFEBIEIaxeGf0GIcreATNyBExtalisDbuMqQ==",
    },
    "node_modules/@babel/code-frame": { version: "7.23.5", dev: true },
    "node_modules/body-parser/node_modules/debug": { version: "2.6.9" },
    "node_modules/debug": { version: "2.6.9" },
    "node_modules/string-width-cjs": { name: "string-width", version: "4.2.3" },
    "node_modules/@scope/pkg": { version: "1.0.0-beta.1", optional: true },
    "node_modules/my-lib": { resolved: "packages/my-lib", link: true },
    "packages/my-lib": { name: "my-lib", version: "0.0.1" },
    "node_modules/from-git": { version: "git+ssh://git@github.com/a/b.git#0123abc" },
    "node_modules/no-version": {},
  },
});

// A lockfileVersion 1 excerpt (npm 6).
const LOCK_V1 = JSON.stringify({
  name: "legacy",
  version: "1.0.0",
  lockfileVersion: 1,
  requires: true,
  dependencies: {
    lodash: { version: "4.17.20", resolved: "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz" },
    mocha: { version: "10.2.0", dev: true },
    "body-parser": {
      version: "1.19.0",
      requires: { debug: "2.6.9" },
      dependencies: { debug: { version: "2.6.9", dependencies: { ms: { version: "2.0.0" } } } },
    },
    debug: { version: "2.6.9" },
    "strip-ansi-cjs": { version: "npm:strip-ansi@6.0.1" },
    local: { version: "file:../local" },
  },
});

describe("parsePackageLock", () => {
  it("reads lockfile v3 packages: aliases by their real name, no root, links, workspaces or dev deps", () => {
    expect(parsePackageLock(LOCK_V3, PATH)).toEqual([
      { ecosystem: "npm", name: "express", version: "4.18.2", path: PATH },
      { ecosystem: "npm", name: "debug", version: "2.6.9", path: PATH },
      { ecosystem: "npm", name: "string-width", version: "4.2.3", path: PATH },
      { ecosystem: "npm", name: "@scope/pkg", version: "1.0.0-beta.1", path: PATH },
    ]);
  });
  it("reads the v1 dependency tree, nested levels too", () => {
    expect(parsePackageLock(LOCK_V1, PATH)).toEqual([
      { ecosystem: "npm", name: "lodash", version: "4.17.20", path: PATH },
      { ecosystem: "npm", name: "body-parser", version: "1.19.0", path: PATH },
      { ecosystem: "npm", name: "debug", version: "2.6.9", path: PATH },
      { ecosystem: "npm", name: "strip-ansi", version: "6.0.1", path: PATH },
      { ecosystem: "npm", name: "ms", version: "2.0.0", path: PATH },
    ]);
  });
  it("never throws on junk", () => {
    expect(parsePackageLock("{not json", PATH)).toEqual([]);
    expect(parsePackageLock("[1,2]", PATH)).toEqual([]);
    expect(parsePackageLock('{"packages": {"node_modules/x": 3}, "dependencies": []}', PATH)).toEqual([]);
    expect(parsePackageLock('{"dependencies": {"x": {"version": 1}}}', PATH)).toEqual([]);
  });
});

describe("parsePackageJson", () => {
  it("reads an installed package's name and version", () => {
    const path = "/app/node_modules/@babel/core/package.json";
    const text = JSON.stringify({ name: "@babel/core", version: "7.23.7", main: "./lib/index.js" });
    expect(parsePackageJson(text, path)).toEqual([{ ecosystem: "npm", name: "@babel/core", version: "7.23.7", path }]);
  });
  it("skips one without a name or version", () => {
    expect(parsePackageJson('{"name": "x"}', "/p")).toEqual([]);
    expect(parsePackageJson('{"version": "1.0.0"}', "/p")).toEqual([]);
    expect(parsePackageJson("\u0000", "/p")).toEqual([]);
  });
});
