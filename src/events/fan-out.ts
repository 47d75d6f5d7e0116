/**
 * The fan-out: each event not yet dispatched gets one delivery per enabled subscription whose
 * EventBridge pattern it matches, recorded with the event marked dispatched in one D1 batch,
 * then one "deliver" message per pending delivery. Run by the "dispatch" message a write sends
 * and by the every-minute cron, so an event recorded just before a crash is still delivered.
 */
import { database } from "../storage/database";
import { listSubscriptions, recordFanOut, undispatchedEvents } from "../storage/event-records";
import type { EventMessage } from "./messages";
import { matchesEvent, parseEventPattern } from "./pattern";

/** Events fanned out per round; a run repeats rounds until none is left or `maxRounds`. */
const EVENTS_PER_ROUND = 100;

export interface FanOutReport {
  events: number;
  deliveries: number;
}

export async function fanOutEvents(env: Env, maxRounds = 10): Promise<FanOutReport> {
  const db = database(env.DB);
  const report: FanOutReport = { events: 0, deliveries: 0 };
  for (let round = 0; round < maxRounds; round++) {
    const events = await undispatchedEvents(db, EVENTS_PER_ROUND);
    if (events.length === 0) break;
    const subscriptions = (await listSubscriptions(db, true)).flatMap((subscription) => {
      const parsed = parseEventPattern(JSON.parse(subscription.pattern));
      return parsed.ok ? [{ name: subscription.name, pattern: parsed.pattern }] : [];
    });
    const deliveries = events.flatMap((event) => {
      const envelope: unknown = JSON.parse(event.body);
      return subscriptions
        .filter((subscription) => matchesEvent(subscription.pattern, envelope))
        .map((subscription) => ({ eventId: event.id, subscription: subscription.name }));
    });
    const pending = await recordFanOut(
      db,
      events.map((event) => event.id),
      deliveries,
      Date.now(),
    );
    await sendDeliveries(env, pending);
    report.events += events.length;
    report.deliveries += deliveries.length;
    if (events.length < EVENTS_PER_ROUND) break;
  }
  return report;
}

/** One "deliver" message per delivery, in batches of the queue's limit (100 messages). */
export async function sendDeliveries(env: Env, ids: readonly number[]): Promise<void> {
  for (let start = 0; start < ids.length; start += 100) {
    await env.EVENT_QUEUE.sendBatch(
      ids.slice(start, start + 100).map((delivery) => ({ body: { kind: "deliver", delivery } satisfies EventMessage })),
    );
  }
}
