/**
 * Aggregated audit records: reads on the pull path (manifest and blob GETs, tag lists, the
 * token service's grants) and throttled logins are counted per principal, access key,
 * repository, action, result and minute in a buffer of this isolate, and written as one row per
 * group, with the number of calls, the references pulled and the source addresses seen. The
 * buffer is written in one statement after a response (waitUntil) at most once per
 * PULL_RECORD_INTERVAL_SECONDS per isolate, as pull records are (src/images/pull-records.ts),
 * and before the admin API answers a query. Groups still buffered when an isolate is evicted
 * are lost: the price of no D1 write per pull.
 */
import type { AppContext } from "../app-env";
import { BoundedMap } from "../bounded-map";
import { runAfterResponse } from "../images/pull-records";
import { appendAuditRecords, type AuditRow } from "../storage/audit-records";
import type { Database } from "../storage/database";

const MINUTE_MS = 60_000;
/** A buffer with this many groups is written at once. */
const MAX_PENDING = 500;
/** Groups kept while D1 writes fail; past it the oldest are dropped. */
const MAX_BUFFERED = 10 * MAX_PENDING;
/** References and addresses listed per group (the count stays exact). */
const MAX_LISTED = 20;

interface Group {
  key: string;
  row: AuditRow;
  references: Set<string>;
  sourceIps: Set<string>;
}

const pending = new BoundedMap<string, Group>(MAX_BUFFERED);
let lastFlush: number | null = null;

function groupKey(row: AuditRow): string {
  const minute = Math.floor(row.at / MINUTE_MS);
  return [minute, row.source, row.action, row.actor, row.accessKeyId, row.repository, row.errorCode].join("\n");
}

/** What was pulled: the tag or digest asked for. */
function referenceOf(row: AuditRow): string | null {
  const reference = row.requestParameters?.reference;
  return typeof reference === "string" ? reference : row.digest;
}

/** Counts one call in its group, and writes the buffer after the response if it is due. */
export function countAggregated(c: AppContext, row: AuditRow): void {
  const key = groupKey(row);
  const group = pending.get(key);
  if (group) {
    group.row.calls += 1;
    const reference = referenceOf(row);
    if (reference !== null && group.references.size < MAX_LISTED) group.references.add(reference);
    if (row.sourceIp !== null && group.sourceIps.size < MAX_LISTED) group.sourceIps.add(row.sourceIp);
  } else {
    pending.set(key, {
      key,
      row: { ...row, calls: 1, requestId: null },
      references: new Set([referenceOf(row)].filter((reference) => reference !== null)),
      sourceIps: new Set(row.sourceIp === null ? [] : [row.sourceIp]),
    });
  }
  const now = Date.now();
  lastFlush ??= now;
  if (now - lastFlush >= c.var.settings.pullRecordIntervalMs || pending.size >= MAX_PENDING)
    runAfterResponse(c, flushAggregated(c.get("db")), "audit aggregates");
}

/** Writes the buffered groups now (nothing when none are buffered). */
export async function flushAggregated(db: Database): Promise<void> {
  if (pending.size === 0) return;
  lastFlush = Date.now();
  const groups = pending.values();
  pending.clear();
  try {
    await appendAuditRecords(
      db,
      groups.map((group) => ({
        ...group.row,
        // The group's first reference is its row's digest; all of them are listed when several.
        detail: {
          ...group.row.detail,
          aggregated: true,
          ...(group.references.size > 1 ? { references: [...group.references] } : {}),
          ...(group.sourceIps.size > 1 ? { sourceIPAddresses: [...group.sourceIps] } : {}),
        },
      })),
    );
  } catch (error) {
    // Put the groups back (merged with calls counted since) for the next flush.
    for (const group of groups) {
      const current = pending.get(group.key);
      if (current) current.row.calls += group.row.calls;
      else pending.set(group.key, group);
    }
    throw error;
  }
}
