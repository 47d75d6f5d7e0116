/**
 * The Docker token service: `GET /token` (Basic credentials or anonymous, repeated `scope=`)
 * and the OAuth2 `POST /token` form (password and refresh_token grants), plus the JWKS of
 * the verification keys. The granted access is the intersection of what was asked and what
 * policy allows; an empty grant is not an error here, the registry refuses later.
 */
import { noteAudit } from "../audit/capture";
import { keptAccessKeyId } from "../audit/record";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppContext, AppEnv } from "../app-env";
import { isValidRepositoryName } from "../oci/grammar";
import { OciError, RegistryError, TokenError } from "../errors";
import { findRepositoryAccessFacts } from "../storage/repository-records";
import { ACCESS_CLASSES, CLASS_ACTIONS, parseScopes, type AccessClass, type Scope } from "./access";
import type { AccessEntry, Principal } from "./caller";
import { authConfig, type AuthConfig } from "./config";
import { resourceFor } from "./authorizer";
import { authorize, requestFacts } from "./decision";
import { admitLogin, loginThrottles, recordLoginFailure } from "./login-guard";
import { authenticateBasic, decodeBasic, loadTokenPrincipal } from "./principals";
import { issueLoginToken, issueRegistryToken, REGISTRY_TOKEN_SECONDS, verifyLoginToken } from "./tokens";

export const tokenRoutes = new Hono<AppEnv>();

// Token grants are on the audit trail as GetAuthorizationToken: counted per principal and
// minute like pulls (every client pull starts with one), refusals one record each.
tokenRoutes.use(
  "/token",
  createMiddleware<AppEnv>(async (c, next) => {
    noteAudit(c, {
      eventName: "GetAuthorizationToken",
      source: "registry-token",
      aggregate: true,
      readOnly: true,
      requestParameters: { service: c.req.query("service") ?? null, scope: c.req.queries("scope") ?? [] },
    });
    await next();
  }),
);

function invalidCredentials(c: AppContext): RegistryError {
  const realm = `${new URL(c.req.url).origin}/token`;
  return new RegistryError(OciError.UNAUTHORIZED, "invalid credentials", null, {
    "WWW-Authenticate": `Basic realm="${realm}"`,
  });
}

/** What policy lets the caller do of what it asked. Anonymous callers may only ever pull. */
async function grant(
  c: AppContext,
  config: AuthConfig,
  principal: Principal | null,
  scopes: Scope[],
): Promise<AccessEntry[]> {
  const repositoryScopes = scopes.filter((scope) => scope.type === "repository" && isValidRepositoryName(scope.name));
  const facts = await findRepositoryAccessFacts(c.get("db"), [...new Set(repositoryScopes.map((scope) => scope.name))]);
  const request = requestFacts(c.req.raw);
  const entries = new Map<string, AccessEntry>();
  for (const scope of repositoryScopes) {
    const repositoryFacts = facts.get(scope.name);
    const resource = await resourceFor(c, config, principal, scope.name, repositoryFacts);
    const wanted = new Set<AccessClass>(
      scope.actions.includes("*") ? ACCESS_CLASSES : ACCESS_CLASSES.filter((cls) => scope.actions.includes(cls)),
    );
    const entry = entries.get(scope.name) ?? { type: "repository", name: scope.name, actions: [] };
    for (const cls of wanted) {
      if (principal === null && cls !== "pull") continue;
      const actions = [...CLASS_ACTIONS[cls]];
      // Another account creates a missing repository only with ecr:CreateRepository (ECR's replication).
      if (cls === "push" && principal?.crossAccount === true && repositoryFacts === undefined)
        actions.push("ecr:CreateRepository");
      const allowed = actions.every((action) => authorize({ principal, action, resource, request }) === "Allow");
      if (allowed && !entry.actions.includes(cls)) entry.actions.push(cls);
    }
    entries.set(scope.name, entry);
  }
  for (const scope of scopes) {
    // The catalog is filtered per repository when listed; the scope itself is granted to all.
    if (scope.type === "registry" && scope.name === "catalog")
      entries.set("registry:catalog", { type: "registry", name: "catalog", actions: ["*"] });
  }
  return [...entries.values()];
}

async function tokenResponse(
  c: AppContext,
  config: AuthConfig,
  principal: Principal | null,
  scopes: Scope[],
  offline: boolean,
  accessKeyId: string | null,
) {
  c.set("caller", principal === null ? { kind: "anonymous" } : { kind: "principal", principal });
  const access = await grant(c, config, principal, scopes);
  const issued = await issueRegistryToken(config, {
    sub: principal?.arn ?? "",
    uid: principal?.userId ?? "",
    access,
    ...(principal === null || accessKeyId === null ? {} : { akid: accessKeyId }),
  });
  const body: Record<string, unknown> = {
    token: issued.token,
    access_token: issued.token,
    expires_in: REGISTRY_TOKEN_SECONDS,
    issued_at: issued.issuedAt.toISOString(),
    // What was granted (OAuth2 returns the granted scope).
    scope: access
      .filter((entry) => entry.actions.length > 0)
      .map((entry) => `${entry.type}:${entry.name}:${entry.actions.join(",")}`)
      .join(" "),
  };
  if (offline && principal) body.refresh_token = (await issueLoginToken(config, principal)).token;
  return c.json(body, 200, { "Cache-Control": "no-store" });
}

/** A user's credentials, checked under the failed-login throttles (429 when throttled). */
async function checkPassword(
  c: AppContext,
  config: AuthConfig,
  user: string,
  password: string,
): Promise<Principal | null> {
  const throttles = loginThrottles(c, user);
  const admitted = admitLogin(c.env, throttles, OciError.TOOMANYREQUESTS);
  const principal = await authenticateBasic(c.get("db"), config, user, password, admitted);
  if (!principal) await recordLoginFailure(c.env, throttles);
  return principal;
}

/** The scopes asked for, or a 400 `invalid_request` when there are too many. */
function requestedScopes(values: readonly string[]): Scope[] {
  const parsed = parseScopes(values);
  if ("refused" in parsed) throw new RegistryError(TokenError.INVALID_REQUEST, parsed.refused);
  return parsed.scopes;
}

function checkService(config: AuthConfig, service: string | undefined | null): void {
  if (service && service !== config.service) {
    throw new RegistryError(
      OciError.DENIED,
      `unknown service "${service}"; this registry's service is "${config.service}"`,
    );
  }
}

tokenRoutes.get("/token", async (c) => {
  const config = await authConfig(c.var.settings.auth);
  checkService(config, c.req.query("service"));
  const scopes = requestedScopes(c.req.queries("scope") ?? []);
  const header = c.req.header("Authorization");
  let principal: Principal | null = null;
  let accessKeyId: string | null = null;
  if (header) {
    const [scheme = "", value = ""] = header.split(/\s+/, 2);
    const credentials = scheme.toLowerCase() === "basic" ? decodeBasic(value) : null;
    principal = credentials ? await checkPassword(c, config, credentials.user, credentials.password) : null;
    accessKeyId = credentials ? keptAccessKeyId(credentials.user) : null;
    if (!principal) throw invalidCredentials(c);
  }
  return tokenResponse(c, config, principal, scopes, c.req.query("offline_token") === "true", accessKeyId);
});

tokenRoutes.post("/token", async (c) => {
  const config = await authConfig(c.var.settings.auth);
  const form = await c.req.parseBody();
  const field = (name: string): string | null => (typeof form[name] === "string" ? form[name] : null);
  checkService(config, field("service"));
  const scopes = requestedScopes(field("scope") ? [field("scope")!] : []);
  const grantType = field("grant_type");
  let principal: Principal | null;
  let accessKeyId: string | null = null;
  // Credentials in the form: a refusal is on the audit trail as one in a header would be.
  noteAudit(c, { credentialsPresented: true });
  if (grantType === "password") {
    const username = field("username") ?? "";
    accessKeyId = keptAccessKeyId(username);
    if (accessKeyId !== null) noteAudit(c, { accessKeyId });
    principal = await checkPassword(c, config, username, field("password") ?? "");
  } else if (grantType === "refresh_token") {
    const subject = await verifyLoginToken(config, field("refresh_token") ?? "");
    principal = subject === null ? null : await loadTokenPrincipal(c.get("db"), config, subject);
  } else {
    throw new RegistryError(TokenError.UNSUPPORTED_GRANT_TYPE, `unsupported grant_type "${grantType ?? ""}"`);
  }
  if (!principal) throw invalidCredentials(c);
  return tokenResponse(c, config, principal, scopes, field("access_type") === "offline", accessKeyId);
});

tokenRoutes.get("/.well-known/jwks.json", async (c) => {
  const config = await authConfig(c.var.settings.auth);
  return c.json(config.jwks, 200, { "Cache-Control": "public, max-age=300" });
});
