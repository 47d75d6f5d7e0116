/**
 * Scanning actions: StartImageScan, DescribeImageScanFindings, Put/GetRegistryScanningConfiguration
 * and BatchGetRepositoryScanningConfiguration. Scans run on the scanning queue
 * (src/scanning/consumer.ts); these start them and read what they found.
 */
import { EcrError, RegistryError } from "../../errors";
import { IMAGE_MANIFEST_TYPES } from "../../oci/media-types";
import { scanningFor, parseScanningConfiguration } from "../../scanning/configuration";
import { startScan } from "../../scanning/requests";
import { readScanningConfiguration, writeScanningConfiguration } from "../../scanning/store";
import { findRepository } from "../../storage/repository-records";
import { findImageScan, listScanFindings, type StoredFinding } from "../../storage/scan-records";
import type { ActionHandler } from "../context";
import { decodeNextToken, encodeNextToken, invalidParameter, type JsonObject } from "../input";
import { imageIdShape, requireImage } from "./image-ids";
import { scanFindingsSummary, scanStatusOf } from "./scan-status";
import { repositoryArn } from "../../auth/access";

function validation(message: string): RegistryError {
  return new RegistryError(EcrError.ValidationException, message);
}

function presentFinding(finding: StoredFinding): JsonObject {
  return {
    name: finding.advisoryId,
    ...(finding.description === null ? {} : { description: finding.description }),
    ...(finding.uri === null ? {} : { uri: finding.uri }),
    severity: finding.severity,
    attributes: finding.attributes,
  };
}

const DEFAULT_FINDINGS_PAGE = 100;

function readOffset(token: string | undefined): number {
  if (token === undefined) return 0;
  const value = decodeNextToken(token);
  const offset: unknown = typeof value === "object" && value !== null ? Reflect.get(value, "offset") : undefined;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0)
    throw invalidParameter("Invalid parameter at 'nextToken'");
  return offset;
}

export const scanningActions: Record<string, ActionHandler> = {
  async StartImageScan(ctx) {
    const { name, digest, tag, row } = await requireImage(ctx, "ecr:StartImageScan");
    if (!IMAGE_MANIFEST_TYPES.has(row.mediaType)) {
      throw new RegistryError(
        EcrError.UnsupportedImageTypeException,
        `The image with digest ${digest} is a ${row.mediaType}, which cannot be scanned; scan the image of each platform`,
      );
    }
    if (!(await startScan(ctx.c.env, ctx.db, name, digest))) {
      throw new RegistryError(
        EcrError.LimitExceededException,
        `The scan quota per image has been exceeded. Wait and try again: image ${digest} was scanned in the last 24 hours.`,
      );
    }
    const scan = await findImageScan(ctx.db, name, digest);
    return {
      registryId: ctx.config.accountId,
      repositoryName: name,
      imageId: imageIdShape(digest, tag),
      imageScanStatus: scan === undefined ? { status: "IN_PROGRESS" } : scanStatusOf(scan),
    };
  },

  async DescribeImageScanFindings(ctx) {
    const maxResults = ctx.input.optionalInteger("maxResults", 1, 1000) ?? DEFAULT_FINDINGS_PAGE;
    const offset = readOffset(ctx.input.optionalString("nextToken"));
    const { name, digest, tag } = await requireImage(ctx, "ecr:DescribeImageScanFindings");
    const scan = await findImageScan(ctx.db, name, digest);
    if (scan === undefined) {
      throw new RegistryError(
        EcrError.ScanNotFoundException,
        `Image scan does not exist for the image with '{imageDigest:'${digest}', imageTag:'${tag ?? "null"}'}' in the repository with name '${name}' in the registry with id '${ctx.config.accountId}'`,
      );
    }
    const result: JsonObject = {
      registryId: ctx.config.accountId,
      repositoryName: name,
      imageId: imageIdShape(digest, tag),
      imageScanStatus: scanStatusOf(scan),
    };
    const summary = scanFindingsSummary(scan);
    if (summary === null) return result;
    const page = await listScanFindings(ctx.db, name, digest, offset, maxResults + 1);
    return {
      ...result,
      imageScanFindings: { ...summary, findings: page.slice(0, maxResults).map(presentFinding) },
      ...(page.length > maxResults ? { nextToken: encodeNextToken({ offset: offset + maxResults }) } : {}),
    };
  },

  async PutRegistryScanningConfiguration(ctx) {
    const configuration = parseScanningConfiguration(
      { scanType: ctx.input.optionalString("scanType") ?? "BASIC", rules: ctx.input.optionalList("rules", 0, 2) ?? [] },
      validation,
    );
    await ctx.authorize("ecr:PutRegistryScanningConfiguration", null);
    await writeScanningConfiguration(ctx.db, configuration, Date.now());
    return { registryScanningConfiguration: configuration };
  },

  async GetRegistryScanningConfiguration(ctx) {
    await ctx.authorize("ecr:GetRegistryScanningConfiguration", null);
    return { registryId: ctx.config.accountId, scanningConfiguration: await readScanningConfiguration(ctx.db) };
  },

  async BatchGetRepositoryScanningConfiguration(ctx) {
    const names = ctx.input.stringList("repositoryNames", 1, 25);
    for (const name of names) await ctx.authorize("ecr:BatchGetRepositoryScanningConfiguration", name);
    const configuration = await readScanningConfiguration(ctx.db);
    const scanningConfigurations: JsonObject[] = [];
    const failures: JsonObject[] = [];
    for (const name of [...new Set(names)]) {
      const row = await findRepository(ctx.db, name);
      if (row === undefined) {
        failures.push({
          repositoryName: name,
          failureCode: "REPOSITORY_NOT_FOUND",
          failureReason: `The repository with name '${name}' does not exist in the registry with id '${ctx.config.accountId}'`,
        });
        continue;
      }
      const applied = scanningFor(configuration, name, row.scanOnPush);
      scanningConfigurations.push({
        repositoryArn: repositoryArn(ctx.config.region, ctx.config.accountId, name),
        repositoryName: name,
        scanOnPush: applied.scanOnPush,
        scanFrequency: applied.scanFrequency,
        appliedScanFilters: applied.appliedScanFilters,
      });
    }
    return { scanningConfigurations, failures };
  },
};
