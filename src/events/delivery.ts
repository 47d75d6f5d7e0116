/**
 * One attempt of one delivery: claim it (a lease, so no two consumers send it at once), sign
 * the event's envelope per the Standard Webhooks spec with the subscription's secret
 * (`webhook-id` is the event's id, the receiver's idempotency key; `webhook-timestamp`;
 * `webhook-signature`), POST it, and settle: DELIVERED on a 2xx, otherwise PENDING until the
 * retry's time, or FAILED once EVENT_DELIVERY_ATTEMPTS attempts are spent (the dead-letter
 * log, from which the admin API replays).
 */
import { Webhook } from "standardwebhooks";
import type { Settings } from "../config/settings";
import { authConfig } from "../auth/config";
import { openSecret } from "../auth/sealed-secrets";
import { database } from "../storage/database";
import { claimDelivery, settleDelivery, type DeliveryOutcome } from "../storage/event-records";
import { retryWaitMs } from "./backoff";

/** How long an endpoint may take to answer. */
const REQUEST_TIMEOUT_MS = 10_000;
/** An attempt's lease: longer than the request may take. */
const ATTEMPT_LEASE_MS = 60_000;
const MAX_ERROR_TEXT = 500;

/** What the consumer does with the message: nothing more, or send it again after `seconds`. */
export type AttemptResult = { retryInSeconds: number } | null;

export async function attemptDelivery(env: Env, settings: Settings, id: number): Promise<AttemptResult> {
  const db = database(env.DB);
  const now = Date.now();
  const delivery = await claimDelivery(db, id, now, ATTEMPT_LEASE_MS);
  if (delivery === null) return null;
  const fail = async (error: string, httpStatus: number | null): Promise<AttemptResult> => {
    const spent = delivery.attempts >= settings.eventDeliveryAttempts;
    const wait = retryWaitMs(settings.eventRetryMs, delivery.attempts, Math.random());
    const outcome: DeliveryOutcome = spent
      ? { status: "FAILED", httpStatus, error: `${error} (after ${delivery.attempts} attempts)` }
      : { status: "PENDING", retryAt: Date.now() + wait, httpStatus, error };
    await settleDelivery(db, id, outcome, Date.now());
    return spent ? null : { retryInSeconds: Math.max(1, Math.ceil(wait / 1000)) };
  };
  if (delivery.endpoint === null || delivery.secretSealed === null || delivery.enabled !== true) {
    await settleDelivery(db, id, { status: "FAILED", httpStatus: null, error: "the subscription is disabled" }, now);
    return null;
  }
  const { secretsKey } = await authConfig(settings.auth);
  const secret =
    secretsKey === null
      ? null
      : await openSecret(secretsKey, subscriptionSecretContext(delivery.subscription), delivery.secretSealed);
  if (secret === null) return fail("the subscription's secret cannot be opened (REGISTRY_SECRETS_KEY changed?)", null);

  const eventId = (JSON.parse(delivery.body) as { id: string }).id;
  const sentAt = new Date();
  const signature = new Webhook(secret).sign(eventId, sentAt, delivery.body);
  let response: Response;
  try {
    response = await fetch(delivery.endpoint, {
      method: "POST",
      body: delivery.body,
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "edge-registry-webhooks/1",
        "webhook-id": eventId,
        "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
        "webhook-signature": signature,
      },
    });
  } catch (error) {
    return fail(`the endpoint could not be reached: ${String(error).slice(0, MAX_ERROR_TEXT)}`, null);
  }
  // The body is not needed; cancelling it frees the connection.
  await response.body?.cancel();
  if (response.status >= 200 && response.status < 300) {
    await settleDelivery(db, id, { status: "DELIVERED", httpStatus: response.status }, Date.now());
    return null;
  }
  return fail(`the endpoint answered ${response.status}`, response.status);
}

/** The context a subscription's secret is sealed under (src/auth/sealed-secrets.ts binds each to its name). */
export function subscriptionSecretContext(name: string): string {
  return `event-subscription/${name}`;
}
