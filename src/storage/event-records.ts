/**
 * D1 access for registry events (src/events/): the outbox rows, written as statements the
 * writers put in the same batch as the change they report; the fan-out to subscriptions; the
 * delivery log, whose rows are claimed with a lease so two consumers never send one delivery
 * at once; subscriptions; and pruning past the retention.
 */
import { and, asc, desc, eq, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { EventEnvelope } from "../events/envelope";
import type { Database } from "./database";
import { type DeliveryStatus, eventDeliveries, eventSubscriptions, registryEvents } from "./schema";

function eventTime(envelope: EventEnvelope): number {
  return Date.parse(envelope.time);
}

function repositoryOf(envelope: EventEnvelope): string | null {
  const name = envelope.detail["repository-name"];
  return typeof name === "string" ? name : null;
}

/**
 * One statement inserting the events (any number: the rows travel as one JSON parameter), to
 * run in the batch of the change they report; null when there are none.
 */
export function insertEvents(db: Database, envelopes: readonly EventEnvelope[]) {
  if (envelopes.length === 0) return null;
  const rows = JSON.stringify(
    envelopes.map((envelope) => ({
      id: envelope.id,
      at: eventTime(envelope),
      type: envelope["detail-type"],
      repository: repositoryOf(envelope),
      body: JSON.stringify(envelope),
    })),
  );
  // Every column in the table's order (drizzle inserts a SELECT into all of them); id is assigned.
  return db.insert(registryEvents).select(sql`
    SELECT NULL, json_extract(value, '$.id'), json_extract(value, '$.at'), json_extract(value, '$.type'),
      json_extract(value, '$.repository'), json_extract(value, '$.body'), NULL
    FROM json_each(${rows}) WHERE true`);
}

/**
 * One statement inserting the event only when `condition` holds as the batch runs (before the
 * change, when put first), with fields the batch knows better filled in by SQL: the image
 * digest (`digest`, e.g. of the tag being deleted) and the image's tags (`tags`, a JSON array).
 */
export function insertEventWhere(
  db: Database,
  envelope: EventEnvelope,
  condition: SQL,
  fill: { digest?: SQL; tags?: SQL } = {},
) {
  let body = sql`${JSON.stringify(envelope)}`;
  if (fill.digest !== undefined) body = sql`json_set(${body}, '$.detail."image-digest"', (${fill.digest}))`;
  if (fill.tags !== undefined) body = sql`json_set(${body}, '$.detail."image-tags"', json((${fill.tags})))`;
  return db.insert(registryEvents).select(sql`
    SELECT NULL, ${envelope.id}, ${eventTime(envelope)}, ${envelope["detail-type"]}, ${repositoryOf(envelope)},
      ${body}, NULL
    WHERE ${condition}`);
}

// Fan-out.

export interface PendingEvent {
  id: number;
  body: string;
}

/** Events not yet fanned out, oldest first. */
export async function undispatchedEvents(db: Database, limit: number): Promise<PendingEvent[]> {
  return db
    .select({ id: registryEvents.id, body: registryEvents.body })
    .from(registryEvents)
    .where(isNull(registryEvents.dispatchedAt))
    .orderBy(asc(registryEvents.id))
    .limit(limit);
}

/**
 * Records the deliveries of a fan-out and marks its events dispatched, in one batch. A delivery
 * already recorded (another fan-out of the same event, running at the same time) is left to
 * whoever recorded it. Returns the ids of the deliveries this fan-out created, for the caller
 * to send (a lost message is re-sent by the events job).
 */
export async function recordFanOut(
  db: Database,
  eventIds: readonly number[],
  deliveries: readonly { eventId: number; subscription: string }[],
  now: number,
): Promise<number[]> {
  const markDispatched = db
    .update(registryEvents)
    .set({ dispatchedAt: now })
    .where(sql`${registryEvents.id} IN (SELECT value FROM json_each(${JSON.stringify(eventIds)}))`);
  if (deliveries.length === 0) {
    await markDispatched;
    return [];
  }
  const insert = db
    .insert(eventDeliveries)
    .select(
      sql`
    SELECT NULL, json_extract(value, '$.eventId'), json_extract(value, '$.subscription'), 'PENDING', 0, ${now},
      NULL, NULL, NULL, NULL, ${now}
    FROM json_each(${JSON.stringify(deliveries)}) WHERE true
    ON CONFLICT (event_id, subscription) DO NOTHING`,
    )
    .returning({ id: eventDeliveries.id });
  const [created] = await db.batch([insert, markDispatched]);
  return created.map((row) => row.id);
}

// Deliveries.

export interface ClaimedDelivery {
  id: number;
  attempts: number;
  subscription: string;
  endpoint: string | null;
  secretSealed: string | null;
  enabled: boolean | null;
  body: string;
}

/**
 * Claims a pending delivery whose time has come for one attempt: counts the attempt and leases
 * it for `leaseMs`, so a second message for it (a retry sent twice, the cron's re-send) finds
 * it taken. Null when it is not pending, not due, or already leased.
 */
export async function claimDelivery(
  db: Database,
  id: number,
  now: number,
  leaseMs: number,
): Promise<ClaimedDelivery | null> {
  const claimed = await db
    .update(eventDeliveries)
    .set({ attempts: sql`${eventDeliveries.attempts} + 1`, leaseUntil: now + leaseMs, lastAttemptAt: now })
    .where(
      and(
        eq(eventDeliveries.id, id),
        eq(eventDeliveries.status, "PENDING"),
        or(isNull(eventDeliveries.leaseUntil), lte(eventDeliveries.leaseUntil, now)),
      ),
    )
    .returning({ id: eventDeliveries.id });
  if (claimed.length === 0) return null;
  const [row] = await db
    .select({
      id: eventDeliveries.id,
      attempts: eventDeliveries.attempts,
      subscription: eventDeliveries.subscription,
      endpoint: eventSubscriptions.endpoint,
      secretSealed: eventSubscriptions.secretSealed,
      enabled: eventSubscriptions.enabled,
      body: registryEvents.body,
    })
    .from(eventDeliveries)
    .innerJoin(registryEvents, eq(registryEvents.id, eventDeliveries.eventId))
    .leftJoin(eventSubscriptions, eq(eventSubscriptions.name, eventDeliveries.subscription))
    .where(eq(eventDeliveries.id, id));
  return row ?? null;
}

export type DeliveryOutcome =
  | { status: "DELIVERED"; httpStatus: number }
  | { status: "PENDING"; retryAt: number; httpStatus: number | null; error: string }
  | { status: "FAILED"; httpStatus: number | null; error: string };

export async function settleDelivery(db: Database, id: number, outcome: DeliveryOutcome, now: number): Promise<void> {
  await db
    .update(eventDeliveries)
    .set(
      outcome.status === "DELIVERED"
        ? { status: "DELIVERED", deliveredAt: now, lastStatus: outcome.httpStatus, lastError: null, leaseUntil: null }
        : outcome.status === "PENDING"
          ? { leaseUntil: outcome.retryAt, lastStatus: outcome.httpStatus, lastError: outcome.error }
          : { status: "FAILED", leaseUntil: null, lastStatus: outcome.httpStatus, lastError: outcome.error },
    )
    .where(eq(eventDeliveries.id, id));
}

/** Ends a delivery the queue gave up on (its dead-letter queue), unless it ended meanwhile. */
export async function deadLetterDelivery(db: Database, id: number, error: string): Promise<void> {
  await db
    .update(eventDeliveries)
    .set({ status: "FAILED", leaseUntil: null, lastError: error })
    .where(and(eq(eventDeliveries.id, id), eq(eventDeliveries.status, "PENDING")));
}

/** Pending deliveries overdue by more than `graceMs`: their queue message was lost (a restart). */
export async function overdueDeliveries(db: Database, now: number, graceMs: number, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: eventDeliveries.id })
    .from(eventDeliveries)
    .where(
      and(
        eq(eventDeliveries.status, "PENDING"),
        or(isNull(eventDeliveries.leaseUntil), lt(eventDeliveries.leaseUntil, now - graceMs)),
      ),
    )
    .orderBy(asc(eventDeliveries.id))
    .limit(limit);
  return rows.map((row) => row.id);
}

/** Makes a delivery pending again with a fresh attempt budget; null unless it had ended. */
export async function replayDelivery(db: Database, id: number, now: number): Promise<DeliveryRecord | null> {
  const [row] = await db
    .update(eventDeliveries)
    .set({ status: "PENDING", attempts: 0, leaseUntil: now, deliveredAt: null })
    .where(and(eq(eventDeliveries.id, id), sql`${eventDeliveries.status} <> 'PENDING'`))
    .returning({ id: eventDeliveries.id });
  return row === undefined ? null : findDelivery(db, id);
}

export interface DeliveryRecord {
  id: number;
  eventId: string;
  detailType: string;
  repository: string | null;
  subscription: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
}

const deliveryColumns = {
  id: eventDeliveries.id,
  eventId: registryEvents.eventId,
  detailType: registryEvents.detailType,
  repository: registryEvents.repository,
  subscription: eventDeliveries.subscription,
  status: eventDeliveries.status,
  attempts: eventDeliveries.attempts,
  nextAttemptAt: eventDeliveries.leaseUntil,
  lastAttemptAt: eventDeliveries.lastAttemptAt,
  lastStatus: eventDeliveries.lastStatus,
  lastError: eventDeliveries.lastError,
  deliveredAt: eventDeliveries.deliveredAt,
  createdAt: eventDeliveries.createdAt,
};

export async function findDelivery(db: Database, id: number): Promise<DeliveryRecord | null> {
  const [row] = await db
    .select(deliveryColumns)
    .from(eventDeliveries)
    .innerJoin(registryEvents, eq(registryEvents.id, eventDeliveries.eventId))
    .where(eq(eventDeliveries.id, id));
  return row ?? null;
}

/** The delivery log, newest first, filtered by subscription and status; `beforeId` pages. */
export async function listDeliveries(
  db: Database,
  filter: { subscription?: string; status?: DeliveryStatus; beforeId?: number; limit: number },
): Promise<DeliveryRecord[]> {
  return db
    .select(deliveryColumns)
    .from(eventDeliveries)
    .innerJoin(registryEvents, eq(registryEvents.id, eventDeliveries.eventId))
    .where(
      and(
        filter.subscription === undefined ? undefined : eq(eventDeliveries.subscription, filter.subscription),
        filter.status === undefined ? undefined : eq(eventDeliveries.status, filter.status),
        filter.beforeId === undefined ? undefined : lt(eventDeliveries.id, filter.beforeId),
      ),
    )
    .orderBy(desc(eventDeliveries.id))
    .limit(filter.limit);
}

/** Recorded events, newest first, by detail type and repository; `beforeId` pages. */
export async function listEvents(
  db: Database,
  filter: { detailType?: string; repository?: string; beforeId?: number; limit: number },
): Promise<{ id: number; body: string }[]> {
  return db
    .select({ id: registryEvents.id, body: registryEvents.body })
    .from(registryEvents)
    .where(
      and(
        filter.detailType === undefined ? undefined : eq(registryEvents.detailType, filter.detailType),
        filter.repository === undefined ? undefined : eq(registryEvents.repository, filter.repository),
        filter.beforeId === undefined ? undefined : lt(registryEvents.id, filter.beforeId),
      ),
    )
    .orderBy(desc(registryEvents.id))
    .limit(filter.limit);
}

/** An event as delivered (its envelope), by its id. */
export async function findEventBody(db: Database, eventId: string): Promise<string | null> {
  const [row] = await db
    .select({ body: registryEvents.body })
    .from(registryEvents)
    .where(eq(registryEvents.eventId, eventId));
  return row?.body ?? null;
}

// Subscriptions.

export type SubscriptionRecord = typeof eventSubscriptions.$inferSelect;

export async function putSubscription(db: Database, subscription: SubscriptionRecord): Promise<void> {
  await db
    .insert(eventSubscriptions)
    .values(subscription)
    .onConflictDoUpdate({
      target: eventSubscriptions.name,
      set: {
        endpoint: subscription.endpoint,
        pattern: subscription.pattern,
        secretSealed: subscription.secretSealed,
        enabled: subscription.enabled,
        updatedAt: subscription.updatedAt,
      },
    });
}

export async function findSubscription(db: Database, name: string): Promise<SubscriptionRecord | null> {
  const [row] = await db.select().from(eventSubscriptions).where(eq(eventSubscriptions.name, name));
  return row ?? null;
}

export async function listSubscriptions(db: Database, enabledOnly = false): Promise<SubscriptionRecord[]> {
  return db
    .select()
    .from(eventSubscriptions)
    .where(enabledOnly ? eq(eventSubscriptions.enabled, true) : undefined)
    .orderBy(asc(eventSubscriptions.name));
}

/** Deletes the subscription and its delivery log; false when there was none. */
export async function deleteSubscription(db: Database, name: string): Promise<boolean> {
  const removed = await db
    .delete(eventSubscriptions)
    .where(eq(eventSubscriptions.name, name))
    .returning({ name: eventSubscriptions.name });
  return removed.length > 0;
}

/** Deletes events older than `before` that were fanned out and have no pending delivery (their log goes too). */
export async function pruneEvents(db: Database, before: number): Promise<number> {
  const result = await db.run(sql`
    DELETE FROM registry_events
    WHERE at < ${before} AND dispatched_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = registry_events.id AND d.status = 'PENDING')`);
  return result.meta.changes;
}
