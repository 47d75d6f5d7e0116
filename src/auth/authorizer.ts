/**
 * Authorization of `/v2` callers. A bearer token is decided from its claims alone (no storage
 * read); Basic credentials are decided by the one authorization decision (./decision.ts) with
 * the ECR action of the operation. Anonymous callers are challenged.
 */
import type { AppContext } from "../app-env";
import { OciError, RegistryError } from "../errors";
import { findRegistryPolicy } from "../storage/registry-settings";
import { findRepositoryAccessFacts, type RepositoryAccessFacts } from "../storage/repository-records";
import { classesAllowing, challengeActions } from "./access";
import type { Principal } from "./caller";
import type { AuthConfig } from "./config";
import {
  authorize,
  explain,
  needsRegistryPolicy,
  repositoryResource,
  requestFacts,
  type AuthorizationRequest,
  type Resource,
} from "./decision";
import { loadTokenPrincipal, peerAccountOf, usernameFromArn } from "./principals";

export function challengeHeader(c: AppContext, config: AuthConfig, scope: string | null, error?: string): string {
  const origin = new URL(c.req.url).origin;
  let value = `Bearer realm="${origin}/token",service="${config.service}"`;
  if (scope) value += `,scope="${scope}"`;
  if (error) value += `,error="${error}"`;
  return value;
}

export function unauthorized(
  c: AppContext,
  config: AuthConfig,
  scope: string | null,
  message: string,
  error?: string,
): RegistryError {
  return new RegistryError(OciError.UNAUTHORIZED, message, null, {
    "WWW-Authenticate": challengeHeader(c, config, scope, error),
  });
}

export type AccessResult = "allow" | "deny" | "challenge";

/** May the caller perform `action` on repository `name`? */
export async function repositoryAccess(
  c: AppContext,
  config: AuthConfig,
  name: string,
  action: string,
): Promise<AccessResult> {
  const caller = c.get("caller");
  switch (caller.kind) {
    case "anonymous":
      return "challenge";
    case "token": {
      const entry = caller.access.find((e) => e.type === "repository" && e.name === name);
      if (!entry) return "challenge";
      const granted = classesAllowing(action).some((cls) => entry.actions.includes(cls) || entry.actions.includes("*"));
      if (granted) return "allow";
      // An anonymous token lacking the action: the client should log in and ask again.
      return caller.subject === "" ? "challenge" : "deny";
    }
    case "principal": {
      const principal = caller.principal;
      const facts = (await findRepositoryAccessFacts(c.get("db"), [name])).get(name);
      const resource = await resourceFor(c, config, principal, name, facts, action);
      const request = requestFacts(c.req.raw);
      const allowed = authorize({ principal, action, resource, request }) === "Allow";
      // Another account creates a missing repository only with ecr:CreateRepository (ECR's replication).
      const creates = principal.crossAccount === true && facts === undefined && action !== "ecr:CreateRepository";
      if (allowed && creates)
        return authorize({ principal, action: "ecr:CreateRepository", resource, request }) === "Allow"
          ? "allow"
          : "deny";
      return allowed ? "allow" : "deny";
    }
  }
}

/**
 * A repository as a resource; with the registry policy when the decision reads it (another
 * account's principal, or an action the registry policy scopes; `action` left out: whatever is asked).
 */
export async function resourceFor(
  c: AppContext,
  config: AuthConfig,
  principal: Principal | null,
  name: string,
  facts: RepositoryAccessFacts | undefined,
  action?: string,
): Promise<Resource> {
  const resource = repositoryResource(config, name, facts);
  const reads = action === undefined ? principal?.crossAccount === true : needsRegistryPolicy(principal, action);
  return reads ? { ...resource, registryPolicy: await findRegistryPolicy(c.get("db")) } : resource;
}

/**
 * True when the caller is another account (a replicating registry): with Basic credentials of a
 * peer account, or a token issued to one. Its pushes are replications, and replication is not
 * transitive, so they are not replicated further.
 */
export function callerIsCrossAccount(c: AppContext, config: AuthConfig): boolean {
  const caller = c.get("caller");
  if (caller.kind === "principal") return caller.principal.crossAccount === true;
  if (caller.kind !== "token") return false;
  const username = usernameFromArn(config, caller.subject);
  return username !== null && peerAccountOf(username) !== null;
}

/** Throws the spec's 401 (with the scope to ask for) or 403 unless the caller may act. */
export async function requireRepositoryAccess(
  c: AppContext,
  config: AuthConfig,
  name: string,
  action: string,
): Promise<void> {
  const result = await repositoryAccess(c, config, name, action);
  if (result === "allow") return;
  const scope = `repository:${name}:${challengeActions(action)}`;
  if (result === "challenge") {
    const caller = c.get("caller");
    throw unauthorized(
      c,
      config,
      scope,
      "authentication required",
      caller.kind === "token" ? "insufficient_scope" : undefined,
    );
  }
  const reason = await denialReason(c, config, name, action);
  throw new RegistryError(OciError.DENIED, `not allowed to perform ${action} on repository ${name}: ${reason}`, {
    action,
    repository: name,
    reason,
  });
}

/**
 * Why the caller may not act, for the 403 (./decision.ts explain). Only
 * denials pay for it: a token's user and the repository's policy are read again, and the
 * policies decide with this request's condition keys.
 */
async function denialReason(c: AppContext, config: AuthConfig, name: string, action: string): Promise<string> {
  const caller = c.get("caller");
  const db = c.get("db");
  let principal: Principal | null = null;
  if (caller.kind === "principal") principal = caller.principal;
  else if (caller.kind === "token") {
    principal = await loadTokenPrincipal(db, config, { arn: caller.subject, userId: caller.userId });
    if (principal === null) return "the token's user no longer exists";
  }
  const facts = (await findRepositoryAccessFacts(db, [name])).get(name);
  const question: AuthorizationRequest = {
    principal,
    action,
    resource: await resourceFor(c, config, principal, name, facts, action),
    request: requestFacts(c.req.raw),
  };
  if (authorize(question) === "Allow")
    return "the token does not grant it (policy allows it now: log in again for a new token)";
  return explain(question);
}
