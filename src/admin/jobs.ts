/**
 * Admin visibility of the background work and of storage:
 *   GET /admin/jobs      what the last lifecycle run did (repositories, images evaluated and
 *                        expired, duration, whether its sweep completed) and the last garbage
 *                        collection (links removed, objects deleted, bytes reclaimed, duration)
 *   GET /admin/storage   bytes linked per repository (each repository counts every blob it
 *                        links; blobs shared between repositories are stored once in R2)
 *   POST /admin/gc       runs garbage collection now (`?graceSeconds=N` overrides
 *                        GC_GRACE_SECONDS for this run) and answers with its report; needs
 *                        `registry:RunGarbageCollection` on `*`
 * The two GETs need `ecr:DescribeRegistry` on `*`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { lastGarbageCollection, runGarbageCollection } from "../gc/collect";
import { lastLifecycleRun } from "../lifecycle/run";
import { storageByRepository } from "../storage/blob-links";
import { requireIdentityAction } from "./authorize";
import { adminError } from "./users";

export const jobRoutes = new Hono<AppEnv>();

jobRoutes.get("/jobs", async (c) => {
  await requireIdentityAction(c, "ecr:DescribeRegistry", null);
  return c.json({ lifecycle: await lastLifecycleRun(c.get("db")), garbageCollection: await lastGarbageCollection(c.get("db")) });
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
  return c.json(await runGarbageCollection(c.env, graceSeconds === undefined ? {} : { graceMs: graceSeconds * 1000 }));
});
