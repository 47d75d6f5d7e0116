/**
 * Helpers of the scanning tests: push a fixture image, import advisories, wait for a scan, and
 * read its findings in one line each (`name package version severity`).
 */
import { expect } from "vitest";
import type { FixtureImage } from "../../support/scan-fixtures";
import { ecrCall, type EcrResult } from "../../support/ecr";
import { adminCall, bytesOf, digestOf, pushBlob, putManifestBytes } from "../../support/registry";

export const GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

/** Pushes the image (layers of `mediaType`, gzip unless given) under `tag`; its digest. */
export async function pushFixture(
  name: string,
  tag: string,
  image: FixtureImage,
  mediaType = GZIP_LAYER,
): Promise<string> {
  const config = bytesOf(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
  );
  const configDigest = await pushBlob(name, config);
  const layers = [];
  for (const layer of image.layers) layers.push({ mediaType, digest: await pushBlob(name, layer), size: layer.length });
  const manifest = bytesOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
      layers,
    }),
  );
  const response = await putManifestBytes(name, tag, manifest);
  expect(response.status, await response.clone().text()).toBe(201);
  return digestOf(manifest);
}

export async function importAdvisories(advisories: unknown[]): Promise<Record<string, unknown>> {
  const response = await adminCall("POST", "/admin/advisories", { advisories });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json<Record<string, unknown>>();
}

export async function describeFindings(
  name: string,
  digest: string,
  extra: Record<string, unknown> = {},
): Promise<EcrResult> {
  return ecrCall("DescribeImageScanFindings", { repositoryName: name, imageId: { imageDigest: digest }, ...extra });
}

/** Polls until the scan is no longer IN_PROGRESS (the queue consumer runs on its own); the last answer. */
export async function waitForScan(name: string, digest: string, timeoutMs = 20_000): Promise<EcrResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await describeFindings(name, digest);
    const status = (result.body.imageScanStatus as { status?: string } | undefined)?.status;
    if (result.status === 200 && status !== "IN_PROGRESS") return result;
    if (Date.now() > deadline)
      throw new Error(`scan of ${name}@${digest} still ${status ?? result.type} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Finding {
  name: string;
  severity: string;
  attributes: { key: string; value: string }[];
}

/** Findings as `name package version severity`, sorted. */
export function findingLines(result: EcrResult): string[] {
  const findings = (result.body.imageScanFindings as { findings?: Finding[] } | undefined)?.findings ?? [];
  const attribute = (finding: Finding, key: string) => finding.attributes.find((a) => a.key === key)?.value ?? "?";
  return findings
    .map(
      (finding) =>
        `${finding.name} ${attribute(finding, "package_name")} ${attribute(finding, "package_version")} ${finding.severity}`,
    )
    .sort();
}

export async function startScan(name: string, digest: string): Promise<EcrResult> {
  return ecrCall("StartImageScan", { repositoryName: name, imageId: { imageDigest: digest } });
}
