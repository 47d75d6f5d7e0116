import { describe, expect, it } from "vitest";
import { OsvFormatError, parseOsv } from "./osv";

/** A GitHub advisory for an npm package, as osv.dev serves it (shortened). */
const GHSA = {
  schema_version: "1.6.0",
  id: "GHSA-2p57-rm9w-gvfp",
  modified: "2024-06-10T18:58:35Z",
  published: "2024-06-02T18:30:35Z",
  aliases: ["CVE-2024-29415"],
  related: [],
  summary: "ip SSRF improper categorization in isPublic",
  details: "The ip package through 2.0.1 for Node.js might allow SSRF ...",
  severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
  affected: [
    {
      package: { ecosystem: "npm", name: "ip", purl: "pkg:npm/ip" },
      ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { last_affected: "2.0.1" }] }],
      database_specific: { source: "https://github.com/github/advisory-database/blob/main/advisories/..." },
    },
  ],
  references: [
    { type: "ADVISORY", url: "https://nvd.nist.gov/vuln/detail/CVE-2024-29415" },
    { type: "PACKAGE", url: "https://github.com/indutny/node-ip" },
  ],
  database_specific: { cwe_ids: ["CWE-918"], severity: "HIGH", github_reviewed: true },
};

const isObject = (value: unknown): value is object => typeof value === "object" && value !== null;

/** A copy of GHSA with one field replaced (or removed, with undefined). */
function withField(path: (string | number)[], value: unknown): unknown {
  const copy: unknown = structuredClone(GHSA);
  let target = copy;
  for (const key of path.slice(0, -1)) target = isObject(target) ? Reflect.get(target, key) : undefined;
  if (!isObject(target)) throw new Error(`GHSA has no ${path.join(".")}`);
  const last = path[path.length - 1] ?? "";
  if (value === undefined) Reflect.deleteProperty(target, last);
  else Reflect.set(target, last, value);
  return copy;
}

function formatError(json: unknown): OsvFormatError {
  try {
    parseOsv(json);
  } catch (error) {
    if (error instanceof OsvFormatError) return error;
    throw error;
  }
  throw new Error("parsed");
}

describe("parseOsv", () => {
  it("reads a complete record", () => {
    const advisory = parseOsv(GHSA);
    expect(advisory.id).toBe("GHSA-2p57-rm9w-gvfp");
    expect(advisory.aliases).toEqual(["CVE-2024-29415"]);
    expect(advisory.severity).toEqual([{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }]);
    expect(advisory.affected).toEqual([
      {
        package: { ecosystem: "npm", name: "ip", purl: "pkg:npm/ip" },
        severity: [],
        ranges: [{ type: "SEMVER", events: [{ introduced: "0" }, { last_affected: "2.0.1" }] }],
        versions: [],
        database_specific: GHSA.affected[0]?.database_specific,
      },
    ]);
    expect(advisory.references).toHaveLength(2);
    expect(advisory.database_specific?.severity).toBe("HIGH");
    expect(advisory.withdrawn).toBeUndefined();
  });

  it("writes modified as UTC ISO 8601 whatever offset the record gives", () => {
    expect(parseOsv({ id: "X-1", modified: "2024-09-18T05:19:48+02:00" }).modified).toBe("2024-09-18T03:19:48.000Z");
  });

  it("reads absent lists as empty and absent or null fields as undefined", () => {
    const advisory = parseOsv({ id: "DEBIAN-CVE-2023-4911", modified: "2024-09-18T03:19:48Z", summary: null });
    expect(advisory).toEqual({
      id: "DEBIAN-CVE-2023-4911",
      modified: "2024-09-18T03:19:48.000Z",
      aliases: [],
      upstream: [],
      related: [],
      severity: [],
      affected: [],
      references: [],
    });
    expect(advisory.summary).toBeUndefined();
  });

  it("keeps an affected entry without a package (GIT ranges only)", () => {
    const advisory = parseOsv({
      id: "OSV-2023-1",
      modified: "2023-01-01T00:00:00Z",
      affected: [
        {
          ranges: [
            {
              type: "GIT",
              repo: "https://github.com/madler/zlib",
              events: [{ introduced: "0" }, { fixed: "04f42ceca40f73e2978b50e93806c2a18c1281fc" }],
            },
          ],
          versions: ["v1.2.11", "v1.2.12"],
        },
      ],
    });
    expect(advisory.affected[0]?.package).toBeUndefined();
    expect(advisory.affected[0]?.ranges[0]?.repo).toBe("https://github.com/madler/zlib");
  });

  it("skips severities and ranges of types it does not know", () => {
    const advisory = parseOsv(
      withField(
        ["affected", 0, "ranges"],
        [
          { type: "CALVER", events: [{ introduced: "2024.01" }] },
          { type: "SEMVER", events: [{ introduced: "1.0.0" }] },
        ],
      ),
    );
    expect(advisory.affected[0]?.ranges).toEqual([{ type: "SEMVER", events: [{ introduced: "1.0.0" }] }]);
    const rated = parseOsv(withField(["severity", 1], { type: "EPSS", score: "0.97" }));
    expect(rated.severity.map((entry) => entry.type)).toEqual(["CVSS_V3"]);
  });

  it.each<[string, (string | number)[], unknown]>([
    ["id", ["id"], undefined],
    ["id", ["id"], ""],
    ["modified", ["modified"], 20240610],
    ["modified", ["modified"], "yesterday"],
    ["modified", ["modified"], "2024-13-45T00:00:00Z"],
    ["aliases[1]", ["aliases", 1], 7],
    ["affected", ["affected"], { package: {} }],
    ["affected[0]", ["affected", 0], "ip"],
    ["affected[0].package.name", ["affected", 0, "package", "name"], undefined],
    ["affected[0].package.ecosystem", ["affected", 0, "package", "ecosystem"], ["npm"]],
    ["affected[0].ranges[0].events", ["affected", 0, "ranges", 0, "events"], undefined],
    ["affected[0].ranges[0].type", ["affected", 0, "ranges", 0, "type"], undefined],
    ["affected[0].ranges[0].events[1]", ["affected", 0, "ranges", 0, "events", 1], { fixed: "2.0.2", limit: "*" }],
    ["affected[0].ranges[0].events[1]", ["affected", 0, "ranges", 0, "events", 1], {}],
    ["affected[0].ranges[0].events[0].introduced", ["affected", 0, "ranges", 0, "events", 0, "introduced"], 0],
    ["affected[0].database_specific", ["affected", 0, "database_specific"], "x"],
    ["severity[0].score", ["severity", 0, "score"], 9.8],
    ["references[0].url", ["references", 0, "url"], undefined],
  ])("names the bad field: %s", (field, path, value) => {
    const error = formatError(withField(path, value));
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it("refuses what is not a JSON object", () => {
    for (const json of [null, "GHSA", 1, [GHSA]]) expect(formatError(json).field).toBe("the record");
  });

  it("copies the free-form objects without touching a prototype", () => {
    const advisory = parseOsv(
      JSON.parse('{"id":"X-1","modified":"2024-01-01T00:00:00Z","database_specific":{"__proto__":{"polluted":true}}}'),
    );
    expect(Object.getPrototypeOf(advisory.database_specific)).toBe(Object.prototype);
    expect(Reflect.get({}, "polluted")).toBeUndefined();
  });
});
