/**
 * The events queue's consumer: "dispatch" fans out undispatched events, "deliver" makes one
 * attempt of a delivery and, when it must be tried again, sends a new message with the
 * backoff's delay (not the queue's retry, which would count against max_retries: the attempt
 * budget is EVENT_DELIVERY_ATTEMPTS, kept in the delivery log). A message whose handling throws
 * is retried by the queue and, past its max_retries (wrangler.toml), lands on the dead-letter
 * queue, whose consumer ends the delivery FAILED; the admin API can replay it.
 */
import { settingsOf } from "../config/load";
import { database } from "../storage/database";
import { deadLetterDelivery } from "../storage/event-records";
import { attemptDelivery } from "./delivery";
import { fanOutEvents } from "./fan-out";
import { parseEventMessage, type EventMessage } from "./messages";

export async function consumeEventBatch(batch: MessageBatch, env: Env): Promise<void> {
  const deadLetters = batch.queue.endsWith("-dlq");
  const settings = settingsOf(env);
  let fannedOut = false;
  for (const message of batch.messages) {
    const parsed = parseEventMessage(message.body);
    if (parsed === null) {
      console.error(
        "events: dropped a message that is not an event message",
        JSON.stringify(message.body).slice(0, 200),
      );
      message.ack();
      continue;
    }
    try {
      if (deadLetters) {
        if (parsed.kind === "deliver")
          await deadLetterDelivery(
            database(env.DB),
            parsed.delivery,
            `the delivery's consumer failed ${message.attempts} times (dead-letter queue)`,
          );
        // A lost dispatch message loses nothing: the cron fans out what is left.
        message.ack();
        continue;
      }
      if (parsed.kind === "dispatch") {
        // One fan-out serves every dispatch message of the batch.
        if (!fannedOut) await fanOutEvents(env);
        fannedOut = true;
        message.ack();
        continue;
      }
      const result = await attemptDelivery(env, settings, parsed.delivery);
      if (result !== null)
        await env.EVENT_QUEUE.send(parsed satisfies EventMessage, { delaySeconds: result.retryInSeconds });
      message.ack();
    } catch (error) {
      console.error("events: a message failed; the queue retries it", error);
      message.retry();
    }
  }
}
