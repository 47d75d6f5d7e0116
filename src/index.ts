/**
 * Worker entry point: the HTTP app, the cron dispatcher and the Durable Object classes.
 */
import { app } from "./app";
import { instrumentEnv } from "./bench/counters";
import { withSimulatedGeography } from "./bench/simulated-geography";
import { runScheduled } from "./jobs/scheduled";
import { consumeEventBatch } from "./events/consumer";
import { consumeScanBatch } from "./scanning/consumer";

export { LoginThrottleObject } from "./auth/login-throttle-object";
export { RepositoryObject } from "./repository/repository-object";

/** The events queue's name (and, with `-dlq`, its dead-letter queue's) in wrangler.toml. */
const EVENTS_QUEUE = "edge-registry-events";

export default {
  // Simulated geography (benchmarks and tests only) wraps the bindings per request; otherwise untouched.
  fetch: (request, env, ctx) =>
    withSimulatedGeography(request, instrumentEnv(env), (simulated, simulatedEnv) =>
      Promise.resolve(app.fetch(simulated, simulatedEnv, ctx)),
    ),
  // The jobs are awaited (not left to waitUntil), so a failed job fails the invocation.
  scheduled: (controller, env, _ctx) => runScheduled(controller, instrumentEnv(env)),
  // The scanning and events queues and their dead-letter queues (wrangler.toml [[queues.consumers]]).
  queue: (batch, env) =>
    batch.queue.startsWith(EVENTS_QUEUE)
      ? consumeEventBatch(batch, instrumentEnv(env))
      : consumeScanBatch(batch, instrumentEnv(env)),
} satisfies ExportedHandler<Env>;
