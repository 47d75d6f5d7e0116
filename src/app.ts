/**
 * The HTTP application: request-scoped setup, the route groups, and the one place errors are
 * turned into responses.
 */
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { admin } from "./admin";
import { withAuditTrail } from "./audit/capture";
import { tokenRoutes } from "./auth/token-routes";
import { benchRoutes } from "./bench/routes";
import { BoundedMap } from "./bounded-map";
import { web } from "./console";
import { controlRoutes } from "./control/routes";
import type { AppEnv } from "./app-env";
import { settingsOf } from "./config/load";
import { distribution } from "./distribution/routes";
import { ConfigurationError, EcrError, OciError, RegistryError, renderError } from "./errors";
import { database, nearestReplica } from "./storage/database";

/** The header every response carries its request id in, as ECR's answers do. */
export const REQUEST_ID_HEADER = "x-amzn-RequestId";

/**
 * Gives the request an id and every response the header, errors included (onError's response
 * is in place when next() returns), so a user's failed call can be found by its id.
 */
const withRequestId = createMiddleware<AppEnv>(async (c, next) => {
  const id = crypto.randomUUID();
  c.set("requestId", id);
  await next();
  try {
    c.res.headers.set(REQUEST_ID_HEADER, id);
  } catch {
    // A response whose headers are immutable (one passed through from a fetch): copy it.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(REQUEST_ID_HEADER, id);
  }
});

const withDatabase = createMiddleware<AppEnv>(async (c, next) => {
  c.set("requestStartedAt", Date.now());
  // A malformed setting throws here: every request answers 503 naming it (onError below).
  c.set("settings", settingsOf(c.env));
  c.set("db", database(c.env.DB));
  c.set("nearDb", nearestReplica(c.env.DB));
  await next();
});

export const app = new Hono<AppEnv>({ strict: false });

app.use("*", withRequestId);
app.use("*", withDatabase);
app.use("*", withAuditTrail);
app.route("/v2", distribution);
app.route("/admin", admin);
app.route("/", tokenRoutes);
app.route("/", controlRoutes);
app.route("/_bench", benchRoutes);
app.route("/", web);

app.notFound((c) =>
  renderError(new RegistryError(OciError.NOT_FOUND, `no resource at ${new URL(c.req.url).pathname}`), c.req.method),
);

app.onError((error, c) => {
  if (error instanceof RegistryError) return renderError(error, c.req.method);
  // The control plane (POST / with an ECR target) answers in AWS JSON; everything else in OCI JSON.
  const control = c.req.header("X-Amz-Target") !== undefined;
  if (error instanceof ConfigurationError) {
    logMisconfiguration(error.message);
    return renderError(
      new RegistryError(
        control ? EcrError.Misconfigured : OciError.MISCONFIGURED,
        `the registry is misconfigured: ${error.message}`,
      ),
      c.req.method,
    );
  }
  console.error("unhandled error", c.req.method, new URL(c.req.url).pathname, error);
  return renderError(
    new RegistryError(control ? EcrError.ServerException : OciError.UNKNOWN, "internal error"),
    c.req.method,
  );
});

const loggedMisconfigurations = new BoundedMap<string, true>(16);

/** Once per isolate and problem: every request would fail the same way. */
function logMisconfiguration(message: string): void {
  if (loggedMisconfigurations.has(message)) return;
  loggedMisconfigurations.set(message, true);
  console.error(`the registry is misconfigured: ${message}`);
}
