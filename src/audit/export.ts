/**
 * The audit job: exports the trail from D1 to R2 as CloudTrail delivers its trail to S3, one
 * NDJSON object per page of records in id order (src/storage/keys.ts names them), then deletes
 * records past AUDIT_RETENTION_DAYS, only those already exported.
 *
 * A cursor in registry settings holds the last exported id and moves only after an object is
 * written. Before each write the page's last id is recorded too, so a run that stops between
 * the write and the cursor writes the very same page again, under the same key: the trail in
 * R2 never holds a record twice. Ids only grow (AUTOINCREMENT, one writer), so a record never
 * appears behind the cursor.
 */
import type { Settings } from "../config/settings";
import { auditRecordsAfter, deleteAuditRecords } from "../storage/audit-records";
import { database } from "../storage/database";
import { auditTrailKey } from "../storage/keys";
import { findAuditExportCursor, putAuditExportCursor, putAuditExportWriting } from "../storage/registry-settings";
import { flushAggregated } from "./aggregates";
import { cloudTrailRecord } from "./record";

/** Records per object (a page of the D1 read). */
const PAGE_SIZE = 1000;
/** Objects per run: a backlog is worked off over several runs, each within a cron invocation's limits. */
const MAX_OBJECTS = 20;

export interface AuditExportOptions {
  pageSize?: number;
  maxObjects?: number;
}

export interface AuditExportReport {
  startedAt: number;
  /** Records written to R2 in this run. */
  exported: number;
  objects: number;
  /** The last object written, or null when there was nothing to export. */
  lastKey: string | null;
  /** Records deleted past their retention (exported ones only). */
  deleted: number;
  /** True when every record was exported; false when the budget ran out first. */
  caughtUp: boolean;
}

export async function runAuditExport(
  env: Env,
  settings: Settings,
  options: AuditExportOptions = {},
): Promise<AuditExportReport> {
  const db = database(env.DB);
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const maxObjects = options.maxObjects ?? MAX_OBJECTS;
  const trail = { accountId: settings.auth.accountId, region: settings.auth.region };
  const report: AuditExportReport = {
    startedAt: Date.now(),
    exported: 0,
    objects: 0,
    lastKey: null,
    deleted: 0,
    caughtUp: false,
  };
  // Pulls this isolate has counted but not yet written are exported now rather than next run.
  await flushAggregated(db);
  let { exportedThrough, writingThrough } = await findAuditExportCursor(db);
  while (report.objects < maxObjects) {
    const read = await auditRecordsAfter(db, exportedThrough, pageSize);
    // After an interrupted run, the page it may have written, and no more.
    const cut = writingThrough;
    const page = cut === null ? read : read.filter((row) => row.id <= cut);
    writingThrough = null;
    const first = page[0];
    const last = page.at(-1);
    if (first === undefined || last === undefined) {
      report.caughtUp = true;
      break;
    }
    const key = auditTrailKey(trail, first.at, first.id, last.id);
    await putAuditExportWriting(db, last.id, Date.now());
    const body = page.map((row) => `${JSON.stringify(cloudTrailRecord(row, trail))}\n`).join("");
    await env.BLOBS.put(key, body, { httpMetadata: { contentType: "application/x-ndjson" } });
    await putAuditExportCursor(db, last.id, Date.now());
    exportedThrough = last.id;
    report.exported += page.length;
    report.objects += 1;
    report.lastKey = key;
    // A short read is the end of the trail (unless the page was cut at an interrupted run's page).
    if (read.length < pageSize && page.length === read.length) {
      report.caughtUp = true;
      break;
    }
  }
  report.deleted = await deleteAuditRecords(db, Date.now() - settings.auditRetentionMs, exportedThrough);
  return report;
}
