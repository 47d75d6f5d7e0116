/**
 * Cron dispatcher: each cron expression in wrangler.toml maps to the jobs it runs.
 * Abandoned upload sessions are already expired by each repository's Durable Object alarm.
 * Lifecycle expiry runs before garbage collection, so what it expires is collected in a later
 * run once the grace period has passed.
 */
import { runGarbageCollection } from "../gc/collect";
import { runLifecycle } from "../lifecycle/run";

type Job = (env: Env, controller: ScheduledController) => Promise<unknown>;

const JOBS: Record<string, readonly Job[]> = {
  "*/15 * * * *": [(env) => runLifecycle(env), (env) => runGarbageCollection(env)],
};

export async function runScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const jobs = JOBS[controller.cron] ?? [];
  // One after the other: lifecycle deletes images first, collection then finds what they left.
  ctx.waitUntil(
    (async () => {
      for (const job of jobs) await job(env, controller);
    })(),
  );
}
