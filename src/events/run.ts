/**
 * The events job (every minute, with replication): fans out events no "dispatch" message
 * reached, re-sends deliveries overdue by more than a minute (their message was lost to a
 * restart, or never sent), and deletes events and their delivery log past AUDIT_RETENTION_DAYS.
 */
import type { Settings } from "../config/settings";
import { database } from "../storage/database";
import { overdueDeliveries, pruneEvents } from "../storage/event-records";
import { fanOutEvents, sendDeliveries } from "./fan-out";

/** A delivery this late past its time has lost its message (a queued message arrives well within it). */
const OVERDUE_GRACE_MS = 60_000;
const RESEND_LIMIT = 500;

export interface EventsReport {
  startedAt: number;
  fannedOut: number;
  deliveriesCreated: number;
  resent: number;
  pruned: number;
}

export async function runEvents(env: Env, settings: Settings): Promise<EventsReport> {
  const startedAt = Date.now();
  const db = database(env.DB);
  const fanOut = await fanOutEvents(env);
  const overdue = await overdueDeliveries(db, Date.now(), OVERDUE_GRACE_MS, RESEND_LIMIT);
  await sendDeliveries(env, overdue);
  const pruned = await pruneEvents(db, Date.now() - settings.auditRetentionMs);
  return {
    startedAt,
    fannedOut: fanOut.events,
    deliveriesCreated: fanOut.deliveries,
    resent: overdue.length,
    pruned,
  };
}
