import { describe, expect, it } from "vitest";
import { matchesEvent, parseEventPattern, type EventPattern } from "./pattern";

function compile(value: unknown): EventPattern {
  const result = parseEventPattern(value);
  if (!result.ok) throw new Error(result.message);
  return result.pattern;
}

function rejection(value: unknown): string {
  const result = parseEventPattern(value);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(value)}`);
  return result.message;
}

/** Stands for "the event has no such field". */
const ABSENT = Symbol("absent");

/**
 * Checks `{"detail": {"field": values}}` against events whose `detail.field` is each value of
 * `match` (which must match) and of `miss` (which must not).
 */
function expectLeaf(values: unknown[], match: unknown[], miss: unknown[] = []): void {
  const pattern = compile({ detail: { field: values } });
  for (const [value, expected] of [...match.map((v) => [v, true] as const), ...miss.map((v) => [v, false] as const)]) {
    const detail = value === ABSENT ? {} : { field: value };
    const label = `${JSON.stringify(values)} against ${value === ABSENT ? "a missing field" : JSON.stringify(value)}`;
    expect(matchesEvent(pattern, { detail }), label).toBe(expected);
  }
}

/** Checks that each pattern is refused with the message given (exactly, or by a RegExp). */
function expectRejected(cases: [unknown, string | RegExp][]): void {
  for (const [pattern, message] of cases) {
    if (typeof message === "string") expect(rejection(pattern)).toBe(message);
    else expect(rejection(pattern)).toMatch(message);
  }
}

function imageAction(detail: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) {
  return {
    version: "0",
    id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "detail-type": "ECR Image Action",
    source: "aws.ecr",
    account: "000000000000",
    time: "2026-12-04T01:54:34Z",
    region: "us-east-1",
    resources: ["arn:aws:ecr:us-east-1:000000000000:repository/team-a/web"],
    detail: {
      result: "SUCCESS",
      "repository-name": "team-a/web",
      "image-digest": `sha256:${"0a".repeat(32)}`,
      "action-type": "PUSH",
      "image-tag": "latest",
      ...detail,
    },
    ...envelope,
  };
}

describe("matchesEvent with realistic registry patterns", () => {
  const pushes = compile({
    source: ["aws.ecr"],
    "detail-type": ["ECR Image Action"],
    detail: { "action-type": ["PUSH"], "repository-name": [{ prefix: "team-a/" }] },
  });

  it("matches a push to a team-a repository, and needs every field (AND)", () => {
    const events = [
      imageAction(),
      imageAction({ "action-type": "DELETE" }),
      imageAction({ "repository-name": "team-b/web" }),
      imageAction({}, { source: "aws.s3" }),
      imageAction({}, { "detail-type": "ECR Image Scan" }),
    ];
    expect(events.map((event) => matchesEvent(pushes, event))).toEqual([true, false, false, false, false]);
  });

  it("matches scans with critical findings through nested detail objects", () => {
    const critical = compile({
      "detail-type": ["ECR Image Scan"],
      detail: { "finding-severity-counts": { CRITICAL: [{ numeric: [">", 0] }] } },
    });
    const scan = (counts: unknown) =>
      imageAction({ "finding-severity-counts": counts }, { "detail-type": "ECR Image Scan" });
    const counts = [{ CRITICAL: 2, HIGH: 1 }, { CRITICAL: 0 }, { HIGH: 4 }, undefined];
    expect(counts.map((c) => matchesEvent(critical, scan(c)))).toEqual([true, false, false, false]);
  });

  it("matches the resources array when any element matches", () => {
    const byArn = compile({ resources: [{ suffix: ":repository/team-a/web" }] });
    expect(matchesEvent(byArn, imageAction())).toBe(true);
    expect(matchesEvent(byArn, imageAction({}, { resources: ["arn:a", "arn:x:repository/team-a/web"] }))).toBe(true);
    expect(matchesEvent(byArn, imageAction({}, { resources: [] }))).toBe(false);
  });

  it("never matches a non-object event", () => {
    for (const event of [null, "aws.ecr", [imageAction()]]) expect(matchesEvent(pushes, event)).toBe(false);
  });
});

describe("exact values", () => {
  it("ORs the values of one leaf and matches strings exactly, case included", () => {
    expectLeaf(["PUSH", "DELETE"], ["DELETE"], ["PULL", "push", "PUSH "]);
    expectLeaf([""], [""], [ABSENT]);
  });

  it("compares numbers numerically and never against strings", () => {
    expect(matchesEvent(compile({ n: [5] }), JSON.parse('{"n": 5.0}'))).toBe(true);
    expectLeaf([5], [5], ["5", 5.5]);
    expectLeaf(["5"], [], [5]);
    expectLeaf([3.0e2], [300]);
  });

  it("matches booleans and null by type", () => {
    expectLeaf([true], [true], ["true", false]);
    expectLeaf([null], [null], [ABSENT, "null"]);
  });

  it("does not match a field whose event value is an object", () => {
    expectLeaf(["x"], [], [{ x: "x" }]);
    expectLeaf([{ exists: true }], [], [{ x: "x" }]);
  });

  it("matches an event array when any element matches, flattening nested arrays", () => {
    expectLeaf(["b"], [["a", "b"]], [["a", "c"]]);
    expectLeaf([2], [[1, [2, 3]]]);
  });

  it("ignores inherited properties of the event", () => {
    expect(matchesEvent(compile({ constructor: [{ exists: true }] }), {})).toBe(false);
    expect(matchesEvent(compile({ toString: [{ exists: false }] }), {})).toBe(true);
  });
});

describe("string operators", () => {
  it("prefix, and prefix ignoring case", () => {
    expectLeaf([{ prefix: "team-a/" }], ["team-a/web"], ["TEAM-A/web", 7, ABSENT]);
    expectLeaf([{ prefix: { "equals-ignore-case": "Team-A/" } }], ["TEAM-a/web"], ["team-b/web"]);
  });

  it("suffix, and suffix ignoring case", () => {
    expectLeaf([{ suffix: "-rc" }], ["1.2.0-rc"], ["1.2.0-RC"]);
    expectLeaf([{ suffix: { "equals-ignore-case": "-rc" } }], ["1.2.0-RC"], ["1.2.0"]);
  });

  it("equals-ignore-case", () => {
    expectLeaf([{ "equals-ignore-case": "push" }], ["PUSH", "Push"], ["PUSHED"]);
    expectLeaf([{ "equals-ignore-case": "5" }], [], [5]);
  });

  it("wildcard: a star is any run of characters, including none", () => {
    expectLeaf([{ wildcard: "team-*/web" }], ["team-a/web", "team-/web"], ["team-a/api"]);
    expectLeaf([{ wildcard: "*" }], ["", "anything"], [1]);
    expectLeaf([{ wildcard: "*/lib/*" }], ["src/lib/x.ts"], ["src/lib"]);
    expectLeaf([{ wildcard: "a*b*c" }], ["abc", "aXbYc"], ["ab", "acb"]);
    expectLeaf([{ wildcard: "a*a" }], ["aa"], ["a"]);
    expectLeaf([{ wildcard: "a*b*b" }], ["abb"], ["ab"]);
    expectLeaf([{ wildcard: "exact" }], ["exact"], ["exactly"]);
  });

  it("wildcard: escaped stars and backslashes are literal", () => {
    expectLeaf([{ wildcard: "a\\*b" }], ["a*b"], ["axb"]);
    expectLeaf([{ wildcard: "a\\\\*" }], ["a\\anything"], ["anything"]);
  });
});

describe("anything-but", () => {
  it("excludes one string or number, or a list of them", () => {
    expectLeaf([{ "anything-but": "DELETE" }], ["PUSH"], ["DELETE"]);
    expectLeaf([{ "anything-but": 0 }], [3], [0]);
    expectLeaf([{ "anything-but": ["stopped", "overloaded"] }], ["running"], ["stopped"]);
    expectLeaf([{ "anything-but": [100, 200] }], [201], [200]);
  });

  it("does not match a missing field, but does match a value of another type", () => {
    expectLeaf([{ "anything-but": "DELETE" }], [null], [ABSENT, { nested: "x" }]);
    expectLeaf([{ "anything-but": "5" }], [5]);
  });

  it("matches an event array when some element is not excluded", () => {
    expectLeaf([{ "anything-but": "latest" }], [["latest", "v1"]], [["latest"]]);
  });

  it("excludes by prefix, suffix, ignore-case and wildcard", () => {
    expectLeaf([{ "anything-but": { prefix: "us-" } }], ["eu-west-1"], ["us-east-1"]);
    expectLeaf([{ "anything-but": { suffix: ".png" } }], ["a.jpg"], ["a.png"]);
    const list = { "equals-ignore-case": ["initializing", "stopped"] };
    expectLeaf([{ "anything-but": list }], ["running"], ["INITIALIZING"]);
    expectLeaf([{ "anything-but": { "equals-ignore-case": "x" } }], ["y"], ["X"]);
    expectLeaf([{ "anything-but": { wildcard: "*/lib/*" } }], ["src/bin/a"], ["src/lib/a"]);
  });
});

describe("exists", () => {
  it("exists: true matches any present leaf, null included", () => {
    expectLeaf([{ exists: true }], ["latest", null, 0], [ABSENT]);
  });

  it("exists: false matches only a missing field, not one present even as null", () => {
    expectLeaf([{ exists: false }], [ABSENT], ["latest", null, ["a"]]);
  });

  it("exists: false on a nested field matches when the parent object is missing too", () => {
    const untagged = compile({ detail: { "image-tag": [{ exists: false }] } });
    expect(matchesEvent(untagged, { source: "aws.ecr" })).toBe(true);
    expect(matchesEvent(untagged, imageAction())).toBe(false);
    const { "image-tag": _tag, ...withoutTag } = imageAction().detail;
    expect(matchesEvent(untagged, { ...imageAction(), detail: withoutTag })).toBe(true);
  });

  it("looks at leaves only, as EventBridge does: an object or empty array is not a present leaf", () => {
    expectLeaf([{ exists: false }], [{ c1: 100 }, []]);
    expectLeaf([{ exists: true }], [], [[], [{ c1: 100 }]]);
  });

  it("combines with other values in the same leaf (OR)", () => {
    expectLeaf([{ exists: false }, "latest"], [ABSENT, "latest"], ["v1"]);
  });
});

describe("numeric", () => {
  it("single comparisons", () => {
    expectLeaf([{ numeric: ["=", 5] }], [5], [5.5]);
    expectLeaf([{ numeric: ["<", 10] }], [9.99], [10]);
    expectLeaf([{ numeric: ["<=", 10] }], [10], [10.01]);
    expectLeaf([{ numeric: [">", 0] }], [1e-6], [0]);
    expectLeaf([{ numeric: [">=", -1.5] }], [-1.5], [-2]);
  });

  it("ranges, with open and closed bounds", () => {
    expectLeaf([{ numeric: [">", 0, "<=", 5] }], [0.1, 5], [0, 5.01]);
    expectLeaf([{ numeric: [">=", 1, "<", 2] }], [1, 1.5], [2]);
  });

  it("matches numbers only, and any element of an array", () => {
    expectLeaf([{ numeric: [">", 0] }], [], ["3", true, ABSENT]);
    expectLeaf([{ numeric: [">", 10] }], [[1, 2, 30]], [[1, 2, 3]]);
  });
});

describe("cidr", () => {
  it("matches IPv4 addresses inside the block", () => {
    expectLeaf([{ cidr: "10.0.0.0/24" }], ["10.0.0.33"], ["10.0.1.33", "no", "10.0.0.256"]);
    expectLeaf([{ cidr: "10.1.2.3/8" }], ["10.200.0.1"]);
    expectLeaf([{ cidr: "192.168.1.1/32" }], ["192.168.1.1"], ["192.168.1.2"]);
    expectLeaf([{ cidr: "0.0.0.0/0" }], ["8.8.8.8"], [8]);
  });

  it("matches IPv6 addresses inside the block, and never across families", () => {
    expectLeaf([{ cidr: "2001:db8::/32" }], ["2001:db8:0:0:1::7", "2001:DB8::1"], ["2001:db9::1", "10.0.0.1"]);
    expectLeaf([{ cidr: "::ffff:10.0.0.0/120" }], ["::ffff:10.0.0.9"], ["10.0.0.9"]);
    expectLeaf([{ cidr: "10.0.0.0/8" }], [], ["::ffff:10.0.0.9"]);
  });
});

describe("$or", () => {
  it("matches when any alternative matches, ANDed with the fields beside it", () => {
    const pushOrCritical = compile({
      source: ["aws.ecr"],
      $or: [
        { "detail-type": ["ECR Image Action"], detail: { "action-type": ["PUSH"] } },
        { detail: { "finding-severity-counts": { CRITICAL: [{ numeric: [">", 0] }] } } },
      ],
    });
    expect(matchesEvent(pushOrCritical, imageAction())).toBe(true);
    const scan = imageAction({ "finding-severity-counts": { CRITICAL: 1 } }, { "detail-type": "ECR Image Scan" });
    expect(matchesEvent(pushOrCritical, scan)).toBe(true);
    expect(matchesEvent(pushOrCritical, imageAction({ "action-type": "DELETE" }))).toBe(false);
    expect(matchesEvent(pushOrCritical, { ...imageAction(), source: "aws.s3" })).toBe(false);
  });

  it("works inside a nested object", () => {
    const nested = compile({
      detail: { $or: [{ "image-tag": [{ prefix: "v" }] }, { "image-tag": ["latest"] }], result: ["SUCCESS"] },
    });
    const details = [{ "image-tag": "v1.2" }, { "image-tag": "latest" }, { "image-tag": "dev" }, { result: "FAILURE" }];
    expect(details.map((d) => matchesEvent(nested, imageAction(d)))).toEqual([true, true, false, false]);
  });
});

describe("nested patterns over arrays of objects", () => {
  const pattern = compile({ detail: { layers: { media: ["gzip"], size: [{ numeric: [">", 100] }] } } });
  const layers = (...list: [string, number][]) => ({
    detail: { layers: list.map(([media, size]) => ({ media, size })) },
  });

  it("matches when one element satisfies the whole nested pattern, never mixing elements", () => {
    expect(matchesEvent(pattern, layers(["gzip", 10], ["zstd", 500], ["gzip", 500]))).toBe(true);
    expect(matchesEvent(pattern, layers(["gzip", 10], ["zstd", 500]))).toBe(false);
  });

  it("treats a leaf where an object is expected as an absent object", () => {
    expect(matchesEvent(pattern, { detail: { layers: "gzip" } })).toBe(false);
    expect(matchesEvent(compile({ detail: { layers: { media: [{ exists: false }] } } }), { detail: "x" })).toBe(true);
  });
});

describe("parseEventPattern", () => {
  it("accepts every documented operator", () => {
    const result = parseEventPattern({
      source: ["aws.ecr", 1, true, null, { prefix: "aws." }, { suffix: { "equals-ignore-case": ".ECR" } }],
      detail: {
        a: [{ "equals-ignore-case": "x" }, { wildcard: "a*b\\*c\\\\" }, { exists: true }, { cidr: "fe80::/10" }],
        b: [{ "anything-but": { wildcard: ["*x*", "y*"] } }, { "anything-but": { "equals-ignore-case": "z" } }],
        c: [{ numeric: ["=", 3.018e2] }, { numeric: [">=", 0, "<", 1] }, { numeric: ["<=", -5] }],
      },
    });
    expect(result).toMatchObject({ ok: true });
  });

  it("rejects patterns that are not non-empty objects, and leaves that are not non-empty arrays", () => {
    expectRejected([
      [null, "pattern: must be a JSON object"],
      [[{ source: ["aws.ecr"] }], "pattern: must be a JSON object"],
      ['{"source":["aws.ecr"]}', "pattern: must be a JSON object"],
      [{}, "pattern: must not be an empty object"],
      [{ detail: {} }, "detail: must not be an empty object"],
      [{ detail: { "image-tag": [] } }, "detail.image-tag: must not be an empty array"],
      [{ detail: { "image-tag": "latest" } }, /^detail\.image-tag: must be an array of match values or a nested/],
      [{ detail: { "image-tag": null } }, /^detail\.image-tag: must be an array/],
      [{ detail: { "image-tag": [["latest"]] } }, /^detail\.image-tag: a match value must be/],
    ]);
  });

  it("rejects unknown operators and operator objects with other than one key", () => {
    expectRejected([
      [{ detail: { "image-tag": [{ contains: "x" }] } }, 'detail.image-tag: unknown operator "contains"'],
      [{ source: [{ prefix: "a", suffix: "b" }] }, "source: an operator object must have exactly one key, not 2"],
      [{ source: [{}] }, "source: an operator object must have exactly one key, not 0"],
    ]);
  });

  it("rejects malformed operands", () => {
    const f = (value: unknown) => ({ detail: { f: [value] } });
    expectRejected([
      [f({ prefix: 1 }), "detail.f: prefix needs a string"],
      [f({ prefix: { "equals-ignore-case": 1 } }), "detail.f: prefix equals-ignore-case needs a string"],
      [f({ prefix: { other: "x" } }), /^detail\.f: prefix needs a string or/],
      [f({ suffix: null }), "detail.f: suffix needs a string"],
      [f({ "equals-ignore-case": ["x"] }), "detail.f: equals-ignore-case needs a string"],
      [f({ exists: "yes" }), "detail.f: exists must be true or false"],
      [f({ cidr: "10.0.0.0" }), /^detail\.f: cidr needs an address block/],
      [f({ cidr: "10.0.0.0/33" }), "detail.f: cidr prefix length must be at most 32"],
      [f({ cidr: "2001:db8::/129" }), "detail.f: cidr prefix length must be at most 128"],
      [f({ cidr: "300.0.0.0/8" }), /^detail\.f: cidr needs/],
      [f({ cidr: "1:2:3:4:5:6:7:8:9/64" }), /^detail\.f: cidr needs/],
      [f({ wildcard: "a**b" }), "detail.f: wildcard has consecutive wildcard characters at position 1"],
      [f({ wildcard: "a\\b" }), "detail.f: wildcard has an invalid escape at position 1"],
      [f({ wildcard: "trailing\\" }), /invalid escape/],
      [f({ wildcard: 5 }), "detail.f: wildcard needs a string"],
    ]);
  });

  it("rejects malformed anything-but", () => {
    const f = (operand: unknown) => ({ detail: { state: [{ "anything-but": operand }] } });
    expectRejected([
      [f(["a", 1]), /^detail\.state: an anything-but list must be non-empty and hold only strings or only numbers/],
      [f([]), /^detail\.state: an anything-but list must be non-empty/],
      [f([null]), /only strings or only numbers/],
      [f(true), /^detail\.state: anything-but needs/],
      [f(null), /^detail\.state: anything-but needs/],
      [f({ prefix: "" }), "detail.state: anything-but prefix needs a non-empty string"],
      [f({ suffix: 3 }), "detail.state: anything-but suffix needs a string"],
      [f({ numeric: [">", 1] }), 'detail.state: anything-but does not support "numeric"'],
      [f({ prefix: "a", suffix: "b" }), /^detail\.state: anything-but needs/],
      [f({ "equals-ignore-case": [] }), /non-empty list of strings/],
      [f({ "equals-ignore-case": [1] }), "detail.state: anything-but equals-ignore-case needs a string"],
      [f({ wildcard: "**" }), /consecutive wildcard/],
    ]);
  });

  it("rejects malformed numeric expressions", () => {
    const f = (operand: unknown) => ({ detail: { count: [{ numeric: operand }] } });
    const shape = /^detail\.count: numeric needs \[op, number\]/;
    expectRejected([
      [f([">"]), shape],
      [f([">", "0"]), shape],
      [f(["<", 5, ">", 0]), shape],
      [f([">", 0, ">", 5]), shape],
      [f(["=", 0, "<", 5]), shape],
      [f([">", 0, "<", 5, "<", 6]), shape],
      [f({ ">": 0 }), shape],
      [f(["!=", 0]), 'detail.count: unknown numeric operator "!="'],
      [f([">", 5, "<", 5]), "detail.count: a numeric range's lower bound must be below its upper bound"],
    ]);
  });

  it("rejects malformed $or, naming the alternative", () => {
    expectRejected([
      [{ $or: [{ source: ["a"] }] }, "$or: must be an array of at least two pattern objects"],
      [{ detail: { $or: { a: ["x"] } } }, "detail.$or: must be an array of at least two pattern objects"],
      [{ $or: [{ source: ["a"] }, ["b"]] }, "$or[1]: must be a pattern object"],
      [{ detail: { $or: [{ a: ["x"] }, { b: [] }] } }, "detail.$or[1].b: must not be an empty array"],
      [{ $or: [{ source: ["a"] }, { prefix: ["b"] }] }, /^\$or\[1\]\.prefix: "prefix" is an operator name/],
    ]);
  });

  it("rejects nesting deeper than ten levels", () => {
    const nest = (levels: number): object => (levels === 1 ? { leaf: ["x"] } : { n: nest(levels - 1) });
    expect(parseEventPattern(nest(10)).ok).toBe(true);
    expect(rejection(nest(11))).toBe("n.n.n.n.n.n.n.n.n.n: nesting is deeper than 10 levels");
  });

  it("rejects more than 256 leaves", () => {
    const fields = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}`, [1]]));
    expect(parseEventPattern(fields(256)).ok).toBe(true);
    expect(rejection(fields(257))).toBe("f256: the pattern has more than 256 fields");
  });

  it("rejects a pattern over 4096 bytes as JSON, counting UTF-8 bytes", () => {
    const sized = (chars: string) => ({ source: [chars] });
    const overhead = JSON.stringify(sized("")).length;
    expect(parseEventPattern(sized("a".repeat(4096 - overhead))).ok).toBe(true);
    expect(rejection(sized("a".repeat(4097 - overhead)))).toBe(
      "pattern: is 4097 bytes as JSON, over the 4096-byte limit",
    );
    expect(rejection(sized("é".repeat(2100)))).toMatch(/^pattern: is \d+ bytes as JSON/);
  });

  it("rejects values JSON cannot carry", () => {
    expectRejected([
      [{ f: [Number.NaN] }, "f: numbers must be finite"],
      [{ f: [undefined] }, /^f: a match value must be/],
      [{ f: [1n] }, "pattern: must be plain JSON"],
    ]);
  });
});
