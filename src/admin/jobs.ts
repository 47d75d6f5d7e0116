/**
 * Admin visibility of the background work and of storage:
 *   GET /admin/jobs      what the last lifecycle run did (repositories, images evaluated and
 *                        expired, duration, whether its sweep completed) and the last garbage
 *                        collection (links removed, objects deleted, bytes reclaimed, duration)
 *   GET /admin/storage   bytes linked per repository (each repository counts every blob it
 *                        links; blobs shared between repositories are stored once in R2)
 *   POST /admin/jobs/run runs every scheduled job now (the cron's list, src/jobs/scheduled.ts),
 *                        or those named by `?job=<name>` (lifecycle, garbage-collection,
 *                        replication), one after the other, and answers with what each did; needs
 *                        `registry:RunScheduledJobs` on `*` (`npm run admin -- run-jobs`)
 *   POST /admin/gc       runs garbage collection now (`?graceSeconds=N` overrides
 *                        GC_GRACE_SECONDS for this run) and answers with its report; needs
 *                        `registry:RunGarbageCollection` on `*`
 *   GET /admin/audit-events?repository=<name>[&limit=N]
 *                        who did what to the repository's images, oldest first (lifecycle
 *                        expiries, garbage collection, pull-through imports), at most N (100)
 * The GETs need `ecr:DescribeRegistry` on `*`. Times are ISO 8601 strings.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { replicaBuckets } from "../config/load";
import { lastGarbageCollection, runGarbageCollection } from "../gc/collect";
import { ALL_JOBS, runJobs } from "../jobs/scheduled";
import { lastLifecycleRun } from "../lifecycle/run";
import { storageByRepository } from "../storage/blob-links";
import { requireIdentityAction } from "./authorize";
import { presentRun } from "./present";
import { adminError } from "./input";

export const jobRoutes = new Hono<AppEnv>();

jobRoutes.get("/jobs", async (c) => {
  await requireIdentityAction(c, "ecr:DescribeRegistry", null);
  const [lifecycle, garbageCollection] = await Promise.all([
    lastLifecycleRun(c.get("db")),
    lastGarbageCollection(c.get("db")),
  ]);
  return c.json({
    lifecycle: lifecycle === null ? null : presentRun(lifecycle),
    garbageCollection: garbageCollection === null ? null : presentRun(garbageCollection),
  });
});

jobRoutes.post("/jobs/run", async (c) => {
  await requireIdentityAction(c, "registry:RunScheduledJobs", null);
  // `?job=<name>` (repeatable) runs only those jobs, in the list's order.
  const named = c.req.queries("job") ?? [];
  const unknown = named.filter((name) => !ALL_JOBS.some((job) => job.name === name));
  if (unknown.length > 0)
    throw adminError.invalid(
      `no scheduled job is named ${unknown.join(", ")} (the jobs: ${ALL_JOBS.map((job) => job.name).join(", ")})`,
    );
  const jobs = named.length === 0 ? ALL_JOBS : ALL_JOBS.filter((job) => named.includes(job.name));
  const results = await runJobs(c.env, c.var.settings, jobs);
  return c.json({
    jobs: results.map((result) => (result.ok ? { ...result, report: presentRun(result.report) } : result)),
  });
});

jobRoutes.get("/storage", async (c) => {
  await requireIdentityAction(c, "ecr:DescribeRegistry", null);
  return c.json({ repositories: await storageByRepository(c.get("db")) });
});

jobRoutes.post("/gc", async (c) => {
  await requireIdentityAction(c, "registry:RunGarbageCollection", null);
  const grace = c.req.query("graceSeconds");
  const graceSeconds = grace === undefined ? undefined : Number(grace);
  if (graceSeconds !== undefined && !(Number.isInteger(graceSeconds) && graceSeconds >= 0)) {
    throw adminError.invalid("graceSeconds must be a whole number of seconds, 0 or more");
  }
  return c.json(
    presentRun(
      await runGarbageCollection(c.env, {
        graceMs: graceSeconds === undefined ? c.var.settings.gcGraceMs : graceSeconds * 1000,
        replicas: replicaBuckets(c.env, c.var.settings),
      }),
    ),
  );
});
