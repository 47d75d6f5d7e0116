/**
 * How the admin API shows stored records: times as ISO 8601 strings (they are epoch
 * milliseconds in D1).
 */
import type { UserRecord } from "../storage/identity-records";

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
