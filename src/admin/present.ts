/**
 * How the admin API shows stored records: times as ISO 8601 strings (they are epoch
 * milliseconds in D1) and JSON kept as text in D1 (a repository's resource tags) as JSON.
 * Policy documents stay the text that was set, as ECR and IAM return them.
 */
import type { UserRecord } from "../storage/identity-records";
import type { AuditEvent } from "../storage/audit-records";
import { parseStoredFilters } from "../repository/tag-mutability";
import type { RepositoryRow } from "../storage/schema";

export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

export function isoOrNull(epochMs: number | null): string | null {
  return epochMs === null ? null : iso(epochMs);
}

/** A report whose `startedAt` (epoch ms) is shown as an ISO time. */
export function presentRun<T extends { startedAt: number }>(report: T): Omit<T, "startedAt"> & { startedAt: string } {
  return { ...report, startedAt: iso(report.startedAt) };
}

export function presentUser(user: UserRecord) {
  return { ...user, createdAt: iso(user.createdAt) };
}

function parseTags(text: string): Record<string, string> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

export function presentRepository(row: RepositoryRow) {
  return {
    ...row,
    createdAt: iso(row.createdAt),
    lifecycleEvaluatedAt: isoOrNull(row.lifecycleEvaluatedAt),
    tags: parseTags(row.tags),
    imageTagMutabilityExclusionFilters: parseStoredFilters(row.imageTagMutabilityExclusionFilters),
  };
}

/** An audit event with its time, and the times in its detail (`pushedAt`, ...), as ISO strings. */
export function presentAuditEvent(event: AuditEvent) {
  const detail = Object.fromEntries(
    Object.entries(event.detail).map(([key, value]) => [key, key.endsWith("At") && typeof value === "number" ? iso(value) : value]),
  );
  return { ...event, at: iso(event.at), detail };
}
