/**
 * D1 access for the audit trail: who did what to which repository, written by garbage
 * collection, lifecycle expiries and pull-through imports, and read by the admin API.
 */
import { asc, eq, sql } from "drizzle-orm";
import type { Database } from "./database";
import { auditEvents } from "./schema";

export interface AuditEvent {
  at: number;
  actor: string;
  action: string;
  repository: string | null;
  digest: string | null;
  detail: Record<string, unknown>;
}

/** Appends events in one statement, whatever their number (the rows travel as one JSON parameter). */
export async function recordAuditEvents(db: Database, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = JSON.stringify(events.map((event) => ({ ...event, detail: JSON.stringify(event.detail) })));
  await db.run(sql`
    INSERT INTO audit_events (at, actor, action, repository, digest, detail)
    SELECT json_extract(value, '$.at'), json_extract(value, '$.actor'), json_extract(value, '$.action'),
           json_extract(value, '$.repository'), json_extract(value, '$.digest'), json_extract(value, '$.detail')
    FROM json_each(${rows})`);
}

export async function listAuditEvents(db: Database, repository: string, limit: number): Promise<AuditEvent[]> {
  return db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.repository, repository))
    .orderBy(asc(auditEvents.id))
    .limit(limit);
}
