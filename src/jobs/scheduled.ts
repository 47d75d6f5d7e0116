/**
 * Cron dispatcher: each cron expression in wrangler.toml maps to the jobs it runs.
 * Abandoned upload sessions are already expired by each repository's Durable Object alarm;
 * garbage collection will register here.
 */
import { runLifecycle } from "../lifecycle/run";

type Job = (env: Env, controller: ScheduledController) => Promise<unknown>;

const JOBS: Record<string, readonly Job[]> = {
  "*/15 * * * *": [(env) => runLifecycle(env)],
};

export async function runScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const jobs = JOBS[controller.cron] ?? [];
  for (const job of jobs) ctx.waitUntil(job(env, controller));
}
