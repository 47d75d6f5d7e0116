/**
 * The admin API under `/admin`: every call is authenticated and authorized by policy.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { authenticate } from "../auth/middleware";
import { jobRoutes } from "./jobs";
import { pullThroughRoutes } from "./pull-through";
import { repositoryRoutes } from "./repositories";
import { secretRoutes } from "./secrets";
import { userRoutes } from "./users";

export const admin = new Hono<AppEnv>();
admin.use("*", authenticate);
admin.route("/", userRoutes);
admin.route("/", repositoryRoutes);
admin.route("/", jobRoutes);
admin.route("/", secretRoutes);
admin.route("/", pullThroughRoutes);
