/**
 * How an image's scan reads in ECR's answers: imageScanStatus and imageScanFindingsSummary, in
 * DescribeImages (./images.ts) and the scanning actions (./scanning.ts).
 */
import type { ImageScanRow } from "../../storage/scan-records";
import { epochSeconds, type JsonObject } from "../input";

export function scanStatusOf(scan: ImageScanRow): JsonObject {
  return { status: scan.status, ...(scan.description === null ? {} : { description: scan.description }) };
}

/** ECR's imageScanFindingsSummary of a completed scan (DescribeImages), or null. */
export function scanFindingsSummary(scan: ImageScanRow): JsonObject | null {
  if (scan.status !== "COMPLETE" || scan.completedAt === null) return null;
  return {
    imageScanCompletedAt: epochSeconds(scan.completedAt),
    ...(scan.sourceUpdatedAt === null ? {} : { vulnerabilitySourceUpdatedAt: epochSeconds(scan.sourceUpdatedAt) }),
    findingSeverityCounts: scan.severityCounts ?? {},
  };
}

/** DescribeImages' scan members of an image (none when it was never scanned). */
export function imageScanMembers(scan: ImageScanRow | undefined): JsonObject {
  if (scan === undefined) return {};
  const summary = scanFindingsSummary(scan);
  return { imageScanStatus: scanStatusOf(scan), ...(summary === null ? {} : { imageScanFindingsSummary: summary }) };
}
