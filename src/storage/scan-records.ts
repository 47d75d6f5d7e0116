/**
 * D1 access to image scans, their findings and the per-layer inventories. Scans are written
 * by the scanning queue consumer and StartImageScan, never by the repository's Durable Object:
 * they describe an image without changing it, and a deleted image takes its scan with it
 * (foreign key cascade).
 */
import type { EventEnvelope } from "../events/envelope";
import { and, asc, eq, sql } from "drizzle-orm";
import { inList, type Database } from "./database";
import { insertEventWhere } from "./event-records";
import { imageScans, layerInventories, scanFindings, type ScanStatus } from "./schema";

/** One day: ECR allows one scan per image per 24 hours. */
export const SCAN_INTERVAL_MS = 24 * 60 * 60 * 1000;

export type ImageScanRow = typeof imageScans.$inferSelect;

export async function findImageScan(
  db: Database,
  repository: string,
  digest: string,
): Promise<ImageScanRow | undefined> {
  return db
    .select()
    .from(imageScans)
    .where(and(eq(imageScans.repository, repository), eq(imageScans.digest, digest)))
    .get();
}

/**
 * Starts a scan (IN_PROGRESS) unless one started within the last 24 hours: one statement, so
 * two concurrent starts cannot both pass. False when refused.
 */
export async function startImageScan(
  db: Database,
  repository: string,
  digest: string,
  now: number,
  description: string,
): Promise<boolean> {
  const rows = await db.all<{ digest: string }>(sql`
    INSERT INTO image_scans (repository, digest, status, description, started_at)
    VALUES (${repository}, ${digest}, 'IN_PROGRESS', ${description}, ${now})
    ON CONFLICT (repository, digest) DO UPDATE SET status = 'IN_PROGRESS', description = excluded.description,
      started_at = excluded.started_at, completed_at = NULL
    WHERE image_scans.started_at <= ${now - SCAN_INTERVAL_MS}
    RETURNING digest`);
  return rows.length > 0;
}

export interface StoredFinding {
  advisoryId: string;
  packageName: string;
  packageVersion: string;
  fixedVersion: string | null;
  severity: string;
  severityRank: number;
  description: string | null;
  uri: string | null;
  attributes: { key: string; value: string }[];
}

/** Ends a scan with its findings (replacing any earlier ones), in one batch. */
export async function completeImageScan(
  db: Database,
  repository: string,
  digest: string,
  result: {
    now: number;
    sourceUpdatedAt: number | null;
    inventory: string;
    severityCounts: Record<string, number>;
    findings: readonly StoredFinding[];
  },
  event: EventEnvelope | null = null,
): Promise<void> {
  const findings = JSON.stringify(
    result.findings.map((finding) => ({ ...finding, attributes: JSON.stringify(finding.attributes) })),
  );
  const clearFindings = db
    .delete(scanFindings)
    .where(and(eq(scanFindings.repository, repository), eq(scanFindings.digest, digest)));
  await db.batch([
    event === null ? clearFindings : scanEventInsert(db, repository, digest, event),
    ...(event === null ? [] : [clearFindings]),
    db
      .update(imageScans)
      .set({
        status: "COMPLETE",
        description: "The scan was completed successfully.",
        completedAt: result.now,
        sourceUpdatedAt: result.sourceUpdatedAt,
        inventory: result.inventory,
        severityCounts: result.severityCounts,
      })
      .where(and(eq(imageScans.repository, repository), eq(imageScans.digest, digest))),
    // The whole list as one bound parameter (D1 allows 100 per statement); columns in table order;
    // `WHERE true` lets SQLite parse the ON CONFLICT that follows a SELECT.
    db
      .insert(scanFindings)
      .select(
        sql`SELECT ${repository}, ${digest}, json_extract(value, '$.advisoryId'), json_extract(value, '$.packageName'),
          json_extract(value, '$.packageVersion'), json_extract(value, '$.fixedVersion'), json_extract(value, '$.severity'),
          json_extract(value, '$.severityRank'), json_extract(value, '$.description'), json_extract(value, '$.uri'),
          json_extract(value, '$.attributes')
          FROM json_each(${findings}) WHERE true`,
      )
      .onConflictDoNothing(),
  ]);
}

/** Ends a scan without findings: FAILED or UNSUPPORTED_IMAGE, with the reason. */
export async function endImageScan(
  db: Database,
  repository: string,
  digest: string,
  status: Exclude<ScanStatus, "IN_PROGRESS" | "COMPLETE">,
  description: string,
  now: number,
  event: EventEnvelope | null = null,
): Promise<void> {
  const end = db
    .update(imageScans)
    .set({ status, description: description.slice(0, 1000), completedAt: now })
    .where(and(eq(imageScans.repository, repository), eq(imageScans.digest, digest)));
  if (event === null) await end;
  else await db.batch([scanEventInsert(db, repository, digest, event), end]);
}

/**
 * The scan's event, recorded only while the scan exists (its image was not deleted meanwhile),
 * with the image's tags as they are when the scan ends.
 */
function scanEventInsert(db: Database, repository: string, digest: string, event: EventEnvelope) {
  return insertEventWhere(
    db,
    event,
    sql`EXISTS (SELECT 1 FROM image_scans WHERE repository = ${repository} AND digest = ${digest})`,
    { tags: sql`SELECT json_group_array(tag) FROM tags WHERE repository = ${repository} AND digest = ${digest}` },
  );
}

/** A page of a scan's findings, most severe first. */
export async function listScanFindings(
  db: Database,
  repository: string,
  digest: string,
  offset: number,
  limit: number,
): Promise<StoredFinding[]> {
  const rows = await db
    .select()
    .from(scanFindings)
    .where(and(eq(scanFindings.repository, repository), eq(scanFindings.digest, digest)))
    .orderBy(
      asc(scanFindings.severityRank),
      asc(scanFindings.advisoryId),
      asc(scanFindings.packageName),
      asc(scanFindings.packageVersion),
    )
    .limit(limit)
    .offset(offset);
  return rows.map((row) => ({
    advisoryId: row.advisoryId,
    packageName: row.packageName,
    packageVersion: row.packageVersion,
    fixedVersion: row.fixedVersion,
    severity: row.severity,
    severityRank: row.severityRank,
    description: row.description,
    uri: row.uri,
    attributes: parseAttributes(row.attributes),
  }));
}

function parseAttributes(text: string): { key: string; value: string }[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    const key: unknown = typeof item === "object" && item !== null ? Reflect.get(item, "key") : undefined;
    const text: unknown = typeof item === "object" && item !== null ? Reflect.get(item, "value") : undefined;
    return typeof key === "string" && typeof text === "string" ? [{ key, value: text }] : [];
  });
}

/** The scans of `digests` in the repository, by digest (DescribeImages). One query. */
export async function findImageScans(
  db: Database,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, ImageScanRow>> {
  if (digests.length === 0) return new Map();
  const rows = await db
    .select()
    .from(imageScans)
    .where(and(eq(imageScans.repository, repository), inList(imageScans.digest, digests)));
  return new Map(rows.map((row) => [row.digest, row]));
}

/** Completed scans (repository, digest), for continuous scanning after an advisory import. */
export async function listCompletedScans(db: Database): Promise<{ repository: string; digest: string }[]> {
  return db
    .select({ repository: imageScans.repository, digest: imageScans.digest })
    .from(imageScans)
    .where(eq(imageScans.status, "COMPLETE"));
}

/** The stored inventories of the layers among `digests`, by digest. */
export async function findLayerInventories(db: Database, digests: readonly string[]): Promise<Map<string, string>> {
  if (digests.length === 0) return new Map();
  const rows = await db
    .select({ digest: layerInventories.digest, content: layerInventories.content })
    .from(layerInventories)
    .where(inList(layerInventories.digest, digests));
  return new Map(rows.map((row) => [row.digest, row.content]));
}

export async function putLayerInventory(db: Database, digest: string, content: string, now: number): Promise<void> {
  await db
    .insert(layerInventories)
    .values({ digest, content, readAt: now })
    .onConflictDoUpdate({ target: layerInventories.digest, set: { content, readAt: now } });
}
