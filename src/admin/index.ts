/**
 * The admin API under `/admin`: every call is authenticated and authorized by policy.
 * Identities, the registry's secrets and its background jobs live here; repositories are
 * managed through the ECR API (CreateRepository, PutImageTagMutability, SetRepositoryPolicy,
 * TagResource, ...), which `npm run admin` signs with SigV4.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { authenticate } from "../auth/middleware";
import { advisoryRoutes } from "./advisories";
import { jobRoutes } from "./jobs";
import { peerAccountRoutes } from "./peer-accounts";
import { pullThroughRoutes } from "./pull-through";
import { replicationRoutes } from "./replication";
import { secretRoutes } from "./secrets";
import { userRoutes } from "./users";

export const admin = new Hono<AppEnv>();
admin.use("*", authenticate);
admin.route("/", userRoutes);
admin.route("/", jobRoutes);
admin.route("/", secretRoutes);
admin.route("/", pullThroughRoutes);
admin.route("/", replicationRoutes);
admin.route("/", peerAccountRoutes);
admin.route("/", advisoryRoutes);
