/**
 * Worker entry point: the HTTP app, the cron dispatcher and the Durable Object classes.
 */
import { app } from "./app";
import { instrumentEnv } from "./bench/counters";
import { runScheduled } from "./jobs/scheduled";

export { LoginThrottleObject } from "./auth/login-throttle-object";
export { RepositoryObject } from "./repository/repository-object";

export default {
  fetch: (request, env, ctx) => app.fetch(request, instrumentEnv(env), ctx),
  // The jobs are awaited (not left to waitUntil), so a failed job fails the invocation.
  scheduled: (controller, env, _ctx) => runScheduled(controller, instrumentEnv(env)),
} satisfies ExportedHandler<Env>;
