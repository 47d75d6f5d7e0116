/**
 * Cron dispatcher: each cron expression in wrangler.toml maps to the jobs it runs, and the
 * same list serves `POST /admin/jobs/run` (src/admin/jobs.ts), which runs every job now.
 * Abandoned upload sessions are already expired by each repository's Durable Object alarm.
 * Lifecycle expiry runs before garbage collection, so what it expires is collected in a later
 * run once the grace period has passed. The audit export comes last among them, so the records
 * the other jobs just wrote are exported in the same invocation. Replication runs every minute
 * on its own cron.
 */
import { runAuditExport, type AuditExportReport } from "../audit/export";
import { runEvents, type EventsReport } from "../events/run";
import type { Settings } from "../config/settings";
import { replicaBuckets, settingsOf } from "../config/load";
import { runGarbageCollection, type GcReport } from "../gc/collect";
import { runLifecycle, type LifecycleRunReport } from "../lifecycle/run";
import { runReplication, type ReplicationReport } from "../replication/run";
import { runAdvisorySync, type AdvisorySyncReport } from "../scanning/advisory-sync";

type JobReport =
  LifecycleRunReport | GcReport | ReplicationReport | AdvisorySyncReport | AuditExportReport | EventsReport;

/** What one job did: its report and a one-line summary (logged, and shown by `run-jobs`). */
export type JobResult =
  | { job: string; ok: true; durationMs: number; summary: string; report: JobReport }
  | { job: string; ok: false; durationMs: number; summary: string; error: string };

interface Job {
  name: string;
  run(env: Env, settings: Settings): Promise<{ report: JobReport; summary: string }>;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const lifecycle: Job = {
  name: "lifecycle",
  async run(env) {
    const report = await runLifecycle(env);
    const sweep = report.sweepComplete ? "sweep complete" : "sweep continues next run";
    return {
      report,
      summary: `${count(report.repositories, "repository", "repositories")} with a policy, ${count(report.imagesEvaluated, "image")} evaluated, ${report.imagesExpired} expired (${sweep})`,
    };
  },
};

const garbageCollection: Job = {
  name: "garbage-collection",
  async run(env, settings) {
    const report = await runGarbageCollection(env, {
      graceMs: settings.gcGraceMs,
      replicas: replicaBuckets(env, settings),
    });
    const sweep = report.sweepComplete ? "sweep complete" : "sweep continues next run";
    return {
      report,
      summary: `${count(report.linksRemoved, "blob link")} removed, ${count(report.objectsMarked, "object")} marked, ${report.objectsDeleted} deleted (${count(report.bytesReclaimed, "byte")} reclaimed; ${sweep})`,
    };
  },
};

const replication: Job = {
  name: "replication",
  async run(env, settings) {
    const report = await runReplication(env, settings);
    const backlog = report.drained ? "backlog drained" : "backlog continues next run";
    return {
      report,
      summary: `${count(report.attempted, "item")} attempted: ${report.completed} complete, ${report.retrying} to retry, ${report.failed} failed (${count(report.bytesCopied, "byte")} copied, ${count(report.operations, "subrequest")}; ${backlog})`,
    };
  },
};

const advisories: Job = {
  name: "advisories",
  async run(env, settings) {
    const report = await runAdvisorySync(env, settings);
    const fetched = report.sources.reduce((sum, source) => sum + source.fetched, 0);
    const imported = report.sources.reduce((sum, source) => sum + source.imported, 0);
    const failed = report.sources.filter((source) => source.error !== null).map((source) => source.url);
    return {
      report,
      summary: `${count(report.sources.length, "source")}: ${count(fetched, "record")} fetched, ${imported} imported${failed.length > 0 ? `; unreachable: ${failed.join(", ")}` : ""}${report.caughtUp ? "" : " (continues next run)"}`,
    };
  },
};

const audit: Job = {
  name: "audit",
  async run(env, settings) {
    const report = await runAuditExport(env, settings);
    const progress = report.caughtUp ? "caught up" : "continues next run";
    return {
      report,
      summary: `${count(report.exported, "record")} exported in ${count(report.objects, "object")}, ${report.deleted} deleted past retention (${progress})`,
    };
  },
};

const events: Job = {
  name: "events",
  async run(env, settings) {
    const report = await runEvents(env, settings);
    return {
      report,
      summary: `${count(report.fannedOut, "event")} fanned out to ${count(report.deliveriesCreated, "delivery", "deliveries")}, ${report.resent} overdue re-sent, ${report.pruned} pruned past retention`,
    };
  },
};

/**
 * A Map, not an object: the cron string of an invocation can come from a URL under `npm start`
 * (`/cdn-cgi/handler/scheduled?cron=toString`), and an object would answer Object.prototype's.
 */
const JOBS: ReadonlyMap<string, readonly Job[]> = new Map([
  ["*/15 * * * *", [lifecycle, garbageCollection, advisories, audit]],
  // Every minute: replication (a pushed image reaches its destinations within a minute or two),
  // then the events it and the others recorded that no queue message fanned out or delivered.
  ["* * * * *", [replication, events]],
]);

/** Every scheduled job once, in the order the crons list them. */
export const ALL_JOBS: readonly Job[] = [...new Set([...JOBS.values()].flat())];

/**
 * Runs jobs one after the other (lifecycle deletes images first, collection then finds what
 * they left); a failed job is reported and the next one still runs.
 */
export async function runJobs(env: Env, settings: Settings, jobs: readonly Job[]): Promise<JobResult[]> {
  const results: JobResult[] = [];
  for (const job of jobs) {
    const started = Date.now();
    try {
      const { report, summary } = await job.run(env, settings);
      results.push({ job: job.name, ok: true, durationMs: Date.now() - started, summary, report });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      results.push({
        job: job.name,
        ok: false,
        durationMs: Date.now() - started,
        summary: `failed: ${message}`,
        error: message,
      });
    }
  }
  return results;
}

export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const jobs = JOBS.get(controller.cron);
  if (jobs === undefined) {
    console.error(`scheduled: no jobs for cron "${controller.cron}" (src/jobs/scheduled.ts lists them)`);
    return;
  }
  // A malformed setting fails the invocation here, naming the variable.
  const results = await runJobs(env, settingsOf(env), jobs);
  for (const result of results) {
    const line = `scheduled ${result.job}: ${result.summary} in ${result.durationMs} ms`;
    if (result.ok) console.log(line);
    else console.error(line);
  }
  const failed = results.filter((result) => !result.ok);
  // The invocation's outcome says a job failed (Cloudflare's cron events show it).
  if (failed.length > 0)
    throw new Error(`scheduled: ${failed.map((result) => `${result.job} ${result.summary}`).join("; ")}`);
}
