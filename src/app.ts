/**
 * The HTTP application: request-scoped setup, the route groups, and the one place errors are
 * turned into responses.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { admin } from "./admin";
import { tokenRoutes } from "./auth/token-routes";
import { benchRoutes } from "./bench/routes";
import { controlRoutes } from "./control/routes";
import type { AppEnv } from "./app-env";
import { distribution } from "./distribution/routes";
import { EcrError, OciError, RegistryError, renderError } from "./errors";
import { database } from "./storage/database";

const withDatabase = createMiddleware<AppEnv>(async (c, next) => {
  c.set("requestStartedAt", Date.now());
  c.set("db", database(c.env.DB));
  await next();
});

export const app = new Hono<AppEnv>({ strict: false });

app.use("*", withDatabase);
app.route("/v2", distribution);
app.route("/admin", admin);
app.route("/", tokenRoutes);
app.route("/", controlRoutes);
app.route("/_bench", benchRoutes);

app.notFound((c) => renderError(new RegistryError(OciError.NAME_UNKNOWN, `no resource at ${new URL(c.req.url).pathname}`), c.req.method));

app.onError((error, c) => {
  if (error instanceof RegistryError) return renderError(error, c.req.method);
  console.error("unhandled error", c.req.method, new URL(c.req.url).pathname, error);
  // The control plane (POST / with an ECR target) answers in AWS JSON; everything else in OCI JSON.
  const fault = c.req.header("X-Amz-Target") !== undefined ? EcrError.ServerException : OciError.UNKNOWN;
  return renderError(new RegistryError(fault, "internal error"), c.req.method);
});
