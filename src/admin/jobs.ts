/**
 * Admin visibility of the background work and of storage:
 *   GET /admin/jobs      what the last lifecycle run did (repositories, images evaluated and
 *                        expired, duration, whether its sweep completed)
 *   GET /admin/storage   bytes linked per repository (each repository counts every blob it
 *                        links; blobs shared between repositories are stored once in R2)
 * Both need `ecr:DescribeRegistry` on `*`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { lastLifecycleRun } from "../lifecycle/run";
import { storageByRepository } from "../storage/blob-links";
import { requireIdentityAction } from "./authorize";

export const jobRoutes = new Hono<AppEnv>();

jobRoutes.get("/jobs", async (c) => {
  await requireIdentityAction(c, "ecr:DescribeRegistry", null);
  return c.json({ lifecycle: await lastLifecycleRun(c.get("db")) });
});

jobRoutes.get("/storage", async (c) => {
  await requireIdentityAction(c, "ecr:DescribeRegistry", null);
  return c.json({ repositories: await storageByRepository(c.get("db")) });
});
