import { describe, expect, it } from "vitest";
import {
  isDigestAlgorithm,
  isValidRepositoryName,
  isValidTag,
  looksLikeDigest,
  NAME_MAX_LENGTH,
  NAME_MIN_LENGTH,
  parseDigest,
} from "./grammar";

const HEX64 = "0123456789abcdef".repeat(4);
const HEX128 = "0123456789abcdef".repeat(8);

/** A name of exactly `length` characters made of valid components. */
function nameOfLength(length: number): string {
  // "ab/" repeated, then padded with letters so it never ends with "/".
  let name = "";
  while (name.length + 3 < length) name += "ab/";
  return name + "c".repeat(length - name.length);
}

describe("isValidRepositoryName", () => {
  it("has the ECR length limits", () => {
    expect(NAME_MIN_LENGTH).toBe(2);
    expect(NAME_MAX_LENGTH).toBe(256);
  });

  it.each([
    ["two lowercase letters", "ab"],
    ["two digits", "00"],
    ["digits only", "12345"],
    ["letter and digit", "a1"],
    ["common name", "library/ubuntu"],
    ["dash in component", "team-a/web"],
    ["three levels", "team-a/web/api"],
    ["deep namespace", "a1/b2/c3/d4/e5/f6/g7/h8/i9/j0"],
    ["single-char components", "a/b"],
    ["single-char components, deep", "a/b/c/d/e/f"],
    ["period separator", "a.b"],
    ["periods between components", "my.registry.name/x.y"],
    ["single underscore", "a_b"],
    ["double underscore", "a__b"],
    ["double underscore in a namespace", "org__team/my__app"],
    ["two dashes", "a--b"],
    ["three dashes", "a---b"],
    ["many dashes", "a----------b"],
    ["mixed separators", "a.b_c__d-e--f"],
    ["separators in every component", "x-y/z_w/v.u/t__s"],
    ["digit-led components", "0abc/1def"],
    ["numeric components", "2024/01/15"],
  ])("accepts %s: %s", (_label, name) => {
    expect(isValidRepositoryName(name)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["length 1", "a"],
    ["length 1 digit", "7"],
    ["uppercase", "Ubuntu"],
    ["uppercase in a later component", "library/Ubuntu"],
    ["all uppercase", "ABC"],
    ["leading period", ".ab"],
    ["trailing period", "ab."],
    ["leading underscore", "_ab"],
    ["trailing underscore", "ab_"],
    ["leading dash", "-ab"],
    ["trailing dash", "ab-"],
    ["leading separator in a later component", "ab/-cd"],
    ["trailing separator in an earlier component", "ab-/cd"],
    ["two periods", "a..b"],
    ["three periods", "a...b"],
    ["three underscores", "a___b"],
    ["four underscores", "a____b"],
    ["period then dash", "a.-b"],
    ["dash then period", "a-.b"],
    ["underscore then dash", "a_-b"],
    ["period then underscore", "a._b"],
    ["empty component", "a//b"],
    ["empty component in a deep name", "a/b//c"],
    ["leading slash", "/ab"],
    ["trailing slash", "ab/"],
    ["trailing slash after namespace", "team/web/"],
    ["only a slash", "//"],
    ["space", "a b"],
    ["leading space", " ab"],
    ["trailing space", "ab "],
    ["trailing newline", "ab\n"],
    ["tab", "a\tb"],
    ["colon", "ab:latest"],
    ["at sign", "ab@sha256"],
    ["plus", "a+b"],
    ["tilde", "a~b"],
    ["backslash", "a\\b"],
    ["percent-encoded slash", "a%2Fb"],
    ["dot component", "a/./b"],
    ["dot-dot component", "a/../b"],
    ["accented letter", "café"],
    ["Cyrillic lookalike", "аb"],
    ["CJK", "日本"],
    ["emoji", "ab🙂"],
    ["fullwidth digit", "a１"],
    ["NUL byte", "a\u0000b"],
  ])("rejects %s: %j", (_label, name) => {
    expect(isValidRepositoryName(name)).toBe(false);
  });

  it.each([
    [2, true],
    [3, true],
    [100, true],
    [255, true],
    [256, true],
    [257, false],
    [300, false],
    [1000, false],
  ])("a name of length %i: %s", (length, valid) => {
    const name = nameOfLength(length);
    expect(name).toHaveLength(length);
    expect(isValidRepositoryName(name)).toBe(valid);
  });

  it.each([
    [256, true],
    [257, false],
  ])("a single-component name of length %i: %s", (length, valid) => {
    expect(isValidRepositoryName("a".repeat(length))).toBe(valid);
  });
});

describe("isValidTag", () => {
  it.each([
    ["latest"],
    ["v1"],
    ["1"],
    ["A"],
    ["_"],
    ["_private"],
    ["v1.2.3"],
    ["1.0.0-rc.1"],
    ["v1.2.3-alpine3.19"],
    ["UPPER_lower-123.x"],
    ["a..b"],
    ["a--b"],
    ["a__b"],
    ["trailing."],
    ["trailing-"],
    ["sha256-" + HEX64],
    ["sha256-" + HEX64 + ".sig"],
    ["x".repeat(128)],
    ["_" + "-".repeat(127)],
    ["9" + ".".repeat(127)],
  ])("accepts %j", (tag) => {
    expect(isValidTag(tag)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["129 characters", "x".repeat(129)],
    ["much too long", "x".repeat(1000)],
    ["leading period", ".hidden"],
    ["leading dash", "-v1"],
    ["only a period", "."],
    ["only a dash", "-"],
    ["colon", "v1:2"],
    ["a digest", "sha256:" + HEX64],
    ["slash", "v1/2"],
    ["plus (semver build)", "1.0.0+build"],
    ["space", "v 1"],
    ["trailing newline", "v1\n"],
    ["at sign", "v1@x"],
    ["percent", "v%31"],
    ["accented letter", "versión"],
    ["emoji", "v1🙂"],
  ])("rejects %s: %j", (_label, tag) => {
    expect(isValidTag(tag)).toBe(false);
  });
});

describe("looksLikeDigest", () => {
  it.each([
    ["sha256:" + HEX64, true],
    ["sha384:abc", true],
    [":", true],
    ["latest", false],
    ["v1.2.3", false],
    ["", false],
  ])("%j → %s", (reference, expected) => {
    expect(looksLikeDigest(reference)).toBe(expected);
  });
});

describe("isDigestAlgorithm", () => {
  it.each([
    ["sha256", true],
    ["sha512", true],
    ["SHA256", false],
    ["sha384", false],
    ["blake3", false],
    ["", false],
  ])("%j → %s", (value, expected) => {
    expect(isDigestAlgorithm(value)).toBe(expected);
  });
});

describe("parseDigest", () => {
  it.each([
    ["sha256", HEX64],
    ["sha256", "0".repeat(64)],
    ["sha256", "f".repeat(64)],
    ["sha256", "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"],
    ["sha512", HEX128],
    ["sha512", "0".repeat(128)],
  ] as const)("parses %s:%s", (algorithm, hex) => {
    const digest = `${algorithm}:${hex}`;
    expect(parseDigest(digest)).toEqual({ algorithm, hex, digest });
  });

  it.each([
    ["empty", ""],
    ["only a colon", ":"],
    ["no colon", "sha256" + HEX64],
    ["hex only", HEX64],
    ["no algorithm", ":" + HEX64],
    ["no hex", "sha256:"],
    ["uppercase hex", "sha256:" + HEX64.toUpperCase()],
    ["one uppercase hex digit", "sha256:" + "A" + HEX64.slice(1)],
    ["uppercase algorithm", "SHA256:" + HEX64],
    ["sha256 with 63 hex", "sha256:" + HEX64.slice(1)],
    ["sha256 with 65 hex", "sha256:" + HEX64 + "0"],
    ["sha256 with 128 hex", "sha256:" + HEX128],
    ["sha512 with 64 hex", "sha512:" + HEX64],
    ["sha512 with 127 hex", "sha512:" + HEX128.slice(1)],
    ["sha512 with 129 hex", "sha512:" + HEX128 + "0"],
    ["non-hex letters", "sha256:" + "g".repeat(64)],
    ["sha384", "sha384:" + "0".repeat(96)],
    ["blake3", "blake3:" + HEX64],
    ["sha1", "sha1:" + "0".repeat(40)],
    ["md5", "md5:" + "0".repeat(32)],
    ["algorithm with a component", "sha256+b64:" + HEX64],
    ["two colons", "sha256:" + HEX64 + ":" + HEX64],
    ["colon inside the hex", "sha256:" + HEX64.slice(0, 32) + ":" + HEX64.slice(33)],
    ["leading space", " sha256:" + HEX64],
    ["trailing space", "sha256:" + HEX64 + " "],
    ["trailing newline", "sha256:" + HEX64 + "\n"],
    ["space after the colon", "sha256: " + HEX64.slice(1)],
    ["percent-encoded colon", "sha256%3A" + HEX64],
    ["a tag", "latest"],
    ["fullwidth hex digits", "sha256:" + "０".repeat(64)],
  ])("rejects %s", (_label, value) => {
    expect(parseDigest(value)).toBeNull();
  });
});
