// The local stand-in for Cloudflare's cron triggers: `npm start` runs each cron of
// wrangler.toml's `[triggers] crons` on its schedule (UTC, scripts/cron.mjs), calling the
// Worker's scheduled handler with that cron, as Cloudflare does. One run of a cron at a time:
// the next fire time is computed when a run ends, so a slow run is never overlapped.
// REGISTRY_CRON_INTERVAL_SECONDS (a testing aid) fires every cron every N seconds instead.
import { nextFireTime, parseCron } from "./cron.mjs";

/** Timers longer than this are re-armed (setTimeout overflows past 2^31 ms). */
const MAX_SLEEP_MS = 60 * 60 * 1000;

/**
 * Starts the schedule. `fire(cron, scheduledTime)` runs the handler and resolves to its
 * outcome ("ok", "exception", ...); `log(line)` prints one line per run. Throws CronError for
 * an expression it cannot run. Returns { next(cron), stop() }.
 */
export function startScheduler({ crons, fire, log, intervalSeconds = null }) {
  const schedules = crons.map((cron) => ({ cron, schedule: parseCron(cron), timer: null, nextAt: null }));
  let stopped = false;

  const nextTime = (entry) =>
    intervalSeconds === null
      ? (nextFireTime(entry.schedule, Date.now())?.getTime() ?? null)
      : Date.now() + intervalSeconds * 1000;

  function arm(entry) {
    if (stopped) return;
    entry.nextAt = nextTime(entry);
    if (entry.nextAt === null) {
      log(`[cron] ${entry.cron} never fires; not scheduled`);
      return;
    }
    wait(entry);
  }

  function wait(entry) {
    if (stopped) return;
    const delay = entry.nextAt - Date.now();
    if (delay > MAX_SLEEP_MS) {
      entry.timer = setTimeout(() => wait(entry), MAX_SLEEP_MS);
      return;
    }
    entry.timer = setTimeout(() => run(entry), Math.max(0, delay));
  }

  async function run(entry) {
    if (stopped) return;
    const scheduledTime = entry.nextAt;
    const started = Date.now();
    let outcome;
    try {
      outcome = await fire(entry.cron, scheduledTime);
    } catch (error) {
      outcome = `failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (stopped) return;
    const detail = outcome === "ok" ? "" : outcome === "exception" ? " (the Worker's error is logged above)" : "";
    log(
      `[cron] ${entry.cron} at ${new Date(scheduledTime).toISOString()}: ${outcome} in ${Date.now() - started} ms${detail}`,
    );
    arm(entry);
  }

  for (const entry of schedules) arm(entry);

  return {
    /** When `cron` fires next (epoch ms), or null. */
    next: (cron) => schedules.find((entry) => entry.cron === cron)?.nextAt ?? null,
    stop() {
      stopped = true;
      for (const entry of schedules) clearTimeout(entry.timer);
    },
  };
}
