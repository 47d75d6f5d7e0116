/**
 * Cron dispatcher: each cron expression in wrangler.toml maps to the jobs it runs.
 * Abandoned upload sessions are already expired by each repository's Durable Object alarm;
 * lifecycle expiry and garbage collection will register here.
 */
type Job = (env: Env, controller: ScheduledController) => Promise<void>;

const JOBS: Record<string, readonly Job[]> = {
  "*/15 * * * *": [],
};

export async function runScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
  const jobs = JOBS[controller.cron] ?? [];
  for (const job of jobs) ctx.waitUntil(job(env, controller));
}
