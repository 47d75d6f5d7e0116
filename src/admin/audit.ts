/**
 * The audit trail through the admin API: `GET /admin/audit-events` finds records in
 * CloudTrail's shape by time, principal, action, repository and result, newest first, in pages
 * (`nextToken`). This isolate's aggregated pulls are written first, so a query sees them.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { flushAggregated } from "../audit/aggregates";
import { cloudTrailRecord } from "../audit/record";
import { queryAuditRecords, type AuditQuery } from "../storage/audit-records";
import { requireIdentityAction } from "./authorize";
import { adminError } from "./input";

export const auditRoutes = new Hono<AppEnv>();

const DEFAULT_PAGE = 50;
const MAX_PAGE = 1000;

function time(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  // An ISO 8601 time or epoch seconds, as CloudTrail's LookupEvents takes.
  const parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(parsed)) throw adminError.invalid(`${name} must be an ISO 8601 time or epoch seconds`);
  return parsed;
}

function text(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (value.length > 1024) throw adminError.invalid(`${name} is longer than 1024 characters`);
  return value;
}

auditRoutes.get("/audit-events", async (c) => {
  await requireIdentityAction(c, "cloudtrail:LookupEvents", null);
  const query = c.req.query();
  const maxResults = query.maxResults === undefined ? DEFAULT_PAGE : Number(query.maxResults);
  if (!(Number.isInteger(maxResults) && maxResults >= 1 && maxResults <= MAX_PAGE))
    throw adminError.invalid(`maxResults must be a whole number from 1 to ${MAX_PAGE}`);
  const token = query.nextToken;
  if (token !== undefined && !/^[1-9]\d{0,15}$/.test(token)) throw adminError.invalid("nextToken is not valid");
  const result = text(query.result, "result");
  const filter: AuditQuery = {
    startTime: time(query.startTime, "startTime"),
    endTime: time(query.endTime, "endTime"),
    actor: text(query.principal, "principal"),
    action: text(query.eventName, "eventName"),
    repository: text(query.repository, "repository"),
    result,
    beforeId: token === undefined ? undefined : Number(token),
    limit: maxResults + 1,
  };
  await flushAggregated(c.get("db"));
  const rows = await queryAuditRecords(c.get("db"), filter);
  const page = rows.slice(0, maxResults);
  const trail = { accountId: c.var.settings.auth.accountId, region: c.var.settings.auth.region };
  const last = page.at(-1);
  return c.json({
    events: page.map((row) => cloudTrailRecord(row, trail)),
    ...(rows.length > maxResults && last !== undefined ? { nextToken: String(last.id) } : {}),
  });
});
