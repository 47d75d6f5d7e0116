/**
 * The admin API under `/admin`: every call is authenticated and authorized by policy.
 * Identities, the registry's secrets and its background jobs live here; repositories are
 * managed through the ECR API (CreateRepository, PutImageTagMutability, SetRepositoryPolicy,
 * TagResource, ...), which `npm run admin` signs with SigV4.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { noteAudit } from "../audit/capture";
import { authenticate } from "../auth/middleware";
import { advisoryRoutes } from "./advisories";
import { auditRoutes } from "./audit";
import { eventRoutes } from "./events";
import { jobRoutes } from "./jobs";
import { peerAccountRoutes } from "./peer-accounts";
import { pullThroughRoutes } from "./pull-through";
import { replicationRoutes } from "./replication";
import { secretRoutes } from "./secrets";
import { userRoutes } from "./users";

export const admin = new Hono<AppEnv>();
// Every admin call is on the audit trail, named by the action its authorization asks for
// (authorize.ts), else by its method and path; the query and any JSON body are its parameters.
admin.use(
  "*",
  createMiddleware<AppEnv>(async (c, next) => {
    const url = new URL(c.req.url);
    noteAudit(c, {
      source: "registry-admin",
      requestParameters: {
        path: url.pathname,
        ...(url.search === "" ? {} : { query: Object.fromEntries(url.searchParams) }),
      },
    });
    await next();
    if (c.var.audit.eventName === undefined)
      noteAudit(c, { eventName: `${c.req.method} ${url.pathname}`.slice(0, 200) });
  }),
);
admin.use("*", authenticate);
admin.route("/", userRoutes);
admin.route("/", jobRoutes);
admin.route("/", secretRoutes);
admin.route("/", pullThroughRoutes);
admin.route("/", replicationRoutes);
admin.route("/", peerAccountRoutes);
admin.route("/", advisoryRoutes);
admin.route("/", auditRoutes);
admin.route("/", eventRoutes);
