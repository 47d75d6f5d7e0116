/**
 * How scans start and end: scan on push by the registry's rules or a repository's flag, one
 * scan per image per 24 hours, DescribeImages' summary, images this scanner does not read
 * (UNSUPPORTED_IMAGE), a layer that is not a readable tar (FAILED, never retried), continuous
 * scanning after an advisory import, and the scanning configuration actions.
 */
import { describe, expect, it } from "vitest";
import { ecrCall } from "../../support/ecr";
import { ADVISORIES, applicationImage, debianImage, gzipLayer } from "../../support/scan-fixtures";
import { bytesOf, OCI_INDEX, putManifestBytes, randomBytes } from "../../support/registry";
import { findingLines, importAdvisories, pushFixture, startScan, waitForScan } from "./support";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function configureScanning(rules: { scanFrequency: string; filters: string[] }[]): Promise<void> {
  const put = await ecrCall("PutRegistryScanningConfiguration", {
    scanType: "BASIC",
    rules: rules.map((rule) => ({
      scanFrequency: rule.scanFrequency,
      repositoryFilters: rule.filters.map((filter) => ({ filter, filterType: "WILDCARD" })),
    })),
  });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
}

describe("scans", () => {
  it("scans on push under a SCAN_ON_PUSH rule, refuses a second scan within 24 hours, and summarizes in DescribeImages", async () => {
    await importAdvisories(ADVISORIES);
    await configureScanning([{ scanFrequency: "SCAN_ON_PUSH", filters: ["prod-*"] }]);
    const name = "prod-api";
    const digest = await pushFixture(name, "v1", await debianImage());
    const done = await waitForScan(name, digest);
    expect(done.body.imageScanStatus).toMatchObject({ status: "COMPLETE" });
    expect(findingLines(done)).toHaveLength(2);

    const again = await startScan(name, digest);
    expect(again.status).toBe(400);
    expect(again.type).toBe("LimitExceededException");

    const described = await ecrCall("DescribeImages", { repositoryName: name });
    const [detail] = described.body.imageDetails as Record<string, unknown>[];
    expect(detail).toMatchObject({
      imageScanStatus: { status: "COMPLETE" },
      imageScanFindingsSummary: { findingSeverityCounts: { UNDEFINED: 2 } },
    });

    // A repository no rule names is MANUAL: its pushes are not scanned.
    const manual = await pushFixture("staging-api", "v1", await debianImage());
    const none = await ecrCall("DescribeImageScanFindings", {
      repositoryName: "staging-api",
      imageId: { imageDigest: manual },
    });
    expect(none.type).toBe("ScanNotFoundException");
  });

  it("reports what it cannot read: an index is refused, a zstd layer is UNSUPPORTED_IMAGE", async () => {
    const name = "scan/unsupported";
    const zstd = await pushFixture(
      name,
      "zstd",
      { layers: [randomBytes(300)] },
      "application/vnd.oci.image.layer.v1.tar+zstd",
    );
    await startScan(name, zstd);
    const done = await waitForScan(name, zstd);
    expect(done.body.imageScanStatus).toMatchObject({ status: "UNSUPPORTED_IMAGE" });
    expect((done.body.imageScanStatus as { description: string }).description).toMatch(/zstd/);

    const index = bytesOf(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: zstd, size: 0 }],
      }),
    );
    // The index's descriptor size must be the child's: read it back.
    const child = await ecrCall("BatchGetImage", { repositoryName: name, imageIds: [{ imageDigest: zstd }] });
    const childManifest = (child.body.images as { imageManifest: string }[])[0]!.imageManifest;
    const indexBytes = bytesOf(
      new TextDecoder().decode(index).replace('"size":0', `"size":${bytesOf(childManifest).length}`),
    );
    expect((await putManifestBytes(name, "multi", indexBytes, OCI_INDEX)).status).toBe(201);
    const refused = await ecrCall("StartImageScan", { repositoryName: name, imageId: { imageTag: "multi" } });
    expect(refused.type).toBe("UnsupportedImageTypeException");
  });

  it("reports an RPM-based image as unsupported, naming why", async () => {
    const name = "scan/amazonlinux";
    const digest = await pushFixture(name, "2023", {
      layers: [
        await gzipLayer([
          { path: "etc/os-release", data: 'NAME="Amazon Linux"\nID="amzn"\nVERSION_ID="2023"\n' },
          { path: "var/lib/rpm/rpmdb.sqlite", data: randomBytes(4096) },
        ]),
      ],
    });
    await startScan(name, digest);
    const done = await waitForScan(name, digest);
    expect(done.body.imageScanStatus).toMatchObject({ status: "UNSUPPORTED_IMAGE" });
    expect((done.body.imageScanStatus as { description: string }).description).toMatch(/RPM package databases/);
  });

  it("ends FAILED with the reason for a layer that is not a readable tar, and does not retry it", async () => {
    const name = "scan/poisoned";
    const digest = await pushFixture(name, "v1", { layers: [randomBytes(2048)] });
    await startScan(name, digest);
    const done = await waitForScan(name, digest);
    expect(done.body.imageScanStatus).toMatchObject({ status: "FAILED" });
    expect((done.body.imageScanStatus as { description: string }).description).toMatch(/could not be read/);
    const completedAt = JSON.stringify(done.body.imageScanStatus);
    await sleep(1500);
    expect(JSON.stringify((await waitForScan(name, digest)).body.imageScanStatus)).toBe(completedAt);
  });

  it("re-matches CONTINUOUS_SCAN images when an advisory is imported, not SCAN_ON_PUSH ones", async () => {
    await configureScanning([
      { scanFrequency: "CONTINUOUS_SCAN", filters: ["cont-*"] },
      { scanFrequency: "SCAN_ON_PUSH", filters: ["push-*"] },
    ]);
    const image = await applicationImage();
    const continuous = await pushFixture("cont-app", "v1", image);
    const onPush = await pushFixture("push-app", "v1", image);
    const before = findingLines(await waitForScan("cont-app", continuous));
    expect(before).toEqual([]);
    expect(findingLines(await waitForScan("push-app", onPush))).toEqual([]);

    const lodash = ADVISORIES.find((advisory) => advisory.id === "GHSA-35jh-r3h4-6jhm")!;
    const report = await importAdvisories([lodash]);
    expect(report).toMatchObject({ imported: 1, rescans: 1 });
    const deadline = Date.now() + 20_000;
    let after: string[] = [];
    while (Date.now() < deadline) {
      after = findingLines(await waitForScan("cont-app", continuous));
      if (after.length > 0) break;
      await sleep(100);
    }
    expect(after).toEqual(["CVE-2021-23337 lodash 4.17.20 HIGH"]);
    expect(findingLines(await waitForScan("push-app", onPush))).toEqual([]);
    // The same record again changes nothing and re-matches nothing.
    expect(await importAdvisories([lodash])).toMatchObject({ imported: 0, unchanged: 1, rescans: 0 });
  });

  it("keeps each import's good records and reports the bad ones by position", async () => {
    const report = await importAdvisories([ADVISORIES[0], { id: "BROKEN-1", modified: "yesterday" }, "not an object"]);
    expect(report).toMatchObject({ received: 3, imported: 1 });
    expect((report.rejected as { index: number; id: string | null }[]).map(({ index, id }) => [index, id])).toEqual([
      [1, "BROKEN-1"],
      [2, null],
    ]);
  });

  it("validates and reports the scanning configuration", async () => {
    const tooMany = await ecrCall("PutRegistryScanningConfiguration", {
      scanType: "BASIC",
      rules: [1, 2, 3].map(() => ({
        scanFrequency: "SCAN_ON_PUSH",
        repositoryFilters: [{ filter: "a", filterType: "WILDCARD" }],
      })),
    });
    expect(tooMany.status).toBe(400);
    await configureScanning([{ scanFrequency: "SCAN_ON_PUSH", filters: ["team-*"] }]);
    const got = await ecrCall("GetRegistryScanningConfiguration", {});
    expect(got.body.scanningConfiguration).toEqual({
      scanType: "BASIC",
      rules: [{ scanFrequency: "SCAN_ON_PUSH", repositoryFilters: [{ filter: "team-*", filterType: "WILDCARD" }] }],
    });
    await pushFixture("team-web", "v1", { layers: [await gzipLayer([{ path: "a", data: "b" }])] });
    await pushFixture("other", "v1", { layers: [await gzipLayer([{ path: "a", data: "b" }])] });
    const batch = await ecrCall("BatchGetRepositoryScanningConfiguration", {
      repositoryNames: ["team-web", "other", "missing"],
    });
    expect(batch.body.scanningConfigurations).toMatchObject([
      {
        repositoryName: "team-web",
        scanOnPush: true,
        scanFrequency: "SCAN_ON_PUSH",
        appliedScanFilters: [{ filter: "team-*" }],
      },
      { repositoryName: "other", scanOnPush: false, scanFrequency: "MANUAL", appliedScanFilters: [] },
    ]);
    expect(batch.body.failures).toMatchObject([{ repositoryName: "missing", failureCode: "REPOSITORY_NOT_FOUND" }]);
  });
});
