/**
 * The console's registry pages, one module each under ./pages/: an image's scan findings, a
 * repository's lifecycle policy and preview, an image's replication status, the pull-through
 * caches, the audit trail, and users with their access keys. Every page needs a session and
 * the action the API would need; every form is a CSRF-checked POST from this origin.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { auditPages } from "./pages/audit";
import { lifecyclePages } from "./pages/lifecycle";
import { pullThroughPages } from "./pages/pull-through";
import { replicationPages } from "./pages/replication";
import { scanPages } from "./pages/scans";
import { userPages } from "./pages/users";

// The section links, for the console home (./auth-pages.tsx) to show as well.
export { ConsoleNav } from "./pages/console-nav";

export const registryPages = new Hono<AppEnv>();

for (const pages of [scanPages, lifecyclePages, replicationPages, pullThroughPages, auditPages, userPages])
  registryPages.route("/", pages);
