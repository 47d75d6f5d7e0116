/**
 * How the admin API shows stored records: times as ISO 8601 strings (they are epoch
 * milliseconds in D1).
 */
import type { UserRecord } from "../storage/identity-records";
import type { AuditEvent } from "../storage/audit-records";

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

/** An audit event with its time, and the times in its detail (`pushedAt`, ...), as ISO strings. */
export function presentAuditEvent(event: AuditEvent) {
  const detail = Object.fromEntries(
    Object.entries(event.detail).map(([key, value]) => [
      key,
      key.endsWith("At") && typeof value === "number" ? iso(value) : value,
    ]),
  );
  return { ...event, at: iso(event.at), detail };
}
