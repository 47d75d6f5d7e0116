/**
 * D1 access for the audit trail (src/audit/): records appended by requests (one statement per
 * recorded call, or per flush of aggregated pulls) and by jobs, queried by the admin API
 * newest first, read in id order for the export to R2, and deleted past their retention.
 */
import { and, asc, desc, eq, gt, gte, isNotNull, isNull, lt, lte, type SQL, sql } from "drizzle-orm";
import type { Database } from "./database";
import { auditEvents } from "./schema";

/** A job's record (lifecycle expiry, garbage collection, a pull-through import). */
export interface AuditEvent {
  at: number;
  actor: string;
  action: string;
  repository: string | null;
  digest: string | null;
  detail: Record<string, unknown>;
}

/** A record as stored (every column but the id). */
export type AuditRow = Omit<typeof auditEvents.$inferSelect, "id">;
export type StoredAuditRow = typeof auditEvents.$inferSelect;

/** Appends records in one statement, whatever their number (the rows travel as one JSON parameter). */
export async function appendAuditRecords(db: Database, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  const json = JSON.stringify(
    rows.map((row) => ({
      ...row,
      detail: JSON.stringify(row.detail),
      requestParameters: row.requestParameters === null ? null : JSON.stringify(row.requestParameters),
      readOnly: row.readOnly === null ? null : row.readOnly ? 1 : 0,
    })),
  );
  const field = (name: keyof AuditRow) => sql.raw(`json_extract(value, '$.${name}')`);
  await db.run(sql`
    INSERT INTO audit_events (at, actor, action, repository, digest, detail, event_id, request_id, source,
      identity_type, access_key_id, source_ip, user_agent, error_code, error_message, request_parameters,
      read_only, calls)
    SELECT ${field("at")}, ${field("actor")}, ${field("action")}, ${field("repository")}, ${field("digest")},
      ${field("detail")}, ${field("eventId")}, ${field("requestId")}, ${field("source")}, ${field("identityType")},
      ${field("accessKeyId")}, ${field("sourceIp")}, ${field("userAgent")}, ${field("errorCode")},
      ${field("errorMessage")}, ${field("requestParameters")}, ${field("readOnly")}, ${field("calls")}
    FROM json_each(${json})`);
}

/** A job's records: the service itself acted (CloudTrail's AwsServiceEvent). */
export async function recordAuditEvents(db: Database, events: readonly AuditEvent[]): Promise<void> {
  await appendAuditRecords(
    db,
    events.map((event) => ({
      ...event,
      eventId: crypto.randomUUID(),
      requestId: null,
      source: "registry-jobs",
      identityType: "AWSService",
      accessKeyId: null,
      sourceIp: null,
      userAgent: null,
      errorCode: null,
      errorMessage: null,
      requestParameters: null,
      readOnly: false,
      calls: 1,
    })),
  );
}

export interface AuditQuery {
  /** Epoch ms, inclusive. */
  startTime?: number;
  endTime?: number;
  actor?: string;
  action?: string;
  repository?: string;
  /** "success", "error", or one error code. */
  result?: string;
  /** Only records older than this id (the page token). */
  beforeId?: number;
  limit: number;
}

/** Records matching every given filter, newest first. */
export async function queryAuditRecords(db: Database, query: AuditQuery): Promise<StoredAuditRow[]> {
  const conditions: (SQL | undefined)[] = [
    query.startTime === undefined ? undefined : gte(auditEvents.at, query.startTime),
    query.endTime === undefined ? undefined : lte(auditEvents.at, query.endTime),
    query.actor === undefined ? undefined : eq(auditEvents.actor, query.actor),
    query.action === undefined ? undefined : eq(auditEvents.action, query.action),
    query.repository === undefined ? undefined : eq(auditEvents.repository, query.repository),
    query.result === undefined
      ? undefined
      : query.result === "success"
        ? isNull(auditEvents.errorCode)
        : query.result === "error"
          ? isNotNull(auditEvents.errorCode)
          : eq(auditEvents.errorCode, query.result),
    query.beforeId === undefined ? undefined : lt(auditEvents.id, query.beforeId),
  ];
  return db
    .select()
    .from(auditEvents)
    .where(and(...conditions))
    .orderBy(desc(auditEvents.id))
    .limit(query.limit);
}

/** Records after `afterId` in id order (the export's next page). */
export async function auditRecordsAfter(db: Database, afterId: number, limit: number): Promise<StoredAuditRow[]> {
  return db.select().from(auditEvents).where(gt(auditEvents.id, afterId)).orderBy(asc(auditEvents.id)).limit(limit);
}

/** Deletes records older than `before` whose id is at most `throughId` (exported); the number deleted. */
export async function deleteAuditRecords(db: Database, before: number, throughId: number): Promise<number> {
  const result = await db.run(sql`DELETE FROM audit_events WHERE at < ${before} AND id <= ${throughId}`);
  return result.meta.changes;
}
