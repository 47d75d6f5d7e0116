/**
 * Vulnerability scanning through real clients: the fixture advisories imported with
 * `npm run -s advisories -- import DIR` (JSON files and a zip), the registry scanning
 * configuration set and read with the AWS CLI v2 (/usr/bin/aws --endpoint-url), fixture images
 * pushed with skopeo and scanned on push through the local queue, `aws ecr wait
 * image-scan-complete`, the findings (all at once, paged by hand with --no-paginate, and
 * paged by the CLI), DescribeImages' scan summary, the 24-hour scan limit, and a zstd image
 * that ends UNSUPPORTED_IMAGE. Expected findings: test/support/scan-fixtures.ts.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ADVISORIES, applicationImage, debianImage, EXPECTED_FINDINGS, storedZip } from "../support/scan-fixtures";
import { adminCredentials } from "./support/ecr";
import { fixtureLayers, writeImageLayout, zstdLayer, type WrittenImage } from "./support/scan-images";
import { dockerRef, ociRef, serverLogTail, skopeo } from "./support/skopeo";

const ROOT = resolve(import.meta.dirname, "../..");
const AWS = "/usr/bin/aws";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string>, timeout = 120_000): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout }, (error, stdout, stderr) =>
      resolvePromise({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

let scratch = "";

/** `aws ecr <args>` against the registry, with the admin key and no configuration of the machine's. */
function ecr(args: string[], timeout?: number): Promise<Run> {
  const credentials = adminCredentials();
  const env = {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_PAGER: "",
    AWS_CONFIG_FILE: join(scratch, "aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, "aws-credentials"),
  };
  return run(AWS, ["ecr", "--endpoint-url", inject("registryUrl"), "--output", "json", ...args], env, timeout);
}

/** `aws ecr <args>` that must exit 0; its JSON output. */
async function ecrJson<T = Record<string, unknown>>(args: string[], timeout?: number): Promise<T> {
  const result = await ecr(args, timeout);
  if (result.code !== 0)
    throw new Error(
      `aws ecr ${args.join(" ")} exited ${result.code}:\n${result.stderr}\n--- registry log (tail) ---\n${serverLogTail()}`,
    );
  return (result.stdout.trim() === "" ? {} : JSON.parse(result.stdout)) as T;
}

interface Finding {
  name: string;
  severity: string;
  attributes: { key: string; value: string }[];
}
interface FindingsAnswer {
  imageScanStatus: { status: string; description?: string };
  imageScanFindings?: { findings?: Finding[]; findingSeverityCounts?: Record<string, number> };
  nextToken?: string;
}

/** A finding as EXPECTED_FINDINGS writes it: "name package version severity". */
function line(finding: Finding): string {
  const attribute = (key: string) => finding.attributes.find((a) => a.key === key)?.value ?? `(no ${key})`;
  return `${finding.name} ${attribute("package_name")} ${attribute("package_version")} ${finding.severity}`;
}

function severityCounts(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const severity of lines.map((l) => l.split(" ").at(-1)!)) counts[severity] = (counts[severity] ?? 0) + 1;
  return counts;
}

const imageId = (tag: string) => ["--image-id", `imageTag=${tag}`];

async function push(image: WrittenImage, repository: string, tag: string): Promise<void> {
  await skopeo(["copy", "--dest-tls-verify=false", ociRef(image.path, image.tag), dockerRef(repository, tag)]);
}

/** `aws ecr describe-image-scan-findings` of repository:tag (with `extra` arguments). */
function findings(repository: string, tag: string, ...extra: string[]): Promise<FindingsAnswer> {
  return ecrJson(["describe-image-scan-findings", "--repository-name", repository, ...imageId(tag), ...extra]);
}

/** `aws ecr wait image-scan-complete`, then the findings; both must succeed. */
async function waitForFindings(repository: string, tag: string): Promise<FindingsAnswer> {
  const waited = await ecr(["wait", "image-scan-complete", "--repository-name", repository, ...imageId(tag)], 320_000);
  expect(waited.code, `${waited.stderr}\n${serverLogTail()}`).toBe(0);
  return findings(repository, tag);
}

const images: Partial<Record<"application" | "debian" | "zstd", WrittenImage>> = {};
let advisoriesDir = "";

describe("vulnerability scanning with the AWS CLI and skopeo", () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(inject("e2eTempDir"), "scanning-"));
    images.application = await writeImageLayout(join(scratch, "app"), "v1", fixtureLayers(await applicationImage()));
    images.debian = await writeImageLayout(join(scratch, "debian"), "v1", fixtureLayers(await debianImage()));
    images.zstd = await writeImageLayout(join(scratch, "zstd"), "v1", [zstdLayer("scanning-zstd")]);
    // Every record a JSON file of its own but the last, which comes in a zip (as OSV.dev ships them).
    advisoriesDir = join(scratch, "advisories");
    await mkdir(advisoriesDir);
    const [zipped, ...files] = [...ADVISORIES].reverse();
    for (const record of files)
      await writeFile(join(advisoriesDir, `${String(record.id)}.json`), JSON.stringify(record));
    await writeFile(
      join(advisoriesDir, "more.zip"),
      storedZip([{ name: `${String(zipped!.id)}.json`, data: JSON.stringify(zipped) }]),
    );
  });

  // The scanning configuration is the registry's, shared with the files that run after this one.
  afterAll(async () => {
    if (scratch !== "") await ecrJson(["put-registry-scanning-configuration", "--scan-type", "BASIC", "--rules", "[]"]);
  });

  it("imports the advisories with npm run -s advisories -- import DIR", async () => {
    const result = await run("npm", ["run", "-s", "advisories", "--", "import", advisoriesDir], {
      REGISTRY_URL: inject("registryUrl"),
      REGISTRY_ADMIN_ACCESS_KEY_ID: inject("adminAccessKeyId"),
      REGISTRY_ADMIN_SECRET_ACCESS_KEY: inject("adminSecretAccessKey"),
    });
    expect(result.code, result.stderr).toBe(0);
    const n = ADVISORIES.length;
    expect(result.stdout.trim()).toMatch(
      new RegExp(`^${n} records: ${n} imported, 0 unchanged, 0 rejected; \\d+ images being re-matched$`),
    );
    expect(result.stderr).toBe("");
  });

  it("puts and gets the registry scanning configuration", async () => {
    const rules = [
      { scanFrequency: "SCAN_ON_PUSH", repositoryFilters: [{ filter: "scan-*", filterType: "WILDCARD" }] },
    ];
    const put = await ecrJson([
      "put-registry-scanning-configuration",
      "--scan-type",
      "BASIC",
      "--rules",
      JSON.stringify(rules),
    ]);
    expect(put).toEqual({ registryScanningConfiguration: { scanType: "BASIC", rules } });
    const got = await ecrJson(["get-registry-scanning-configuration"]);
    expect(got).toEqual({ registryId: "000000000000", scanningConfiguration: { scanType: "BASIC", rules } });
  });

  it("scans on push: the waiter ends, the findings are the expected ones, paged every way", async () => {
    await push(images.application!, "scan-app", "v1");
    const applied = await ecrJson<{ scanningConfigurations: { repositoryName: string; scanFrequency: string }[] }>([
      "batch-get-repository-scanning-configuration",
      "--repository-names",
      "scan-app",
    ]);
    expect(applied.scanningConfigurations).toMatchObject([
      { repositoryName: "scan-app", scanFrequency: "SCAN_ON_PUSH" },
    ]);

    const done = await waitForFindings("scan-app", "v1");
    const expected = [...EXPECTED_FINDINGS.application].sort();
    expect(done.imageScanStatus.status).toBe("COMPLETE");
    expect((done.imageScanFindings?.findings ?? []).map(line).sort()).toEqual(expected);
    expect(done.imageScanFindings?.findingSeverityCounts).toEqual(severityCounts(expected));

    // By hand: --no-paginate --max-results 1, then --next-token until there is none.
    const seen: string[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page <= expected.length; page++) {
      const more = nextToken === undefined ? [] : ["--next-token", nextToken];
      const answer = await findings("scan-app", "v1", "--no-paginate", "--max-results", "1", ...more);
      expect(answer.imageScanFindings?.findings).toHaveLength(1);
      seen.push(...(answer.imageScanFindings?.findings ?? []).map(line));
      nextToken = answer.nextToken;
      if (nextToken === undefined) break;
    }
    expect(nextToken).toBeUndefined();
    expect(seen.map((finding) => finding.split(" ").at(-1))).toEqual(["CRITICAL", "HIGH", "HIGH", "MEDIUM"]);
    expect([...seen].sort()).toEqual(expected);

    // The CLI's own paging: one finding per request (--page-size 1), gathered into one answer.
    const gathered = await findings("scan-app", "v1", "--page-size", "1");
    expect((gathered.imageScanFindings?.findings ?? []).map(line).sort()).toEqual(expected);

    const described = await ecrJson<{
      imageDetails: { imageScanStatus?: { status: string }; imageScanFindingsSummary?: Record<string, unknown> }[];
    }>(["describe-images", "--repository-name", "scan-app"]);
    expect(described.imageDetails).toHaveLength(1);
    expect(described.imageDetails[0]!.imageScanStatus?.status).toBe("COMPLETE");
    expect(described.imageDetails[0]!.imageScanFindingsSummary?.findingSeverityCounts).toEqual(
      severityCounts(expected),
    );

    const again = await ecr(["start-image-scan", "--repository-name", "scan-app", ...imageId("v1")]);
    expect(again.code, again.stdout).not.toBe(0);
    expect(again.stderr).toContain("LimitExceededException");
  });

  it("an image with a zstd layer, scanned by hand, ends UNSUPPORTED_IMAGE", async () => {
    await push(images.zstd!, "manual-zstd", "v1");
    const before = await ecr(["describe-image-scan-findings", "--repository-name", "manual-zstd", ...imageId("v1")]);
    expect(before.code, "not under the scan-on-push filter: no scan yet").not.toBe(0);
    expect(before.stderr).toContain("ScanNotFoundException");

    const started = await ecrJson<{ imageScanStatus: { status: string } }>([
      "start-image-scan",
      "--repository-name",
      "manual-zstd",
      ...imageId("v1"),
    ]);
    expect(started.imageScanStatus.status).toBe("IN_PROGRESS");
    let answer: FindingsAnswer | undefined;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      // One page (--no-paginate): the CLI's paginator would print a missing imageScanFindings as null.
      answer = await findings("manual-zstd", "v1", "--no-paginate");
      if (answer.imageScanStatus.status !== "IN_PROGRESS") break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(answer?.imageScanStatus.status, serverLogTail()).toBe("UNSUPPORTED_IMAGE");
    expect(answer?.imageScanStatus.description).toMatch(/zstd/);
    expect(answer).not.toHaveProperty("imageScanFindings");
  });

  it("scans a Debian image on push: exactly its expected findings", async () => {
    await push(images.debian!, "scan-debian", "v1");
    const done = await waitForFindings("scan-debian", "v1");
    const expected = [...EXPECTED_FINDINGS.debian].sort();
    expect((done.imageScanFindings?.findings ?? []).map(line).sort()).toEqual(expected);
    expect(done.imageScanFindings?.findingSeverityCounts).toEqual(severityCounts(expected));
  });
});
